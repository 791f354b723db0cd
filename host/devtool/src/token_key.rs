//! The development token key: an Ed25519 key pair whose public half the
//! host reads as `development_token_public_key` (only with
//! `auth_mode=development`) and whose private half signs `credit-dev token`s.
//! Made once per state folder, so tokens printed earlier stay valid.

use std::path::Path;

use credit_core::auth::development::generate_key;

use crate::pem_files;

pub const TOKEN_KEY_FILE: &str = "development-token-key.pem";
pub const TOKEN_PUBLIC_KEY_FILE: &str = "development-token-public-key.pem";

/// Writes the development token key pair into `dir` unless both files are there; answers what
/// it did.
pub fn make_once(dir: &Path) -> Result<String, String> {
    let made = pem_files::make_once(dir, [TOKEN_KEY_FILE, TOKEN_PUBLIC_KEY_FILE], || {
        let key = generate_key().map_err(|e| format!("generating the token key: {e}"))?;
        Ok([key.private_key_pem, key.public_key_pem])
    })?;
    Ok(if made {
        format!(
            "development token key made in {} ({TOKEN_PUBLIC_KEY_FILE} is the host's development_token_public_key)",
            dir.display()
        )
    } else {
        format!("development token key kept in {}", dir.display())
    })
}
