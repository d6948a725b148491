//! Where option values are kept and how the sources are merged.
//!
//! Bitcoin Core keeps every value from every source and decides at lookup
//! time which one wins. The rules are odd in places (the first value in the
//! config file wins, negations in the top-level section always apply, ...)
//! but scripts depend on them, so they are reproduced here, each with a test.
//!
//! Sources, highest priority first: forced (set by the program itself),
//! command line, config file network section, config file top-level section.
//! Core also has a read-write `settings.json` between command line and
//! config; c1pzo does not (yet).

use std::collections::BTreeMap;

/// One stored value. A negated option (`-nofoo`) is stored as `Bool(false)`;
/// a double negative (`-nofoo=0`) as `Bool(true)`; everything else as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting {
    Text(String),
    Bool(bool),
}

impl Setting {
    fn is_negation(&self) -> bool {
        matches!(self, Setting::Bool(false))
    }

    /// The string form Core's getters return: `"0"`/`"1"` for booleans.
    pub(crate) fn to_text(&self) -> String {
        match self {
            Setting::Text(text) => text.clone(),
            Setting::Bool(true) => "1".to_owned(),
            Setting::Bool(false) => "0".to_owned(),
        }
    }

    /// The JSON form Core uses in messages and in the argument log.
    pub(crate) fn to_json(&self) -> String {
        match self {
            Setting::Text(text) => json_quote(text),
            Setting::Bool(value) => value.to_string(),
        }
    }

    pub(crate) fn to_bool(&self) -> bool {
        match self {
            Setting::Bool(value) => *value,
            Setting::Text(text) => interpret_bool(text),
        }
    }

    pub(crate) fn to_int(&self) -> i64 {
        match self {
            Setting::Bool(value) => i64::from(*value),
            Setting::Text(text) => parse_leading_int(text),
        }
    }
}

/// Where a value came from, in priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Forced,
    CommandLine,
    ConfigNetworkSection,
    ConfigDefaultSection,
}

impl Source {
    fn is_config_file(self) -> bool {
        matches!(
            self,
            Source::ConfigNetworkSection | Source::ConfigDefaultSection
        )
    }
}

/// The values one source holds for one name. A negation wipes out the values
/// before it, so the effective values are those after the last negation.
#[derive(Clone, Copy)]
pub(crate) struct Span<'a> {
    values: &'a [Setting],
}

impl<'a> Span<'a> {
    pub(crate) fn new(values: &'a [Setting]) -> Self {
        Span { values }
    }

    /// How many leading values a negation cancels (the position just past
    /// the last negation), or 0 if there is none.
    pub(crate) fn negated(&self) -> usize {
        self.values
            .iter()
            .rposition(Setting::is_negation)
            .map_or(0, |index| index + 1)
    }

    fn last_negated(&self) -> bool {
        self.values.last().is_some_and(Setting::is_negation)
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty() || self.last_negated()
    }

    pub(crate) fn effective(&self) -> &'a [Setting] {
        &self.values[self.negated()..]
    }
}

/// How a single-value lookup treats the sources.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lookup {
    /// Skip non-negated values from the config file's top-level section
    /// (network-only options on a chain other than main).
    pub ignore_default_section: bool,
    /// Core's special rule for the chain flags: the last config value wins
    /// and command-line negations are skipped.
    pub chain_selection: bool,
}

/// Every stored value, by source.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub forced: BTreeMap<String, Setting>,
    pub command_line: BTreeMap<String, Vec<Setting>>,
    /// Section name ("" for the top level) to option name to values.
    pub config: BTreeMap<String, BTreeMap<String, Vec<Setting>>>,
}

impl Settings {
    /// Visits every source holding `name`, highest priority first.
    fn merge<'a>(&'a self, section: &str, name: &str, mut visit: impl FnMut(Span<'a>, Source)) {
        if let Some(value) = self.forced.get(name) {
            visit(
                Span {
                    values: std::slice::from_ref(value),
                },
                Source::Forced,
            );
        }
        if let Some(values) = self.command_line.get(name) {
            visit(Span { values }, Source::CommandLine);
        }
        if !section.is_empty() {
            if let Some(values) = self.config.get(section).and_then(|map| map.get(name)) {
                visit(Span { values }, Source::ConfigNetworkSection);
            }
        }
        if let Some(values) = self.config.get("").and_then(|map| map.get(name)) {
            visit(Span { values }, Source::ConfigDefaultSection);
        }
    }

