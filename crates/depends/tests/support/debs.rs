//! Synthetic Debian packages, as `dpkg-deb --build` makes them: an `ar`
//! archive of `debian-binary`, `control.tar.xz` and `data.tar.xz` (paths
//! `./...`), served by the fixture's server as a Debian mirror, and a
//! `glibc_sysroot` recipe pinning them.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use super::packages::{sha256_hex, Fixture};

/// One entry of a package's files.
pub enum Item<'a> {
    File(&'a [u8]),
    /// A symlink to this target (absolute, as glibc's are, or relative).
    Link(&'a str),
}

/// A `.deb` holding `items` (paths without the leading `./`).
pub fn deb(items: &[(&str, Item)]) -> Vec<u8> {
    let mut data = Vec::new();
    {
        let xz = xz2::write::XzEncoder::new(&mut data, 6);
        let mut tar = tar::Builder::new(xz);
        for (path, item) in items {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_mtime(1_600_000_000);
            match item {
                Item::File(body) => {
                    header.set_size(body.len() as u64);
                    tar.append_data(&mut header, format!("./{path}"), *body)
                        .unwrap();
                }
                Item::Link(target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    tar.append_link(&mut header, format!("./{path}"), target)
                        .unwrap();
                }
            }
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let mut control = Vec::new();
    {
        let xz = xz2::write::XzEncoder::new(&mut control, 6);
        tar::Builder::new(xz)
            .into_inner()
            .unwrap()
            .finish()
            .unwrap();
    }
    let mut out = b"!<arch>\n".to_vec();
    for (name, body) in [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.xz", control),
        ("data.tar.xz", data),
    ] {
        let header = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            1_600_000_000,
            0,
            0,
            100644,
            body.len()
        );
        assert_eq!(header.len(), 60);
        out.extend(header.as_bytes());
        out.extend(&body);
        if body.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// A static library `lib<name>.a` with `int <name>_value(void) { return
/// <value>; }`, compiled by this machine's cc.
pub fn static_library(dir: &Path, name: &str, value: i32) -> Vec<u8> {
    let source = dir.join(format!("{name}.c"));
    std::fs::write(
        &source,
        format!("int {name}_value(void) {{ return {value}; }}\n"),
    )
    .unwrap();
    let object = dir.join(format!("{name}.o"));
    let archive = dir.join(format!("lib{name}.a"));
    for argv in [
        vec![
            "cc".to_string(),
            "-c".into(),
            source.display().to_string(),
            "-o".into(),
            object.display().to_string(),
        ],
        vec![
            "ar".to_string(),
            "rcs".into(),
            archive.display().to_string(),
            object.display().to_string(),
        ],
    ] {
        let status = Command::new(&argv[0]).args(&argv[1..]).status().unwrap();
        assert!(status.success(), "{argv:?}");
    }
    std::fs::read(archive).unwrap()
}

/// A `.deb` of a sysroot source, where the test mirror serves it.
pub struct ServedDeb {
    /// The recipe's `arch` for it (`x86_64`, `aarch64`).
    pub arch: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl ServedDeb {
    pub fn pool_path(&self) -> String {
        format!("pool/main/f/fake/{}", self.file_name)
    }
}

/// Serves `debs` under the fixture's test mirror (`debian/pool/...`) and
/// writes a `glibc_sysroot` recipe pinning each, staged as the shipped
/// recipe stages it.
pub fn add_sysroot(fx: &Fixture, debs: &[ServedDeb]) {
    let mut text = String::from("version = \"2.31\"\ndebian_suite = \"bullseye\"\n");
    for d in debs {
        fx.server
            .serve(&format!("debian/{}", d.pool_path()), d.bytes.clone());
        text.push_str(&format!(
            "\n[[source]]\narch = \"{}\"\nfile_name = \"{}\"\nsha256 = \"{}\"\nmirrors = [\"mirror://debian/{}\"]\n",
            d.arch,
            d.file_name,
            sha256_hex(&d.bytes),
            d.pool_path()
        ));
    }
    text.push_str(
        "\n[build]\nbuilder = \"steps\"\nremove = [\"sysroot/usr/share\"]\n\n[build.steps]\n\
         stage = [[\"mkdir\", \"-p\", \"{staging_dir}{prefix}\"], [\"cp\", \"-a\", \"{src_dir}\", \"{staging_dir}{prefix}/sysroot\"]]\n",
    );
    fx.write_recipe_text("glibc_sysroot", &text);
}
