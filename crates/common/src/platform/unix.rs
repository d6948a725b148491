//! The unix side: `$HOME/.c1pzo`, and files created with mode 0600.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// `$HOME/.c1pzo` (Core: `~/.bitcoin`), or `/.c1pzo` when `$HOME` is unset
/// or empty; `env` reads the environment.
pub fn default_datadir_in(env: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    const NAME: &str = ".c1pzo";
    match env("HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home).join(NAME),
        _ => Path::new("/").join(NAME),
    }
}

/// Creates `path` for writing, readable and writable by its owner only
/// from the first byte (mode 0600). A file already there is an
/// `AlreadyExists` error, never opened: its permissions would be kept.
pub fn create_new_private(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Whether `path` is as [`create_new_private`] makes it (mode 0600).
pub fn is_private(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777 == 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_datadir_is_dot_c1pzo_in_home() {
        let home = |value: &'static str| move |key: &str| (key == "HOME").then(|| value.into());
        assert_eq!(
            default_datadir_in(&home("/home/u")),
            Path::new("/home/u/.c1pzo")
        );
        assert_eq!(default_datadir_in(&home("")), Path::new("/.c1pzo"));
        assert_eq!(default_datadir_in(&|_| None), Path::new("/.c1pzo"));
    }
}
