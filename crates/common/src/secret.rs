//! Secret files: the RPC `.cookie` and the IPC `.ipccookie`. Both are
//! random hex written so that no other user can read them and no reader
//! ever sees half a file.

use std::io::Write;
use std::path::Path;

/// `bytes` random bytes from the kernel, as lowercase hex.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    Ok(random_bytes(bytes)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `bytes` random bytes from the operating system's generator.
pub fn random_bytes(bytes: usize) -> std::io::Result<Vec<u8>> {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).map_err(std::io::Error::other)?;
    Ok(random)
}

/// Writes `contents` to `path`, readable by this user only: created beside
/// it under a temporary name, private from the start
/// ([`crate::platform::create_new_private`]), and renamed into place.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.tmp", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    // A leftover from a run that died here would keep its permissions.
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = crate::platform::create_new_private(&partial)?;
    file.write_all(contents.as_bytes())?;
    drop(file);
    std::fs::rename(&partial, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cookie");
        let secret = random_hex(32).unwrap();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, random_hex(32).unwrap());
        write_private(&path, &secret).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
        assert!(crate::platform::is_private(&path).unwrap());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [".cookie"], "no temporary file is left");
    }
}
