//! What a run reports: per package, and for `--json`.

use std::path::PathBuf;

use serde::Serialize;

use crate::install::Manifest;

/// How a package was obtained in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageStatus {
    /// Taken from BASE_CACHE.
    Cached,
    /// Built by this run.
    Built,
    /// Fetched from BASE_CACHE_URL (built by another machine or run) and
    /// put into BASE_CACHE.
    Downloaded,
}

impl PackageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Cached => "cached",
            PackageStatus::Built => "built",
            PackageStatus::Downloaded => "downloaded",
        }
    }
}

/// The result of one package in a run.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub package: String,
    pub version: String,
    pub native: bool,
    pub build_id: String,
    pub status: PackageStatus,
    pub seconds: f64,
    pub stages: Vec<(String, f64)>,
    pub tarball: PathBuf,
    pub sha256: String,
}

/// Everything `--json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub host: String,
    pub final_build_id: String,
    pub prefix: PathBuf,
    pub prefix_updated: bool,
    pub packages: Vec<PackageReport>,
    pub seconds: f64,
    pub manifest: Manifest,
}
