//! The SHA-256 of a file, in lowercase hex: what the archive's manifest and
//! a backup's `.sha256` file record, and what verifying them compares.

use std::path::Path;

use sha2::{Digest, Sha256};

pub(crate) fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
