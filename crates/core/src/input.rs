//! Reading 8x8 request JSON leniently and answering precisely: every accessor takes the
//! field's full path (`components[2].buttons[0].url`) so an error names exactly what to
//! fix, and accepts the spellings 8x8's own examples use (numbers as strings, `example`
//! beside `examples`, snake_case beside camelCase).

use parley_types::codes::SyncCode;
use serde_json::{Map, Value};

use crate::{Error, Result};

pub type Object = Map<String, Value>;

pub fn invalid(code: SyncCode, message: impl Into<String>) -> Error {
    Error::invalid(code, message)
}

/// `Invalid parameter(s): '<path>' <problem>` with code 1005.
pub fn bad_field(path: &str, problem: impl std::fmt::Display) -> Error {
    invalid(
        SyncCode::InvalidParameters,
        format!("Invalid parameter(s): '{path}' {problem}"),
    )
}

/// `parent.key`, or `key` at the top level.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The first of `keys` present (and not null) in `obj`, with the key that matched.
pub fn lookup<'a>(obj: &'a Object, keys: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))
}

pub fn string<'a>(obj: &'a Object, keys: &[&'static str], parent: &str) -> Result<Option<&'a str>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be a string")),
    }
}

/// A string, or a number written as one (`"index": 0` and `"index": "0"` alike).
pub fn text_or_number(obj: &Object, keys: &[&'static str], parent: &str) -> Result<Option<String>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s.clone())),
        Some((_, Value::Number(n))) => Ok(Some(n.to_string())),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be a string")),
    }
}

pub fn object<'a>(
    obj: &'a Object,
    keys: &[&'static str],
    parent: &str,
) -> Result<Option<&'a Object>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::Object(o))) => Ok(Some(o)),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be an object")),
    }
}

pub fn array<'a>(
    obj: &'a Object,
    keys: &[&'static str],
    parent: &str,
) -> Result<Option<&'a [Value]>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::Array(a))) => Ok(Some(a)),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be an array")),
    }
}

/// `true`/`false`, also written as strings.
pub fn boolean(obj: &Object, keys: &[&'static str], parent: &str) -> Result<Option<bool>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::Bool(b))) => Ok(Some(*b)),
        Some((_, Value::String(s))) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some((_, Value::String(s))) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be true or false")),
    }
}

/// A whole number, also written as a string.
pub fn integer(obj: &Object, keys: &[&'static str], parent: &str) -> Result<Option<i64>> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((_, Value::Number(n))) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some((_, Value::String(s))) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
        Some((key, _)) => Err(bad_field(&join(parent, key), "must be a whole number")),
    }
}

/// Each element of an array as an object, with its path (`parent.key[i]`).
pub fn objects<'a>(items: &'a [Value], path: &str) -> Result<Vec<(String, &'a Object)>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let item_path = format!("{path}[{i}]");
            match item {
                Value::Object(o) => Ok((item_path, o)),
                _ => Err(bad_field(&item_path, "must be an object")),
            }
        })
        .collect()
}

pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

pub use parley_channels::is_web_url;

/// A URL as 8x8's own published examples sometimes carry it, wrapped in Markdown link
/// syntax by their documentation tooling: `[https://x/](https://x/){{1}}` is read as
/// `https://x/{{1}}`. Anything else comes back trimmed and unchanged.
pub fn unwrap_markdown_link(raw: &str) -> String {
    let raw = raw.trim();
    let unwrapped = raw.strip_prefix('[').and_then(|rest| {
        let (_, after_label) = rest.split_once("](")?;
        let (target, tail) = after_label.split_once(')')?;
        Some(format!("{}{tail}", target.trim()))
    });
    unwrapped.unwrap_or_else(|| raw.to_owned())
}

/// 8x8 asks for HTML entities in template bodies to be read as the characters they stand
/// for (`&amp;` → `&`), since portals and some clients escape them.
pub fn unescape_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    const ENTITIES: &[(&str, &str)] = &[
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&apos;", "'"),
        ("&nbsp;", "\u{a0}"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ENTITIES.iter().find(|(entity, _)| rest.starts_with(entity)) {
            Some((entity, plain)) => {
                out.push_str(plain);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_readers_accept_8x8_spellings() {
        let obj = json!({"index": 0, "i2": "1", "flag": "TRUE", "sub_type": "url"});
        let obj = obj.as_object().unwrap();
        assert_eq!(
            text_or_number(obj, &["index"], "c").unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(integer(obj, &["i2"], "c").unwrap(), Some(1));
        assert_eq!(boolean(obj, &["flag"], "c").unwrap(), Some(true));
        assert_eq!(
            string(obj, &["subType", "sub_type"], "c").unwrap(),
            Some("url")
        );
        let err = integer(obj, &["sub_type"], "components[1]").unwrap_err();
        assert!(
            err.to_string().contains("'components[1].sub_type'"),
            "{err}"
        );
    }

    #[test]
    fn html_entities_are_unescaped_once() {
        assert_eq!(unescape_html("Tom &amp; Jerry &lt;3"), "Tom & Jerry <3");
        assert_eq!(unescape_html("&amp;lt;"), "&lt;");
        assert_eq!(unescape_html("a & b"), "a & b");
    }

    #[test]
    fn markdown_wrapped_urls_are_unwrapped() {
        assert_eq!(
            unwrap_markdown_link("[https://x.test/t/](https://x.test/t/){{1}}"),
            "https://x.test/t/{{1}}"
        );
        assert_eq!(unwrap_markdown_link(" https://x.test "), "https://x.test");
        assert_eq!(unwrap_markdown_link("[oops"), "[oops");
    }

    #[test]
    fn web_urls_need_a_scheme_and_a_host() {
        assert!(is_web_url("https://x.test/a.jpg"));
        assert!(is_web_url("HTTP://x.test"));
        assert!(!is_web_url("ftp://x.test/a"));
        assert!(!is_web_url("https:// x"));
        assert!(!is_web_url("https:///path"));
    }
}

#[cfg(test)]
pub(crate) mod fuzz {
    use proptest::prelude::*;
    use serde_json::Value;

    /// Any JSON value nested up to `depth`, whose objects use `keys`, so fuzzing reaches
    /// past the first "unknown field" check of a validator.
    pub(crate) fn arbitrary_json(
        keys: &'static [&'static str],
        depth: u32,
    ) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z0-9{}_ ]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(depth, 32, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(
                    proptest::sample::select(keys).prop_map(str::to_owned),
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
