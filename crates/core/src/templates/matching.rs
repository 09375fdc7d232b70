//! 8x8's text auto-matching (`reference/chatapps-api.md` §2.2): a plain text that reads
//! exactly like an approved template's body, with some words where the body has
//! variables, is sent as that template with those words as its parameters.
//!
//! Only templates a text alone can fill take part: no media or location header, no
//! header variable, no button that needs a value, no carousel, not authentication.

use parley_channels::template::{TemplateSpec, parse_placeholders};

/// The body parameters that make the template's body read as `text`, if it can.
pub fn body_values(spec: &TemplateSpec, text: &str) -> Option<Vec<String>> {
    if !fillable_by_text(spec) {
        return None;
    }
    let body = spec.body.as_ref()?.text.as_str();
    let placeholders = parse_placeholders(body).ok()?;
    // The body as literal pieces between variables: piece, var, piece, var, …, piece.
    let mut pieces = Vec::with_capacity(placeholders.len() + 1);
    let mut numbers = Vec::with_capacity(placeholders.len());
    let mut last = 0;
    for p in &placeholders {
        pieces.push(&body[last..p.start]);
        numbers.push(p.number as usize);
        last = p.end;
    }
    pieces.push(&body[last..]);
    let count = numbers.iter().copied().max().unwrap_or(0);
    let mut values = vec![None; count];
    let rest = text.strip_prefix(pieces[0])?;
    fill(rest, &pieces[1..], &numbers, &mut values)?;
    values.into_iter().collect()
}

fn fillable_by_text(spec: &TemplateSpec) -> bool {
    use parley_channels::template::TemplateHeader;
    let header_ok = match &spec.header {
        None => true,
        Some(TemplateHeader::Text { text, .. }) => !text.contains("{{"),
        Some(_) => false,
    };
    header_ok
        && spec.authentication.is_none()
        && spec.cards.is_empty()
        && !spec.buttons.iter().any(|b| b.needs_parameter())
}

/// Matches `text` against `var piece var piece …`, trying every split (the texts are
/// short); a variable takes at least one character, and a repeated variable must repeat
/// its value.
fn fill(
    text: &str,
    pieces: &[&str],
    numbers: &[usize],
    values: &mut [Option<String>],
) -> Option<()> {
    let Some((&number, rest_numbers)) = numbers.split_first() else {
        return text.is_empty().then_some(());
    };
    let (piece, rest_pieces) = pieces.split_first()?;
    let slot = number - 1;
    let candidates: Vec<usize> = if rest_numbers.is_empty() {
        // The last piece must end the text.
        text.strip_suffix(piece)
            .map(|v| vec![v.len()])
            .unwrap_or_default()
    } else if piece.is_empty() {
        return None; // side-by-side variables are refused at creation
    } else {
        text.match_indices(piece).map(|(i, _)| i).collect()
    };
    for end in candidates {
        let value = &text[..end];
        if value.trim().is_empty() {
            continue;
        }
        let previous = values[slot].clone();
        if previous.as_deref().is_some_and(|p| p != value) {
            continue;
        }
        values[slot] = Some(value.to_owned());
        if fill(
            &text[end + piece.len()..],
            rest_pieces,
            rest_numbers,
            values,
        )
        .is_some()
        {
            return Some(());
        }
        values[slot] = previous;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_channels::template::{TemplateBody, TemplateCategory};

    fn spec(body: &str) -> TemplateSpec {
        TemplateSpec {
            name: "t".into(),
            language: "en".into(),
            category: TemplateCategory::Utility,
            allow_category_change: true,
            message_send_ttl_seconds: None,
            header: None,
            body: Some(TemplateBody {
                text: body.into(),
                examples: vec![],
            }),
            footer: None,
            buttons: vec![],
            cards: vec![],
            authentication: None,
            call_permission_request: false,
            request_contact_info: false,
        }
    }

    #[test]
    fn a_text_that_reads_like_the_body_fills_its_variables() {
        let s = spec("Hi {{1}}, your order {{2}} has shipped.");
        assert_eq!(
            body_values(&s, "Hi Maria, your order 987-XYZ has shipped."),
            Some(vec!["Maria".into(), "987-XYZ".into()])
        );
        assert_eq!(body_values(&s, "Hi Maria, your order has shipped."), None);
        assert_eq!(
            body_values(&s, "Hello Maria, your order 1 has shipped."),
            None
        );
        assert_eq!(
            body_values(&s, "Hi Maria, your order 1 has shipped. Bye"),
            None
        );
    }

    #[test]
    fn values_may_contain_the_following_words_and_repeats_must_agree() {
        let s = spec("Dear {{1}}, see {{2}} soon, {{1}}!");
        assert_eq!(
            body_values(&s, "Dear Ana, Bo, see you, see you soon, Ana, Bo!"),
            Some(vec!["Ana, Bo".into(), "you, see you".into()])
        );
        assert_eq!(body_values(&s, "Dear Ana, see you soon, Bo!"), None);
        let fixed = spec("Thanks for your order.");
        assert_eq!(body_values(&fixed, "Thanks for your order."), Some(vec![]));
        assert_eq!(body_values(&fixed, "Thanks for your order"), None);
    }
}
