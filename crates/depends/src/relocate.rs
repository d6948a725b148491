//! Cached builds are made for a fixed placeholder prefix and moved into
//! their real place (a sysroot or `depends/<host>/`) on extraction, so one
//! BASE_CACHE serves every clone and every path.
//!
//! Compiled code may embed the placeholder, but what consumers read to find
//! a package (pkg-config files, CMake package configs, libtool archives) is
//! text and is rewritten here.

use std::path::{Path, PathBuf};

/// The `--prefix` every package is configured with. Natives use
/// `<placeholder>/native`, so one rewrite serves both.
pub const PREFIX_PLACEHOLDER: &str = "/c1pzo-depends-prefix";

/// The prefix a package is configured and staged with.
pub fn configured_prefix(native: bool) -> String {
    if native {
        format!("{PREFIX_PLACEHOLDER}/native")
    } else {
        PREFIX_PLACEHOLDER.to_string()
    }
}

/// Whether a file is one that records install paths in text.
fn is_relocatable(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".pc") || name.ends_with(".cmake") || name.ends_with(".la")
}

/// Replaces the placeholder with `real_prefix` in every relocatable file of
/// `files` (paths relative to `root`). Returns how many files changed.
pub fn relocate(root: &Path, files: &[PathBuf], real_prefix: &Path) -> std::io::Result<usize> {
    let real = real_prefix.to_string_lossy();
    let mut changed = 0;
    for relative in files.iter().filter(|f| is_relocatable(f)) {
        let path = root.join(relative);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.contains(PREFIX_PLACEHOLDER) {
            std::fs::write(&path, text.replace(PREFIX_PLACEHOLDER, &real))?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_pkg_config_but_not_binaries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/pkgconfig")).unwrap();
        let pc = format!("prefix={PREFIX_PLACEHOLDER}\nlibdir=${{prefix}}/lib\n");
        std::fs::write(dir.path().join("lib/pkgconfig/foo.pc"), &pc).unwrap();
        std::fs::write(dir.path().join("lib/libfoo.a"), PREFIX_PLACEHOLDER).unwrap();
        let files = vec![
            PathBuf::from("lib/pkgconfig/foo.pc"),
            PathBuf::from("lib/libfoo.a"),
        ];
        let n = relocate(dir.path(), &files, Path::new("/real/place")).unwrap();
        assert_eq!(n, 1);
        let text = std::fs::read_to_string(dir.path().join("lib/pkgconfig/foo.pc")).unwrap();
        assert!(text.starts_with("prefix=/real/place\n"), "{text}");
        assert_eq!(
            std::fs::read(dir.path().join("lib/libfoo.a")).unwrap(),
            PREFIX_PLACEHOLDER.as_bytes()
        );
    }
}
