//! The option part of `-help` output: options grouped by category in
//! Core's group order, sorted by name inside a group, each followed by its
//! help text wrapped to fit a 79-column terminal.
//!
//! ```text
//! Options:
//!
//!   -conf=<file>
//!        Read options from <file> ...
//! ```

use std::collections::BTreeMap;

use super::spec::{Category, OptionSpec};

const SCREEN_WIDTH: usize = 79;
const OPTION_INDENT: usize = 2;
const TEXT_INDENT: usize = 7;

/// Formats the help for `options`. Options marked `debug_only` (and the
/// wallet debugging group) are included only when `show_debug` is set, as
/// with `-help-debug`. The executable prints its own usage header first.
pub fn help_message(options: &[OptionSpec], show_debug: bool) -> String {
    let mut groups: BTreeMap<Category, Vec<&OptionSpec>> = BTreeMap::new();
    for spec in options {
        groups.entry(spec.category).or_default().push(spec);
    }
    let mut out = String::new();
    for (category, mut specs) in groups {
        let Some(heading) = category.heading() else {
            continue;
        };
        if category == Category::WalletDebug && !show_debug {
            continue;
        }
        specs.retain(|spec| show_debug || !spec.debug_only);
        if specs.is_empty() {
            continue;
        }
        specs.sort_by_key(|spec| spec.name);
        out.push_str(heading);
        out.push_str("\n\n");
        for spec in specs {
            out.push_str(&" ".repeat(OPTION_INDENT));
            out.push('-');
            out.push_str(spec.name);
            out.push_str(&spec.kind.help_suffix());
            out.push('\n');
            out.push_str(&wrap(spec.help, SCREEN_WIDTH - TEXT_INDENT, TEXT_INDENT));
            out.push_str("\n\n");
        }
    }
    out
}

/// Greedy word wrap: lines of at most `width` characters (longer words get
/// a line of their own), every line indented by `indent` spaces.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let margin = " ".repeat(indent);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let needed = if current.is_empty() {
            word.len()
        } else {
            current.len() + 1 + word.len()
        };
        if needed > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
        .iter()
        .map(|line| format!("{margin}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::node_options::node_options;

    #[test]
    fn groups_appear_in_core_order_with_sorted_options() {
        let help = help_message(&node_options(), false);
        let options = help.find("Options:\n").unwrap();
        let connection = help.find("Connection options:\n").unwrap();
        let wallet = help.find("Wallet options:\n").unwrap();
        let debug = help.find("Debugging/Testing options:\n").unwrap();
        let chain = help.find("Chain selection options:\n").unwrap();
        let rpc = help.find("RPC server options:\n").unwrap();
        assert!(options < connection && connection < wallet && wallet < debug);
        assert!(debug < chain && chain < rpc);
        assert!(help.find("  -conf=<file>\n").unwrap() < help.find("  -datadir=<dir>\n").unwrap());
    }

    #[test]
    fn hidden_and_debug_only_options_are_left_out_by_default() {
        let help = help_message(&node_options(), false);
        assert!(!help.contains("  -h\n") && !help.contains("  -?\n"));
        assert!(help.contains("  -help\n"));
        assert!(
            !help.contains("  -regtest\n"),
            "-regtest is debug-only, as in Core"
        );
        assert!(
            !help.contains("Node relay options:"),
            "its only option is debug-only"
        );
        let debug_help = help_message(&node_options(), true);
        assert!(debug_help.contains("  -regtest\n"));
        assert!(debug_help.contains("  -acceptnonstdtxn\n"));
        assert!(debug_help.contains("  -loglevel=<level>|<category>:<level>\n"));
    }

    #[test]
    fn help_text_is_wrapped_and_indented() {
        let help = help_message(&node_options(), true);
        for line in help.lines() {
            assert!(line.len() <= SCREEN_WIDTH, "too long: {line:?}");
            assert!(
                line.is_empty()
                    || line.starts_with("  -")
                    || line.starts_with("       ")
                    || line.ends_with(':'),
                "badly indented: {line:?}"
            );
        }
    }

    #[test]
    fn wrap_breaks_between_words() {
        assert_eq!(wrap("aa bb cc", 5, 1), " aa bb\n cc");
        assert_eq!(
            wrap("averyveryverylongword x", 5, 0),
            "averyveryverylongword\nx"
        );
    }
}
