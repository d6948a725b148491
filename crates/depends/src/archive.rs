//! Tarballs in and out: extracting source archives (top folder stripped,
//! or a Debian package as the root it describes), packing a staged prefix
//! into a byte-for-byte reproducible tarball, and unpacking cached builds
//! into sysroots and prefixes.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};

/// Every file in a cached build gets this mtime: 2000-01-01 12:00 UTC, the
/// same instant upstream's `TOUCH` uses.
pub const FIXED_MTIME: u64 = 946_728_000;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{archive}: unsupported archive type (expected .tar.gz, .tgz, .tar.xz, .tar or .deb)")]
    UnsupportedFormat { archive: PathBuf },
    #[error("{archive}: not a Debian package: {reason}")]
    BadDeb { archive: PathBuf, reason: String },
    #[error("{archive}: entry `{entry}` would land outside the extraction folder")]
    UnsafePath { archive: PathBuf, entry: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn open_decompressed(archive: &Path) -> Result<Box<dyn Read>, ArchiveError> {
    let name = archive.to_string_lossy();
    let open = || File::open(archive).map(BufReader::new).map_err(io(archive));
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Ok(Box::new(GzDecoder::new(open()?)))
    } else if name.ends_with(".tar.xz") {
        Ok(Box::new(xz2::read::XzDecoder::new(open()?)))
    } else if name.ends_with(".tar") {
        Ok(Box::new(open()?))
    } else {
        Err(ArchiveError::UnsupportedFormat {
            archive: archive.to_path_buf(),
        })
    }
}

/// A relative path with its first component removed, or `None` for the top
/// folder itself. Rejects absolute paths and `..`.
fn strip_top(archive: &Path, path: &Path) -> Result<Option<PathBuf>, ArchiveError> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            _ => {
                return Err(ArchiveError::UnsafePath {
                    archive: archive.to_path_buf(),
                    entry: path.display().to_string(),
                })
            }
        }
    }
    Ok((parts.len() > 1).then(|| parts[1..].iter().collect()))
}

