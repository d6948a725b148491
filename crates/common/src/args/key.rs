//! How a raw option key and value become a stored setting; shared by the
//! command line and the config file so both follow the same rules.

use super::error::ArgsError;
use super::settings::{interpret_bool, Setting};
use super::spec::OptionSpec;

/// A key split into its parts: `regtest.noport` is section `regtest`, name
/// `port`, negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub section: String,
    pub name: String,
    pub negated: bool,
}

/// Splits `section.name` on the first dot and strips a `no` prefix.
pub(crate) fn interpret_key(key: &str) -> KeyInfo {
    let (section, rest) = match key.split_once('.') {
        Some((section, rest)) => (section.to_owned(), rest),
        None => (String::new(), key),
    };
    let (name, negated) = match rest.strip_prefix("no") {
        Some(name) => (name.to_owned(), true),
        None => (rest.to_owned(), false),
    };
    KeyInfo {
        section,
        name,
        negated,
    }
}

/// Turns a value into a stored setting. `value` is `None` for a bare
/// `-name` on the command line, which is stored as the empty string (Core
/// does the same; [`interpret_bool`] reads it as true).
pub(crate) fn interpret_value(
    key: &KeyInfo,
    value: Option<&str>,
    spec: &OptionSpec,
    warnings: &mut Vec<String>,
) -> Result<Setting, ArgsError> {
    if key.negated {
        if spec.disallow_negation {
            return Err(ArgsError::NegationForbidden(key.name.clone()));
        }
        // `-nofoo=0` means "not not foo": true, but worth a warning.
        if let Some(value) = value {
            if !interpret_bool(value) {
                warnings.push(format!(
                    "Parsed potentially confusing double-negative -{}={}",
                    key.name, value
                ));
                return Ok(Setting::Bool(true));
            }
        }
        return Ok(Setting::Bool(false));
    }
    match value {
        None if spec.disallow_elision => Err(ArgsError::ValueRequired(key.name.clone())),
        None => Ok(Setting::Text(String::new())),
        Some(value) => Ok(Setting::Text(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::spec::Category;

    const FLAG: OptionSpec = OptionSpec::flag("foo", Category::Options, "");

    #[test]
    fn keys_split_section_and_negation() {
        assert_eq!(
            interpret_key("regtest.noport"),
            KeyInfo {
                section: "regtest".into(),
                name: "port".into(),
                negated: true
            }
        );
        assert_eq!(
            interpret_key("port"),
            KeyInfo {
                section: String::new(),
                name: "port".into(),
                negated: false
            }
        );
        let odd = interpret_key("a.b.c");
        assert_eq!((odd.section.as_str(), odd.name.as_str()), ("a", "b.c"));
    }

    #[test]
    fn values_follow_core() {
        let mut warnings = Vec::new();
        let plain = interpret_key("foo");
        let negated = interpret_key("nofoo");
        assert_eq!(
            interpret_value(&plain, None, &FLAG, &mut warnings),
            Ok(Setting::Text(String::new()))
        );
        assert_eq!(
            interpret_value(&plain, Some("x"), &FLAG, &mut warnings),
            Ok(Setting::Text("x".into()))
        );
        assert_eq!(
            interpret_value(&negated, None, &FLAG, &mut warnings),
            Ok(Setting::Bool(false))
        );
        assert_eq!(
            interpret_value(&negated, Some("1"), &FLAG, &mut warnings),
            Ok(Setting::Bool(false))
        );
        assert!(warnings.is_empty());
        assert_eq!(
            interpret_value(&negated, Some("0"), &FLAG, &mut warnings),
            Ok(Setting::Bool(true))
        );
        assert_eq!(
            warnings,
            ["Parsed potentially confusing double-negative -foo=0"]
        );
    }

    #[test]
    fn flags_forbid_negation_and_elision() {
        let mut warnings = Vec::new();
        let spec = FLAG.disallow_negation().disallow_elision();
        assert_eq!(
            interpret_value(&interpret_key("nofoo"), None, &spec, &mut warnings),
            Err(ArgsError::NegationForbidden("foo".into()))
        );
        assert_eq!(
            interpret_value(&interpret_key("foo"), None, &spec, &mut warnings),
            Err(ArgsError::ValueRequired("foo".into()))
        );
        assert!(interpret_value(&interpret_key("foo"), Some(""), &spec, &mut warnings).is_ok());
    }
}