    /// The single value that applies to `name`, following Core's rules.
    pub fn get(&self, section: &str, name: &str, lookup: Lookup) -> Option<Setting> {
        let mut result = None;
        let mut done = false;
        self.merge(section, name, |span, source| {
            if done {
                return;
            }
            // A negation in the top-level section applies even where its
            // non-negated values would be ignored (Core keeps this quirk).
            if lookup.ignore_default_section
                && source == Source::ConfigDefaultSection
                && !span.last_negated()
            {
                return;
            }
            // Core skips negated chain flags; its comment speaks of the
            // command line but the check applies to every source.
            if lookup.chain_selection && span.last_negated() {
                return;
            }
            // In the config file the first assignment wins, except for chain
            // selection; everywhere else the last one does.
            let first_wins = source.is_config_file() && !lookup.chain_selection;
            if !span.is_empty() {
                let values = span.effective();
                let chosen = if first_wins {
                    values.first()
                } else {
                    values.last()
                };
                result = chosen.cloned();
                done = true;
            } else if span.last_negated() {
                result = Some(Setting::Bool(false));
                done = true;
            }
        });
        result
    }

    /// Every value that applies to a repeatable option, in order.
    pub fn get_list(
        &self,
        section: &str,
        name: &str,
        ignore_default_section: bool,
    ) -> Vec<Setting> {
        let mut result = Vec::new();
        let mut done = false;
        let mut negated_to_nothing = false;
        self.merge(section, name, |span, source| {
            // Core quirk: a command-line negation followed by a value does
            // not stop config file values from being added ("zombies");
            // only a negation that leaves nothing behind does.
            let add_zombies = source.is_config_file() && !negated_to_nothing;
            if ignore_default_section && source == Source::ConfigDefaultSection {
                return;
            }
            if !done || add_zombies {
                result.extend(span.effective().iter().cloned());
            }
            done |= span.negated() > 0 || source == Source::Forced;
            negated_to_nothing |= span.last_negated() && result.is_empty();
        });
        result
    }

    /// True when the only non-negated values for `name` sit in the config
    /// file's top-level section.
    pub fn only_in_default_section(&self, section: &str, name: &str) -> bool {
        let mut in_default = false;
        let mut elsewhere = false;
        self.merge(section, name, |span, source| {
            if span.is_empty() {
                return;
            }
            if source == Source::ConfigDefaultSection {
                in_default = true;
            } else {
                elsewhere = true;
            }
        });
        in_default && !elsewhere
    }
}

/// Core's reading of a string as a boolean: empty means true, otherwise the
/// leading integer decides, so `"abc"` and `"false"` are false.
pub fn interpret_bool(text: &str) -> bool {
    text.is_empty() || parse_leading_int(text) != 0
}

/// Core's locale-independent `atoi64`: surrounding whitespace is ignored, a
/// single leading `+` is allowed, the longest run of digits is read, anything
/// unparsable gives 0, and out-of-range values saturate.
pub fn parse_leading_int(text: &str) -> i64 {
    let trimmed =
        text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let unsigned_plus = match trimmed.strip_prefix('+') {
        Some(rest) if rest.starts_with('-') => return 0,
        Some(rest) => rest,
        None => trimmed,
    };
    let (negative, digits) = match unsigned_plus.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, unsigned_plus),
    };
    let digit_count = digits.bytes().take_while(u8::is_ascii_digit).count();
    if digit_count == 0 {
        return 0;
    }
    let mut value: i64 = 0;
    for digit in digits[..digit_count].bytes() {
        let digit = i64::from(digit - b'0');
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        });
        match next {
            Some(next) => value = next,
            None => return if negative { i64::MIN } else { i64::MAX },
        }
    }
    value
}