/// Whether a symlink at `at` (relative to the extraction root) pointing to
/// `link` resolves inside the root.
fn link_stays_inside(at: &Path, link: &Path) -> bool {
    if link.is_absolute() {
        return false;
    }
    let mut depth: usize = at.components().count().saturating_sub(1);
    for component in link.components() {
        match component {
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    true
}

/// Extracts a source archive into `dest`, dropping the top folder as
/// `tar --strip-components=1` does, without taking owners from the archive.
pub fn extract_source(archive: &Path, dest: &Path) -> Result<(), ArchiveError> {
    if archive.extension() == Some(OsStr::new("deb")) {
        return extract_deb(archive, dest);
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let mut tar = tar::Archive::new(open_decompressed(archive)?);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    for entry in tar.entries().map_err(io(archive))? {
        let mut entry = entry.map_err(io(archive))?;
        let path = entry.path().map_err(io(archive))?.into_owned();
        let Some(relative) = strip_top(archive, &path)? else {
            continue;
        };
        let target = dest.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        if entry.header().entry_type().is_hard_link() {
            // A hard link names its target by archive path, which still
            // carries the top folder: resolve it ourselves and copy.
            let link = entry.link_name().map_err(io(archive))?.unwrap_or_default();
            let Some(source) = strip_top(archive, &link)? else {
                continue;
            };
            std::fs::copy(dest.join(source), &target).map_err(io(&target))?;
            continue;
        }
        if entry.header().entry_type().is_symlink() {
            let link = entry.link_name().map_err(io(archive))?.unwrap_or_default();
            if !link_stays_inside(&relative, &link) {
                // A later entry written through this link would land
                // outside `dest`.
                return Err(ArchiveError::UnsafePath {
                    archive: archive.to_path_buf(),
                    entry: format!("{} -> {}", path.display(), link.display()),
                });
            }
        }
        entry.unpack(&target).map_err(io(&target))?;
    }
    Ok(())
}

/// Unpacks a Debian binary package's files (its `data.tar.*`) into `dest`
/// as the root filesystem they describe, merging with what is there (the
/// several `.deb`s of a sysroot go into one folder). `dpkg-deb -x` would
/// do the same, but for one thing done here: the package's absolute
/// symlinks (glibc's `usr/lib/<triple>/libm.so -> /lib/<triple>/libm.so.6`,
/// `lib64/ld-linux-x86-64.so.2`) name files of the machine it is installed
/// on; made relative, they name the files under `dest` and keep doing so
/// wherever `dest` is moved or unpacked. A compiler given `--sysroot`
/// follows symlinks through the kernel, which would otherwise resolve them
/// on the build machine. The lexical rewrite assumes no directory on the way
/// is itself a symlink, which holds for Debian 11 (not merged-/usr).
pub fn extract_deb(deb: &Path, dest: &Path) -> Result<(), ArchiveError> {
    let bad = |reason: String| ArchiveError::BadDeb {
        archive: deb.to_path_buf(),
        reason,
    };
    // A .deb is a few MB: read whole, then find the member.
    let bytes = std::fs::read(deb).map_err(io(deb))?;
    let (name, data) = ar_members(&bytes)
        .map_err(bad)?
        .into_iter()
        .find(|(name, _)| name.starts_with("data.tar"))
        .ok_or_else(|| bad("no data.tar member".into()))?;
    let reader: Box<dyn Read + '_> = match name.as_str() {
        "data.tar.xz" => Box::new(xz2::read::XzDecoder::new(data)),
        "data.tar.gz" => Box::new(GzDecoder::new(data)),
        "data.tar" => Box::new(data),
        other => {
            return Err(bad(format!(
                "`{other}` is compressed in a way this engine does not read"
            )))
        }
    };
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.set_overwrite(true);
    for entry in tar.entries().map_err(io(deb))? {
        let mut entry = entry.map_err(io(deb))?;
        let path = entry.path().map_err(io(deb))?.into_owned();
        let relative = root_relative(deb, &path)?;
        if relative.as_os_str().is_empty() {
            continue; // `./` itself
        }
        let target = dest.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            let link = entry
                .link_name()
                .map_err(io(deb))?
                .unwrap_or_default()
                .into_owned();
            let link = if link.is_absolute() {
                relative_link(&relative, &link)
            } else {
                link
            };
            if !link_stays_inside(&relative, &link) {
                return Err(ArchiveError::UnsafePath {
                    archive: deb.to_path_buf(),
                    entry: format!("{} -> {}", path.display(), link.display()),
                });
            }
            // Another package of the same root may have put something here.
            let cleared = match std::fs::symlink_metadata(&target) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&target),
                Ok(_) => std::fs::remove_file(&target),
                Err(_) => Ok(()),
            };
            cleared.map_err(io(&target))?;
            make_symlink(&link, &target).map_err(io(&target))?;
        } else if kind.is_hard_link() {
            // Named by its path in the package: copy from where it landed.
            let link = entry
                .link_name()
                .map_err(io(deb))?
                .unwrap_or_default()
                .into_owned();
            let source = dest.join(root_relative(deb, &link)?);
            std::fs::copy(&source, &target).map_err(io(&target))?;
        } else if kind.is_dir() || kind.is_file() {
            entry.unpack(&target).map_err(io(&target))?;
        }
        // Devices and fifos have no place in a sysroot: skipped.
    }
    Ok(())
}

/// The members of an `ar` archive (the .deb container): name and bytes.
fn ar_members(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    let mut rest = bytes
        .strip_prefix(b"!<arch>\n")
        .ok_or("no `!<arch>` header")?;
    let mut members = Vec::new();
    while rest.len() >= 60 {
        let (header, after) = rest.split_at(60);
        if &header[58..60] != b"`\n" {
            return Err("damaged member header".into());
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&header[range]).trim().to_string()
        };
        let name = field(0..16).trim_end_matches('/').to_string();
        let size: usize = field(48..58)
            .parse()
            .map_err(|_| format!("member `{name}`: bad size"))?;
        if after.len() < size {
            return Err(format!("member `{name}` is cut short"));
        }
        members.push((name, &after[..size]));
        // Members start on even offsets.
        let next = (size + size % 2).min(after.len());
        rest = &after[next..];
    }
    Ok(members)
}

/// A path inside a package (`./usr/lib/x.so`) relative to its root, with
/// `.` dropped; `..` or an absolute path is refused.
fn root_relative(archive: &Path, path: &Path) -> Result<PathBuf, ArchiveError> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => {
                return Err(ArchiveError::UnsafePath {
                    archive: archive.to_path_buf(),
                    entry: path.display().to_string(),
                })
            }
        }
    }
    Ok(out)
}

