//! The Spin side of the core's ports, shared by every component.
//!
//! Components stay thin: they parse a request with these helpers, call
//! `credit_core`, and answer through [`respond`]. Nothing here holds state
//! between requests.

mod kv;

pub use kv::SpinStore;
