//! Phone numbers. 8x8 validates the E.164 *format* (a `+`, a non-zero digit, 8–15 digits in
//! all); it accepts numbers such as `+1555…` that libphonenumber calls invalid. A national
//! number is accepted when the request also names the user's country.

use std::fmt;

use phonenumber::country;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Msisdn(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MsisdnError {
    #[error("invalid MSISDN format (not E.164 international number)")]
    NotE164,
    #[error("invalid country code")]
    InvalidCountry,
}

impl Msisdn {
    /// Parses `raw` as E.164, or as a national number in `country` (ISO 3166 alpha-2).
    pub fn parse(raw: &str, country: Option<&str>) -> Result<Self, MsisdnError> {
        let cleaned: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if let Some(digits) = cleaned.strip_prefix('+') {
            return Self::from_digits(digits);
        }
        if let Some(digits) = cleaned.strip_prefix("00") {
            return Self::from_digits(digits);
        }
        match country {
            Some(iso) => Self::from_national(&cleaned, iso),
            // WhatsApp ids (`wa_id`) are E.164 digits without the plus.
            None => Self::from_digits(&cleaned),
        }
    }

    /// The digits WhatsApp uses as `wa_id`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country calling code (`1`, `44`, `65`, …), what WhatsApp's rates go by.
    pub fn calling_code(&self) -> Option<u16> {
        phonenumber::parse(None, &self.0)
            .ok()
            .map(|parsed| parsed.code().value())
    }

    /// ISO 3166 alpha-2 country of the number; for numbers libphonenumber cannot place
    /// (e.g. fictional `+1555…`), the main country of the calling code.
    pub fn country(&self) -> Option<String> {
        let parsed = phonenumber::parse(None, &self.0).ok()?;
        if let Some(id) = parsed.country().id() {
            return Some(id.as_ref().to_owned());
        }
        let code = parsed.code().value();
        let main = phonenumber::metadata::DATABASE
            .by_code(&code)?
            .into_iter()
            .next()?;
        Some(main.id().to_owned())
    }

    fn from_digits(digits: &str) -> Result<Self, MsisdnError> {
        let valid = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        valid
            .then(|| Self(format!("+{digits}")))
            .ok_or(MsisdnError::NotE164)
    }

    fn from_national(national: &str, iso: &str) -> Result<Self, MsisdnError> {
        let id: country::Id = iso
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| MsisdnError::InvalidCountry)?;
        let parsed = phonenumber::parse(Some(id), national).map_err(|_| MsisdnError::NotE164)?;
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        Self::from_digits(e164.trim_start_matches('+'))
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_format_including_fictional_numbers() {
        assert_eq!(
            Msisdn::parse("+15551234567", None).unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(
            Msisdn::parse("+65 9123-4567", None).unwrap().as_str(),
            "+6591234567"
        );
        assert_eq!(
            Msisdn::parse("15551234567", None).unwrap().digits(),
            "15551234567"
        );
    }

    #[test]
    fn rejects_what_is_not_a_phone_number() {
        for bad in [
            "",
            "+",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "+1555abc4567",
            "hello",
        ] {
            assert_eq!(Msisdn::parse(bad, None), Err(MsisdnError::NotE164), "{bad}");
        }
    }

    #[test]
    fn national_numbers_need_their_country() {
        let sg = Msisdn::parse("91234567", Some("sg")).unwrap();
        assert_eq!(sg.as_str(), "+6591234567");
        assert_eq!(sg.country().as_deref(), Some("SG"));
        assert_eq!(
            Msisdn::parse("91234567", Some("XX")),
            Err(MsisdnError::InvalidCountry)
        );
    }

    #[test]
    fn country_falls_back_to_the_calling_codes_main_region() {
        assert_eq!(
            Msisdn::parse("+15551234567", None)
                .unwrap()
                .country()
                .as_deref(),
            Some("US")
        );
    }
}
