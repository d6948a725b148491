//! `{name}` placeholders in recipe and toolchain text (`{prefix}`,
//! `{target_sysroot}`, ...): finding them and filling them in.

/// The names of the `{name}` placeholders in `text`, in order.
pub fn placeholders_in(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Replaces `{name}` placeholders using `value_of`.
pub fn substitute(text: &str, value_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after
            .find('}')
            .and_then(|end| value_of(&after[..end]).map(|v| (end, v)))
        {
            Some((end, value)) => {
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_replaces_known_and_keeps_others() {
        let out = substitute("{prefix}/bin:{x}", &|name| {
            (name == "prefix").then(|| "/p".into())
        });
        assert_eq!(out, "/p/bin:{x}");
    }
}
