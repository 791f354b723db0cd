//! Compiled components kept between starts, in a folder only this user can reach.
//!
//! A cached artifact is native code the host maps and runs, so whoever can write the folder can
//! run code as the host. The folder is therefore private (mode 0700, owned by this user, not a
//! symbolic link), files are created exclusively (mode 0600, never through a link) and renamed
//! into place, and only regular files owned by this user are loaded. A folder that fails these
//! checks is not used: the host compiles at every start instead, and says so.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct ModuleCache {
    /// `None`: the folder is not safe to use, nothing is cached.
    dir: Option<PathBuf>,
}

impl ModuleCache {
    /// The cache in `dir`, created if missing.
    pub fn open(dir: &Path) -> Self {
        match private_folder(dir) {
            Ok(()) => ModuleCache {
                dir: Some(dir.to_owned()),
            },
            Err(e) => {
                eprintln!(
                    "credit-host: not caching compiled components in {}: {e:#}",
                    dir.display()
                );
                ModuleCache { dir: None }
            }
        }
    }

    /// The component compiled earlier under `name`, if there is a trustworthy one.
    pub fn load(&self, engine: &Engine, name: &str) -> Option<Component> {
        let path = self.dir.as_ref()?.join(name);
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != effective_uid() || meta.mode() & 0o022 != 0 {
            eprintln!(
                "credit-host: ignoring {}: not a private file of this user",
                path.display()
            );
            return None;
        }
        // SAFETY: the file is this user's own, in this user's private folder, written by
        // `Component::serialize` of the same engine configuration (the name covers the
        // engine's compatibility hash) and never modified in place (written whole under
        // another name, then renamed), so mapping it is safe; wasmtime still checks its
        // header and version.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    /// Keeps a compiled component under `name`. The cache only saves time: failing to write
    /// it is not an error.
    pub fn store(&self, name: &str, bytes: &[u8]) {
        let Some(dir) = &self.dir else {
            return;
        };
        let tmp = dir.join(format!(
            "{name}.{}.{}.tmp",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .and_then(|mut file: File| file.write_all(bytes));
        // rename replaces a link at the final name instead of following it.
        if written
            .and_then(|()| fs::rename(&tmp, dir.join(name)))
            .is_err()
        {
            let _ = fs::remove_file(&tmp);
        }
    }
}

/// Makes `dir` a folder of this user's that nobody else can enter, or says why it is not.
fn private_folder(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let meta = fs::symlink_metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if meta.file_type().is_symlink() {
        bail!("it is a symbolic link");
    }
    if !meta.is_dir() {
        bail!("it is not a folder");
    }
    if meta.uid() != effective_uid() {
        bail!("it belongs to another user (uid {})", meta.uid());
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, Permissions::from_mode(0o700))
            .context("making it private (mode 0700)")?;
    }
    Ok(())
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "credit-host-cache-test-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_new_folder_is_private_and_files_are_written_0600() {
        let root = scratch("new");
        let cache = ModuleCache::open(&root.join("cache"));
        let mode = fs::metadata(root.join("cache")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        cache.store("a.cwasm", b"bytes");
        let mode = fs::metadata(root.join("cache/a.cwasm")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_open_folder_is_made_private_and_a_link_is_not_used() {
        let root = scratch("links");
        let open = root.join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, Permissions::from_mode(0o777)).unwrap();
        assert!(ModuleCache::open(&open).dir.is_some());
        assert_eq!(fs::metadata(&open).unwrap().mode() & 0o777, 0o700);

        let elsewhere = root.join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("link")).unwrap();
        let linked = ModuleCache::open(&root.join("link"));
        assert!(linked.dir.is_none());
        linked.store("a.cwasm", b"bytes");
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
        fs::remove_dir_all(root).unwrap();
    }
}
