//! The development tool's key files: written once per folder, readable by
//! the owner only (some hold private keys), and kept as they are afterwards
//! so that what was made with them (sealed reports, printed tokens) stays
//! valid.

use std::path::Path;

/// Writes the files `names` into `dir` with the contents `make` gives, in
/// the same order, unless every one of them is there already (then `make`
/// does not run). Whether it wrote them.
pub fn make_once<const N: usize>(
    dir: &Path,
    names: [&str; N],
    make: impl FnOnce() -> Result<[String; N], String>,
) -> Result<bool, String> {
    let paths = names.map(|name| dir.join(name));
    if paths.iter().all(|path| path.exists()) {
        return Ok(false);
    }
    let contents = make()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (path, text) in paths.iter().zip(contents) {
        write_private(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(true)
}

/// Readable by the owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}
