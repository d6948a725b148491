//! Where the suite's executables find one another: beside themselves (a
//! cargo output folder) or across an installed tree, where the ones users
//! run sit in `bin/` and the ones only other executables start sit in
//! `libexec/` (a release archive, as Bitcoin Core installs `bitcoin-node`).

use std::path::{Path, PathBuf};

/// The places `name` (without `.exe`) may be, for an executable in `dir`:
/// `dir` itself, then the installed tree's other folder.
pub fn candidates(dir: &Path, name: &str) -> Vec<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let mut places = vec![dir.join(&file)];
    let other = match dir.file_name().and_then(|n| n.to_str()) {
        Some("bin") => Some("libexec"),
        Some("libexec") => Some("bin"),
        _ => None,
    };
    if let (Some(other), Some(parent)) = (other, dir.parent()) {
        places.push(parent.join(other).join(&file));
    }
    places
}

/// The first of [`candidates`] that is a file, or every place looked in.
pub fn find(dir: &Path, name: &str) -> Result<PathBuf, Vec<PathBuf>> {
    let places = candidates(dir, name);
    match places.iter().find(|path| path.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(places),
    }
}

/// "a", "a and b", "a, b and c": the places in an error message.
pub fn describe(places: &[PathBuf]) -> String {
    let shown: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_tree_is_searched_across_bin_and_libexec() {
        let exe = std::env::consts::EXE_SUFFIX;
        let root = Path::new("/opt/c1pzo-1.0");
        assert_eq!(
            candidates(&root.join("libexec"), "c1pzo-wallet"),
            [
                root.join(format!("libexec/c1pzo-wallet{exe}")),
                root.join(format!("bin/c1pzo-wallet{exe}"))
            ]
        );
        assert_eq!(
            candidates(&root.join("bin"), "c1pzo-node"),
            [
                root.join(format!("bin/c1pzo-node{exe}")),
                root.join(format!("libexec/c1pzo-node{exe}"))
            ]
        );
        // A build folder: beside only.
        assert_eq!(candidates(Path::new("/w/target/debug"), "x").len(), 1);
    }

    #[test]
    fn the_first_existing_place_wins_and_a_miss_lists_them_all() {
        let root = tempfile::tempdir().unwrap();
        let (bin, libexec) = (root.path().join("bin"), root.path().join("libexec"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&libexec).unwrap();
        let file = format!("c1pzo-wallet{}", std::env::consts::EXE_SUFFIX);
        let missed = find(&libexec, "c1pzo-wallet").unwrap_err();
        assert_eq!(
            describe(&missed),
            format!(
                "{} and {}",
                libexec.join(&file).display(),
                bin.join(&file).display()
            )
        );
        std::fs::write(bin.join(&file), "").unwrap();
        assert_eq!(find(&libexec, "c1pzo-wallet").unwrap(), bin.join(&file));
    }
}
