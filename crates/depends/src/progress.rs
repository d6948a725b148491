//! What the user sees while a run works: one line per package with its
//! stage (indicatif bars on a terminal, plain lines otherwise).

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::fetch::FetchObserver;

/// The pipeline of one package, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Fetch,
    Wait,
    Sysroot,
    Extract,
    Patch,
    Configure,
    Build,
    Stage,
    Postprocess,
    Cache,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Fetch => "fetch",
            Stage::Wait => "wait for dependencies",
            Stage::Sysroot => "sysroot",
            Stage::Extract => "extract",
            Stage::Patch => "patch",
            Stage::Configure => "configure",
            Stage::Build => "build",
            Stage::Stage => "stage",
            Stage::Postprocess => "postprocess",
            Stage::Cache => "cache",
        })
    }
}

/// Receives progress from the engine. Implementations must be cheap: they
/// are called from build threads.
pub trait Reporter: Sync {
    fn stage(&self, package: &str, stage: Stage);
    /// Something the user should read: a retry, a rebuild reason, a command
    /// under `V=1`.
    fn note(&self, package: &str, message: &str);
    fn download(&self, _package: &str, _done: u64, _total: Option<u64>) {}
    fn finished(&self, package: &str, summary: &str);
}

/// Plain lines on stderr, for logs and CI.
#[derive(Debug, Default)]
pub struct PlainReporter;

impl Reporter for PlainReporter {
    fn stage(&self, package: &str, stage: Stage) {
        eprintln!("[{package}] {stage}");
    }
    fn note(&self, package: &str, message: &str) {
        eprintln!("[{package}] {message}");
    }
    fn finished(&self, package: &str, summary: &str) {
        eprintln!("[{package}] {summary}");
    }
}

/// Says nothing; for tests, benchmarks and `--json`.
#[derive(Debug, Default)]
pub struct QuietReporter;

impl Reporter for QuietReporter {
    fn stage(&self, _: &str, _: Stage) {}
    fn note(&self, _: &str, _: &str) {}
    fn finished(&self, _: &str, _: &str) {}
}

/// One spinner line per package on a terminal.
pub struct BarReporter {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Default for BarReporter {
    fn default() -> Self {
        BarReporter {
            multi: MultiProgress::new(),
            bars: Mutex::new(BTreeMap::new()),
        }
    }
}

impl BarReporter {
    fn bar(&self, package: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(package.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:>16} {elapsed:>4} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(package.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }
}

impl Reporter for BarReporter {
    fn stage(&self, package: &str, stage: Stage) {
        self.bar(package).set_message(stage.to_string());
    }
    fn note(&self, package: &str, message: &str) {
        let _ = self.multi.println(format!("[{package}] {message}"));
    }
    fn download(&self, package: &str, done: u64, total: Option<u64>) {
        let text = match total {
            Some(total) if total > 0 => format!("fetch {}/{} KiB", done / 1024, total / 1024),
            _ => format!("fetch {} KiB", done / 1024),
        };
        self.bar(package).set_message(text);
    }
    fn finished(&self, package: &str, summary: &str) {
        self.bar(package).finish_with_message(summary.to_string());
    }
}

/// A bar reporter on a terminal, plain lines otherwise.
pub fn for_terminal() -> Box<dyn Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(BarReporter::default())
    } else {
        Box::new(PlainReporter)
    }
}

/// Lets the fetcher report through a [`Reporter`].
pub struct FetchProgress<'a>(pub &'a dyn Reporter);

impl FetchObserver for FetchProgress<'_> {
    fn progress(&self, package: &str, done: u64, total: Option<u64>) {
        self.0.download(package, done, total);
    }
    fn note(&self, package: &str, message: &str) {
        self.0.note(package, message);
    }
}