/// A string as a JSON literal, as Core's UniValue writes it.
pub(crate) fn json_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Setting {
        Setting::Text(value.to_owned())
    }

    fn settings(command_line: &[Setting], network: &[Setting], default: &[Setting]) -> Settings {
        let mut settings = Settings::default();
        if !command_line.is_empty() {
            settings
                .command_line
                .insert("foo".into(), command_line.to_vec());
        }
        if !network.is_empty() {
            settings
                .config
                .entry("regtest".into())
                .or_default()
                .insert("foo".into(), network.to_vec());
        }
        if !default.is_empty() {
            settings
                .config
                .entry(String::new())
                .or_default()
                .insert("foo".into(), default.to_vec());
        }
        settings
    }

    fn get(settings: &Settings, lookup: Lookup) -> Option<String> {
        settings.get("regtest", "foo", lookup).map(|s| s.to_text())
    }

    #[test]
    fn command_line_last_value_wins() {
        let s = settings(&[text("a"), text("b")], &[], &[]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("b"));
    }

    #[test]
    fn config_file_first_value_wins() {
        let s = settings(&[], &[], &[text("a"), text("b")]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("a"));
    }

    #[test]
    fn chain_selection_takes_last_config_value() {
        let s = settings(&[], &[], &[text("0"), text("1")]);
        let lookup = Lookup {
            chain_selection: true,
            ..Lookup::default()
        };
        assert_eq!(get(&s, lookup).as_deref(), Some("1"));
    }

    #[test]
    fn chain_selection_skips_command_line_negation() {
        let s = settings(&[Setting::Bool(false)], &[], &[text("1")]);
        let lookup = Lookup {
            chain_selection: true,
            ..Lookup::default()
        };
        assert_eq!(get(&s, lookup).as_deref(), Some("1"));
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("0"));
    }

    #[test]
    fn command_line_beats_network_section_beats_default_section() {
        let s = settings(&[text("cli")], &[text("net")], &[text("top")]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("cli"));
        let s = settings(&[], &[text("net")], &[text("top")]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("net"));
    }

    #[test]
    fn forced_value_beats_everything() {
        let mut s = settings(&[text("cli")], &[], &[]);
        s.forced.insert("foo".into(), text("forced"));
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("forced"));
        assert_eq!(s.get_list("regtest", "foo", false), vec![text("forced")]);
    }

    #[test]
    fn negation_yields_false_and_cancels_earlier_values() {
        let s = settings(&[text("a"), Setting::Bool(false)], &[], &[text("top")]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("0"));
        let s = settings(&[Setting::Bool(false), text("b")], &[], &[]);
        assert_eq!(get(&s, Lookup::default()).as_deref(), Some("b"));
    }

    #[test]
    fn ignored_default_section_still_applies_negation() {
        let lookup = Lookup {
            ignore_default_section: true,
            ..Lookup::default()
        };
        let s = settings(&[], &[], &[text("top")]);
        assert_eq!(get(&s, lookup), None);
        let s = settings(&[], &[], &[Setting::Bool(false)]);
        assert_eq!(get(&s, lookup).as_deref(), Some("0"));
    }

    #[test]
    fn list_concatenates_sources_in_priority_order() {
        let s = settings(&[text("c1"), text("c2")], &[text("n")], &[text("t")]);
        let list: Vec<_> = s
            .get_list("regtest", "foo", false)
            .iter()
            .map(Setting::to_text)
            .collect();
        assert_eq!(list, ["c1", "c2", "n", "t"]);
        let list = s.get_list("regtest", "foo", true);
        assert_eq!(
            list.len(),
            3,
            "top-level values dropped for network-only options"
        );
    }

    #[test]
    fn list_negation_alone_hides_config_values() {
        let s = settings(&[Setting::Bool(false)], &[text("n")], &[text("t")]);
        assert!(s.get_list("regtest", "foo", false).is_empty());
    }

    #[test]
    fn list_negation_followed_by_value_brings_config_values_back() {
        let s = settings(
            &[text("old"), Setting::Bool(false), text("new")],
            &[text("n")],
            &[],
        );
        let list: Vec<_> = s
            .get_list("regtest", "foo", false)
            .iter()
            .map(Setting::to_text)
            .collect();
        assert_eq!(list, ["new", "n"]);
    }

    #[test]
    fn only_in_default_section_detection() {
        assert!(settings(&[], &[], &[text("t")]).only_in_default_section("regtest", "foo"));
        assert!(
            !settings(&[], &[text("n")], &[text("t")]).only_in_default_section("regtest", "foo")
        );
        assert!(
            !settings(&[text("c")], &[], &[text("t")]).only_in_default_section("regtest", "foo")
        );
        assert!(
            !settings(&[], &[], &[Setting::Bool(false)]).only_in_default_section("regtest", "foo")
        );
    }

    #[test]
    fn interpret_bool_matches_core() {
        assert!(interpret_bool(""));
        assert!(interpret_bool("1"));
        assert!(interpret_bool("2"));
        assert!(interpret_bool("-1"));
        assert!(interpret_bool("99999999999999999999"));
        assert!(!interpret_bool("0"));
        assert!(!interpret_bool("abc"), "non-numbers are false");
        assert!(!interpret_bool("true"), "even 'true' is false");
        assert!(!interpret_bool("false"));
        assert!(interpret_bool(" 1 "));
    }

    #[test]
    fn parse_leading_int_matches_core_atoi() {
        assert_eq!(parse_leading_int("42"), 42);
        assert_eq!(parse_leading_int("  42  "), 42);
        assert_eq!(parse_leading_int("+42"), 42);
        assert_eq!(parse_leading_int("-42"), -42);
        assert_eq!(parse_leading_int("+-42"), 0);
        assert_eq!(parse_leading_int("++42"), 0);
        assert_eq!(parse_leading_int("12abc"), 12);
        assert_eq!(parse_leading_int("abc"), 0);
        assert_eq!(parse_leading_int(""), 0);
        assert_eq!(parse_leading_int("-"), 0);
        assert_eq!(parse_leading_int("0x10"), 0);
        assert_eq!(parse_leading_int("99999999999999999999"), i64::MAX);
        assert_eq!(parse_leading_int("-99999999999999999999"), i64::MIN);
        assert_eq!(parse_leading_int("-9223372036854775808"), i64::MIN);
    }

    #[test]
    fn json_quote_escapes() {
        assert_eq!(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(json_quote("x\u{1}"), "\"x\\u0001\"");
        assert_eq!(Setting::Bool(true).to_json(), "true");
    }
}
