//! What the GUI remembers per data directory (`<network dir>/gui-settings.json`):
//! theme, masked values, send defaults, the wallet last shown. Core keeps
//! these in Qt's settings per network; a file beside the node's own
//! `settings.json` goes wherever the data directory goes and is easy to
//! inspect. A file that cannot be read is moved aside, never lost, and
//! the user is told.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "gui-settings.json";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuiSettings {
    pub theme: Theme,
    /// Core's "Mask values": amounts shown as `#`.
    pub mask_values: bool,
    /// Whether a new send row starts with "subtract fee from amount".
    pub subtract_fee_from_amount: bool,
    /// The fee rate last chosen on the send page, sat/vB; none means the
    /// wallet's own choice.
    pub fee_rate_sat_vb: Option<f64>,
    pub last_wallet: Option<String>,
    pub console_font_size: f32,
}

impl Default for GuiSettings {
    fn default() -> Self {
        GuiSettings {
            theme: Theme::Light,
            mask_values: false,
            subtract_fee_from_amount: false,
            fee_rate_sat_vb: None,
            last_wallet: None,
            console_font_size: 13.0,
        }
    }
}

/// The settings file of one data directory.
#[derive(Clone, Debug)]
pub struct SettingsFile {
    pub path: PathBuf,
}

impl SettingsFile {
    pub fn in_dir(network_dir: &Path) -> SettingsFile {
        SettingsFile {
            path: network_dir.join(FILE_NAME),
        }
    }

    fn aside(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".bak");
        PathBuf::from(name)
    }

    /// The settings, and a message for the user when the file could not
    /// be used (it is then moved to `<file>.bak` and the defaults apply).
    pub fn load(&self) -> (GuiSettings, Option<String>) {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (GuiSettings::default(), None)
            }
            Err(e) => {
                return (
                    GuiSettings::default(),
                    Some(format!(
                        "Could not read the GUI settings {}: {e}. The defaults are used for this session.",
                        self.path.display()
                    )),
                )
            }
        };
        match serde_json::from_str(&text) {
            Ok(settings) => (settings, None),
            Err(error) => {
                let aside = self.aside();
                let moved = std::fs::rename(&self.path, &aside);
                let what = match moved {
                    Ok(()) => format!("it was moved to {}", aside.display()),
                    Err(e) => format!("it could not be moved aside ({e}) and is left as it is"),
                };
                (
                    GuiSettings::default(),
                    Some(format!(
                        "The GUI settings {} are corrupt ({error}); {what}, and the defaults are used.",
                        self.path.display()
                    )),
                )
            }
        }
    }

    /// Writes the settings whole (a temporary file renamed over the old).
    pub fn save(&self, settings: &GuiSettings) -> std::io::Result<()> {
        let mut temp = self.path.as_os_str().to_owned();
        temp.push(".new");
        let temp = PathBuf::from(temp);
        let text = serde_json::to_string_pretty(settings).map_err(std::io::Error::other)?;
        std::fs::write(&temp, text + "\n")?;
        std::fs::rename(&temp, &self.path)
    }

    /// `-resetguisettings`: the current file becomes `<file>.bak` and the
    /// defaults are written. Returns what happened, for the log.
    pub fn reset(&self) -> std::io::Result<String> {
        let backed_up = match std::fs::rename(&self.path, self.aside()) {
            Ok(()) => format!("backed up to {}", self.aside().display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "none to back up".to_string(),
            Err(e) => return Err(e),
        };
        self.save(&GuiSettings::default())?;
        Ok(format!("GUI settings reset to defaults ({backed_up})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        assert_eq!(file.load(), (GuiSettings::default(), None));
        let settings = GuiSettings {
            theme: Theme::Dark,
            mask_values: true,
            fee_rate_sat_vb: Some(2.5),
            last_wallet: Some("w1".into()),
            ..GuiSettings::default()
        };
        file.save(&settings).unwrap();
        assert_eq!(file.load(), (settings, None));
        // Fields a newer version wrote, or an older one left out, are fine.
        std::fs::write(&file.path, r#"{"theme": "dark", "from_the_future": 1}"#).unwrap();
        assert_eq!(file.load().0.theme, Theme::Dark);
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        std::fs::write(&file.path, "{\"theme\": \"dark\",").unwrap();
        let (settings, message) = file.load();
        assert_eq!(settings, GuiSettings::default());
        let message = message.unwrap();
        assert!(
            message.contains("gui-settings.json are corrupt"),
            "{message}"
        );
        assert!(message.contains("gui-settings.json.bak"), "{message}");
        // Nothing lost: the bad bytes are kept beside it.
        assert_eq!(
            std::fs::read_to_string(dir.path().join("gui-settings.json.bak")).unwrap(),
            "{\"theme\": \"dark\","
        );
        assert!(!file.path.exists());
    }

    #[test]
    fn reset_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        let settings = GuiSettings {
            mask_values: true,
            ..GuiSettings::default()
        };
        file.save(&settings).unwrap();
        let said = file.reset().unwrap();
        assert!(said.contains("backed up"), "{said}");
        assert_eq!(file.load(), (GuiSettings::default(), None));
        let old: GuiSettings = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("gui-settings.json.bak")).unwrap(),
        )
        .unwrap();
        assert!(old.mask_values);
    }
}
