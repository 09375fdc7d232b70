//! What a masked log shows in place of phone numbers and content, as 8x8 does.

/// 8x8's placeholder for masked content.
pub const MASKED: &str = "**MASKED**";

/// Keeps the country-code end and the last two digits: `+6591234567` → `+659*****67`.
pub fn mask_msisdn(msisdn: &str) -> String {
    let chars: Vec<char> = msisdn.chars().collect();
    let keep_start = 4.min(chars.len());
    let keep_end = 2.min(chars.len() - keep_start);
    let masked = chars.len() - keep_start - keep_end;
    let mut out: String = chars[..keep_start].iter().collect();
    out.extend(std::iter::repeat_n('*', masked));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

pub fn mask_content(_content: &str) -> &'static str {
    MASKED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_only_their_start_and_last_two_digits() {
        assert_eq!(mask_msisdn("+6591234567"), "+659*****67");
        assert_eq!(mask_msisdn("+15551230001"), "+155******01");
        assert_eq!(mask_msisdn("+12"), "+12");
    }
}