/// The absolute link `target` of the entry at `at` (both as the package's
/// root sees them), as a path relative to `at`'s folder:
/// `usr/lib/x/libm.so`, `/lib/x/libm.so.6` gives `../../../lib/x/libm.so.6`.
/// `..` above the root stays at the root, as the kernel resolves it.
fn relative_link(at: &Path, target: &Path) -> PathBuf {
    let mut to: Vec<&OsStr> = Vec::new();
    for component in target.components() {
        match component {
            Component::Normal(part) => to.push(part),
            Component::ParentDir => {
                to.pop();
            }
            _ => {}
        }
    }
    let from: Vec<&OsStr> = at
        .parent()
        .map(|dir| {
            dir.components()
                .filter_map(|c| match c {
                    Component::Normal(part) => Some(part),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(unix)]
fn make_symlink(link: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(link, at)
}

#[cfg(not(unix))]
fn make_symlink(_link: &Path, at: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(format!(
        "{}: symlinks of Debian packages need a unix build machine",
        at.display()
    )))
}

/// Packs the tree under `root` into a gzip tarball at `out`: entries sorted
/// bytewise, every mtime [`FIXED_MTIME`], owner 0:0 without names, modes
/// reduced to 0755/0644, and a gzip header with no name and no time. The
/// same tree gives the same bytes on every machine.
pub fn pack_deterministic(root: &Path, out: &Path) -> Result<(), ArchiveError> {
    let mut paths = Vec::new();
    collect(root, Path::new(""), &mut paths)?;
    paths.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });

    let file = File::create(out).map_err(io(out))?;
    let gz = GzBuilder::new()
        .mtime(0)
        .write(BufWriter::new(file), Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    for relative in &paths {
        let full = root.join(relative);
        let meta = std::fs::symlink_metadata(&full).map_err(io(&full))?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("").map_err(io(&full))?;
        header.set_groupname("").map_err(io(&full))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full).map_err(io(&full))?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, relative, &target)
                .map_err(io(&full))?;
        } else if meta.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            tar.append_data(&mut header, relative, std::io::empty())
                .map_err(io(&full))?;
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if is_executable(&meta) { 0o755 } else { 0o644 });
            header.set_size(meta.len());
            let data = File::open(&full).map_err(io(&full))?;
            tar.append_data(&mut header, relative, BufReader::new(data))
                .map_err(io(&full))?;
        }
    }
    let gz = tar.into_inner().map_err(io(out))?;
    let mut writer = gz.finish().map_err(io(out))?;
    writer.flush().map_err(io(out))?;
    let file = writer.into_inner().map_err(|e| ArchiveError::Io {
        path: out.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(out))?;
    Ok(())
}

