//! One factor for every time limit the tests wait on, as Bitcoin Core's
//! `--timeout-factor`: `C1PZO_TIMEOUT_FACTOR`, or 4 when the executables
//! under test are for another machine and run under an emulator.

use std::sync::OnceLock;
use std::time::Duration;

/// The factor limits are multiplied by (at least 1).
pub fn timeout_factor() -> f64 {
    static FACTOR: OnceLock<f64> = OnceLock::new();
    *FACTOR.get_or_init(|| {
        if let Ok(text) = std::env::var("C1PZO_TIMEOUT_FACTOR") {
            match text.parse::<f64>() {
                Ok(f) if f >= 1.0 && f.is_finite() => return f,
                _ => panic!("C1PZO_TIMEOUT_FACTOR={text:?}: expected a number of at least 1"),
            }
        }
        if crate::exe::emulated() {
            4.0
        } else {
            1.0
        }
    })
}

/// `secs` seconds, scaled by [`timeout_factor`]: use it for every limit a
/// test waits up to, never for how long something must *not* happen.
pub fn scaled(secs: u64) -> Duration {
    Duration::from_secs(secs).mul_f64(timeout_factor())
}
