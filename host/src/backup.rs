//! `credit-host backup`: an online copy of the SQLite key-value store, taken with SQLite's
//! backup API while a host keeps writing to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::manifest::{self, StoreBackend};

/// Pause between tries while a writer holds the lock, and how many tries (10 s in all).
const BUSY_PAUSE: Duration = Duration::from_millis(10);
const BUSY_TRIES: u32 = 1000;

/// What `credit-host backup` is given.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The state folder of the host whose store to copy (its `--state-dir`).
    #[arg(long, default_value = ".spin")]
    state_dir: PathBuf,
    /// The runtime-config file the host runs with, when it names the SQLite file.
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// The backup file to write; it must not exist yet.
    #[arg(long)]
    to: PathBuf,
}

/// Copies the `default` store's SQLite file to `args.to`. The copy is one consistent snapshot:
/// all pages are copied in one step, inside one read transaction, which in WAL mode never
/// blocks the host's writers (copying a few pages at a time would start over at every write).
/// It is written beside its destination and renamed into place, so a copy that failed halfway
/// never looks like a backup.
pub fn run(args: &BackupArgs) -> Result<()> {
    let stores = manifest::load_stores(args.runtime_config_file.as_deref(), &args.state_dir)?;
    let source = match stores.get("default") {
        Some(StoreBackend::Sqlite(path)) => path.clone(),
        Some(StoreBackend::Redis(_)) => bail!(
            "the default store is in Redis: back it up with Redis itself (BGSAVE, then copy the \
             RDB file; docs/operations.md, \"Backup and restore\")"
        ),
        None => bail!("no default store is configured"),
    };
    if !source.exists() {
        bail!("no store at {}", source.display());
    }
    if args.to.exists() {
        bail!("{} exists already: choose a new file", args.to.display());
    }
    let partial = partial_path(&args.to);
    let _ = std::fs::remove_file(&partial);
    let copied = copy(&source, &partial);
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let pages = copied?;
    std::fs::rename(&partial, &args.to)
        .with_context(|| format!("renaming {} to {}", partial.display(), args.to.display()))?;
    eprintln!(
        "credit-host: backed up {} to {} ({pages} pages)",
        source.display(),
        args.to.display()
    );
    Ok(())
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

fn copy(source: &Path, to: &Path) -> Result<i32> {
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", source.display()))?;
    // The host holds the write lock only for a commit's duration: wait that out.
    from.busy_timeout(Duration::from_secs(10))?;
    let mut dest = Connection::open(to).with_context(|| format!("creating {}", to.display()))?;
    {
        let backup = Backup::new(&from, &mut dest)?;
        // -1: every page in one step (rusqlite's run_to_completion takes only positive steps).
        let mut tries = 0;
        loop {
            match backup.step(-1).context("copying the store")? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked | StepResult::More if tries < BUSY_TRIES => {
                    tries += 1;
                    std::thread::sleep(BUSY_PAUSE);
                }
                other => bail!("the store stayed busy: {other:?}"),
            }
        }
    }
    let pages: i32 = dest.query_row("PRAGMA page_count", [], |row| row.get(0))?;
    let check: String = dest.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        bail!("the copy fails SQLite's integrity check: {check}");
    }
    dest.close().map_err(|(_, e)| e)?;
    Ok(pages)
}