fn collect(root: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<(), ArchiveError> {
    let dir = root.join(relative);
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        let child = relative.join(entry.file_name());
        let is_dir = entry.file_type().map_err(io(&dir))?.is_dir();
        out.push(child.clone());
        if is_dir {
            collect(root, &child, out)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// Reads a cached build's `.tar.gz` to its end without writing anything:
/// decompresses every entry and rejects paths that would leave the folder
/// it is unpacked into. For tarballs from elsewhere (the remote cache), so
/// one that is not a tarball at all never enters BASE_CACHE. Any file name
/// will do: the download is still under its temporary one.
pub fn check_readable(tarball: &Path) -> Result<(), ArchiveError> {
    let file = File::open(tarball).map_err(io(tarball))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    for entry in tar.entries().map_err(io(tarball))? {
        let mut entry = entry.map_err(io(tarball))?;
        let path = entry.path().map_err(io(tarball))?.into_owned();
        let escapes = path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
        if escapes {
            return Err(ArchiveError::UnsafePath {
                archive: tarball.to_path_buf(),
                entry: path.display().to_string(),
            });
        }
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(io(tarball))?;
    }
    Ok(())
}

/// Unpacks a cached build (no top folder) into `dest`, merging with what is
/// there. Returns the relative paths of the regular files written.
pub fn unpack(tarball: &Path, dest: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let mut tar = tar::Archive::new(open_decompressed(tarball)?);
    tar.set_preserve_permissions(true);
    tar.set_overwrite(true);
    let mut files = Vec::new();
    for entry in tar.entries().map_err(io(tarball))? {
        let mut entry = entry.map_err(io(tarball))?;
        let path = entry.path().map_err(io(tarball))?.into_owned();
        if entry.header().entry_type().is_file() {
            files.push(path.clone());
        }
        let unpacked = entry.unpack_in(dest).map_err(io(dest))?;
        if !unpacked {
            return Err(ArchiveError::UnsafePath {
                archive: tarball.to_path_buf(),
                entry: path.display().to_string(),
            });
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) {
        std::fs::create_dir_all(root.join("lib/pkgconfig")).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("lib/libfoo.a"), b"archive").unwrap();
        std::fs::write(root.join("lib/pkgconfig/foo.pc"), b"prefix=/x\n").unwrap();
        std::fs::write(root.join("bin/foo"), b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("bin/foo"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
            std::os::unix::fs::symlink("libfoo.a", root.join("lib/libfoo2.a")).unwrap();
        }
    }

    #[test]
    fn packing_is_reproducible_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        tree(&a);
        tree(&b);
        // Different mtimes must not matter.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(b.join("lib/libfoo.a"), b"archive").unwrap();
        pack_deterministic(&a, &dir.path().join("a.tar.gz")).unwrap();
        pack_deterministic(&b, &dir.path().join("b.tar.gz")).unwrap();
        let bytes_a = std::fs::read(dir.path().join("a.tar.gz")).unwrap();
        assert_eq!(bytes_a, std::fs::read(dir.path().join("b.tar.gz")).unwrap());
        // gzip header: no mtime (bytes 4..8) and no FNAME flag.
        assert_eq!(&bytes_a[4..8], &[0, 0, 0, 0]);
        assert_eq!(bytes_a[3] & 0x08, 0);

        let out = dir.path().join("out");
        let files = unpack(&dir.path().join("a.tar.gz"), &out).unwrap();
        assert!(files.contains(&PathBuf::from("lib/pkgconfig/foo.pc")));
        assert_eq!(std::fs::read(out.join("lib/libfoo.a")).unwrap(), b"archive");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("bin/foo"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755);
            assert_eq!(
                std::fs::read_link(out.join("lib/libfoo2.a")).unwrap(),
                Path::new("libfoo.a")
            );
        }
    }

    #[test]
    fn source_extraction_strips_the_top_folder_and_rejects_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("foo-1.0/sub")).unwrap();
        std::fs::write(src.join("foo-1.0/sub/a.c"), b"int a;").unwrap();
        let archive = dir.path().join("foo-1.0.tar.gz");
        {
            let gz = GzBuilder::new().write(File::create(&archive).unwrap(), Compression::fast());
            let mut tar = tar::Builder::new(gz);
            tar.append_dir_all("foo-1.0", src.join("foo-1.0")).unwrap();
            tar.into_inner().unwrap().finish().unwrap();
        }
        let dest = dir.path().join("x");
        extract_source(&archive, &dest).unwrap();
        assert_eq!(std::fs::read(dest.join("sub/a.c")).unwrap(), b"int a;");

        let evil = dir.path().join("evil.tar");
        {
            let mut tar = tar::Builder::new(File::create(&evil).unwrap());
            let mut header = tar::Header::new_gnu();
            header.set_size(1);
            header.set_mode(0o644);
            // `append_data` refuses `..`, so write the name bytes directly.
            header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"top/../../x.c");
            header.set_cksum();
            tar.append(&header, &b"x"[..]).unwrap();
            tar.finish().unwrap();
        }
        let err = extract_source(&evil, &dir.path().join("y"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the extraction folder"), "{err}");
    }

    #[test]
    fn links_must_stay_inside_the_tree() {
        assert!(link_stays_inside(
            Path::new("lib/libfoo.so"),
            Path::new("libfoo.so.1")
        ));
        assert!(link_stays_inside(Path::new("a/b/c"), Path::new("../../x")));
        assert!(!link_stays_inside(Path::new("a/b"), Path::new("../../x")));
        assert!(!link_stays_inside(Path::new("a"), Path::new("/etc")));
    }

    /// A .deb as dpkg-deb builds one: ar with debian-binary, control.tar.xz
    /// and data.tar.xz (paths `./...`).
    fn deb(entries: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut data = Vec::new();
        {
            let xz = xz2::write::XzEncoder::new(&mut data, 6);
            let mut tar = tar::Builder::new(xz);
            for (path, link, body) in entries {
                let mut header = tar::Header::new_gnu();
                header.set_mode(0o644);
                match link {
                    Some(target) => {
                        header.set_entry_type(tar::EntryType::Symlink);
                        header.set_size(0);
                        tar.append_link(&mut header, format!("./{path}"), target)
                            .unwrap();
                    }
                    None => {
                        header.set_size(body.len() as u64);
                        tar.append_data(&mut header, format!("./{path}"), *body)
                            .unwrap();
                    }
                }
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        let mut out = b"!<arch>\n".to_vec();
        for (name, body) in [
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.xz", Vec::new()),
            ("data.tar.xz", data),
        ] {
            out.extend(
                format!(
                    "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    0,
                    0,
                    0,
                    100644,
                    body.len()
                )
                .as_bytes(),
            );
            out.extend(&body);
            if body.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    #[cfg(unix)]
    #[test]
    fn a_deb_unpacks_as_a_root_with_its_absolute_links_made_relative() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libc6_2.31_amd64.deb");
        std::fs::write(
            &path,
            deb(&[
                ("lib/x86_64-linux-gnu/libm.so.6", None, b"elf"),
                (
                    "usr/lib/x86_64-linux-gnu/libm.so",
                    Some("/lib/x86_64-linux-gnu/libm.so.6"),
                    b"",
                ),
                (
                    "lib64/ld-linux-x86-64.so.2",
                    Some("/lib/x86_64-linux-gnu/ld-2.31.so"),
                    b"",
                ),
                (
                    "usr/lib/x86_64-linux-gnu/libc.so",
                    None,
                    b"GROUP ( /lib/x86_64-linux-gnu/libc.so.6 )",
                ),
                (
                    "usr/lib/gcc/x86_64-linux-gnu/10/libgcc_s.so",
                    Some("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                    b"",
                ),
                (
                    "usr/lib/odd",
                    Some("/../../lib/x86_64-linux-gnu/libm.so.6"),
                    b"",
                ),
            ]),
        )
        .unwrap();
        let root = dir.path().join("sysroot");
        extract_source(&path, &root).unwrap();
        let link = |p: &str| std::fs::read_link(root.join(p)).unwrap();
        assert_eq!(
            link("usr/lib/x86_64-linux-gnu/libm.so"),
            Path::new("../../../lib/x86_64-linux-gnu/libm.so.6")
        );
        assert_eq!(
            std::fs::read(root.join("usr/lib/x86_64-linux-gnu/libm.so")).unwrap(),
            b"elf"
        );
        assert_eq!(
            link("lib64/ld-linux-x86-64.so.2"),
            Path::new("../lib/x86_64-linux-gnu/ld-2.31.so")
        );
        assert_eq!(
            link("usr/lib/gcc/x86_64-linux-gnu/10/libgcc_s.so"),
            Path::new("../../../../../lib/x86_64-linux-gnu/libgcc_s.so.1")
        );
        // `..` above the root stays at the root.
        assert_eq!(
            link("usr/lib/odd"),
            Path::new("../../lib/x86_64-linux-gnu/libm.so.6")
        );
        // Text is left alone: ld reads the script's absolute paths under --sysroot.
        assert!(
            std::fs::read_to_string(root.join("usr/lib/x86_64-linux-gnu/libc.so"))
                .unwrap()
                .contains("GROUP ( /lib/")
        );
        // A second package merges into the same root.
        let second = dir.path().join("libgcc-s1_10_amd64.deb");
        std::fs::write(
            &second,
            deb(&[("lib/x86_64-linux-gnu/libgcc_s.so.1", None, b"gcc")]),
        )
        .unwrap();
        extract_source(&second, &root).unwrap();
        assert_eq!(
            std::fs::read(root.join("usr/lib/gcc/x86_64-linux-gnu/10/libgcc_s.so")).unwrap(),
            b"gcc"
        );
        assert!(root.join("usr/lib/x86_64-linux-gnu/libm.so").exists());
    }

    #[test]
    fn a_deb_with_an_escaping_relative_link_or_no_data_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let evil = dir.path().join("evil_1_amd64.deb");
        std::fs::write(&evil, deb(&[("usr/x", Some("../../etc/passwd"), b"")])).unwrap();
        let err = extract_source(&evil, &dir.path().join("a"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the extraction folder"), "{err}");
        let junk = dir.path().join("junk_1_amd64.deb");
        std::fs::write(&junk, b"<html>404</html>").unwrap();
        let err = extract_source(&junk, &dir.path().join("b"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a Debian package: no `!<arch>` header"),
            "{err}"
        );
    }

    #[test]
    fn unknown_archive_type_is_an_error() {
        let err = extract_source(Path::new("foo.zip"), Path::new("/tmp/none")).unwrap_err();
        assert!(
            err.to_string().contains("unsupported archive type"),
            "{err}"
        );
    }
}
