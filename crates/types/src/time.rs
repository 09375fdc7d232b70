//! 8x8 writes timestamps as `yyyy-MM-ddTHH:mm:ss.ffZ` (UTC, two fractional digits).

use chrono::{DateTime, SecondsFormat, Utc};

pub fn format_8x8(at: DateTime<Utc>) -> String {
    // chrono has no two-digit fraction, so cut the millisecond form down by one digit.
    let millis = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let (head, _) = millis.split_at(millis.len() - 2);
    format!("{head}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_with_two_fraction_digits() {
        let at = Utc.with_ymd_and_hms(2021, 1, 4, 8, 19, 45).unwrap()
            + chrono::Duration::milliseconds(991);
        assert_eq!(format_8x8(at), "2021-01-04T08:19:45.99Z");
    }
}
