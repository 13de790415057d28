//! The data directory holds the SQLite database (password hashes, sealed signing keys), the
//! local objects, the development TLS key and mail: it is the server's alone. Everything the
//! process creates is private whatever the umask it was started with (`restrict_umask`, first
//! thing in `main`), and a directory left readable by an older version is closed at start-up
//! (`secure`).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Files 0600 and directories 0700 for everything this process creates from now on: the
/// SQLite file and its `-wal`/`-shm`, local objects and their staging files, `.eml` mail, the
/// development certificate. One call in `main`, before any thread or file exists.
pub fn restrict_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Closes an existing data directory to everyone but its owner. When the directory itself is
/// open to group or others (a directory made by an older version, or by hand), every entry
/// below it is closed too, once; when it is already private, nothing below can be reached by
/// anyone else, so nothing below is walked (a local object store may hold many files).
pub fn secure(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(dir) else {
            return Ok(()); // created later, under the umask
        };
        if meta.permissions().mode() & 0o077 == 0 {
            return Ok(());
        }
        let closed = close_tree(dir)
            .with_context(|| format!("cannot make data directory {} private", dir.display()))?;
        tracing::warn!(
            dir = %dir.display(),
            entries = closed,
            "the data directory was readable by others: now 0700, its files 0600"
        );
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes group and other permissions from `path` and, for a directory, everything below it
/// (symbolic links are left alone: they are not followed). Returns how many entries changed.
#[cfg(unix)]
fn close_tree(path: &Path) -> std::io::Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(0);
    }
    let mut changed = 0;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        changed += 1;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            changed += close_tree(&entry?.path())?;
        }
    }
    Ok(changed)
}

/// Writes a private file (0600) whole, through a temporary file renamed into place, so an
/// interrupted write leaves either nothing or the complete file. With `exclusive`, an existing
/// file is an error rather than replaced.
pub fn write_private(path: &Path, bytes: &[u8], exclusive: bool) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    if exclusive {
        // A hard link fails when the name exists; then the temporary file goes away.
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        linked.with_context(|| format!("cannot create {}", path.display()))?;
    } else {
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn an_open_data_directory_is_closed_with_everything_below() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("data");
        std::fs::create_dir_all(dir.join("tls")).unwrap();
        std::fs::write(dir.join("extranet.db"), b"x").unwrap();
        std::fs::write(dir.join("tls/dev-key.pem"), b"k").unwrap();
        for p in [&dir, &dir.join("tls")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for p in [dir.join("extranet.db"), dir.join("tls/dev-key.pem")] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        secure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("tls")), 0o700);
        assert_eq!(mode(&dir.join("extranet.db")), 0o600);
        assert_eq!(mode(&dir.join("tls/dev-key.pem")), 0o600);
        // A missing directory is fine: it is created later, under the umask.
        secure(&t.path().join("absent")).unwrap();
    }

    #[test]
    fn private_files_are_0600_and_exclusive_ones_never_replaced() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("sub/key");
        write_private(&p, b"one", true).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert!(write_private(&p, b"two", true).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        assert!(!p.with_extension("tmp").exists());
        write_private(&p, b"three", false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
    }
}
