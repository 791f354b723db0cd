//! Core of the dedicated credit report service (专用信用报告).
//!
//! Pure domain logic: no I/O and no spin-sdk. Components parse a request, call
//! into this crate, and write the response; persistence goes through the
//! [`kv::KeyValue`] port.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod catalog_document;
pub mod client;
pub mod codes;
pub mod config;
pub mod dispute;
pub mod error;
pub mod inspect;
pub mod kv;
pub mod money;
pub mod paging;
pub mod pdf;
pub mod record;
pub mod report;
pub mod rules;
pub mod stats;
pub mod store;
pub mod subscription;
pub mod text;
pub mod upload;
pub mod uscc;
pub mod usecase;
pub mod vocabulary;
pub mod window;
