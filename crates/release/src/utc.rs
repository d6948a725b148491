//! Seconds since 1970 as a UTC calendar date and time, for the places a
//! release writes `SOURCE_DATE_EPOCH` as a date (zip entries, the SBOM).

/// A UTC date and time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl UtcTime {
    pub fn from_epoch(epoch: u64) -> Self {
        let (year, month, day) = civil_from_days((epoch / 86_400) as i64);
        let seconds = epoch % 86_400;
        UtcTime {
            year,
            month,
            day,
            hour: (seconds / 3600) as u8,
            minute: (seconds / 60 % 60) as u8,
            second: (seconds % 60) as u8,
        }
    }

    /// RFC 3339, as CycloneDX's `timestamp` wants: `2023-11-14T22:13:20Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`: count in 400-year eras from 0000-03-01, so the leap
/// day ends each year).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u8;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(UtcTime::from_epoch(0).rfc3339(), "1970-01-01T00:00:00Z");
        // A leap day, and the last second of a century leap year.
        assert_eq!(
            UtcTime::from_epoch(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            UtcTime::from_epoch(978_307_199).rfc3339(),
            "2000-12-31T23:59:59Z"
        );
        assert_eq!(
            UtcTime::from_epoch(1_700_000_000).rfc3339(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            UtcTime::from_epoch(4_107_542_400).rfc3339(),
            "2100-03-01T00:00:00Z"
        );
    }
}
