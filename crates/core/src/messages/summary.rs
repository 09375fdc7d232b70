//! A message's content as one line of text, for message details, logs and exports.

use parley_store::Message;
use serde_json::Value;

/// 8x8's `content` in message details is a string: the text, the media URL (and caption),
/// the coordinates, or a template's body as the user saw it.
pub fn content_summary(message: &Message) -> String {
    let c = &message.content;
    if let Some(body) = c.pointer("/rendered/body").and_then(Value::as_str) {
        return body.to_owned();
    }
    if let Some(summary) = crate::interactive::summary(c) {
        return summary;
    }
    let text = c.get("text").and_then(Value::as_str);
    if let Some(url) = c.get("url").and_then(Value::as_str) {
        return match text {
            Some(caption) => format!("{url} {caption}"),
            None => url.to_owned(),
        };
    }
    if let Some(location) = c.get("location") {
        let coordinate = |k: &str| location.get(k).map(Value::to_string).unwrap_or_default();
        let mut s = format!("{},{}", coordinate("latitude"), coordinate("longitude"));
        if let Some(name) = location.get("name").and_then(Value::as_str) {
            s.push_str(&format!(" {name}"));
        }
        return s;
    }
    text.map(str::to_owned).unwrap_or_default()
}
