//! Normalisation of claimed values before comparison: emails, phones, names, keys.

/// Emails are compared and exported lowercased and trimmed.
pub fn email(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A name for comparison: NFC is assumed; case-folded, whitespace collapsed.
pub fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whitespace collapsed, for display values.
pub fn clean_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The international calling code of an ISO 3166 alpha-2 country.
fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country.to_ascii_uppercase().as_str() {
        "US" | "CA" => "1",
        "GB" | "UK" => "44",
        "IE" => "353",
        "DE" => "49",
        "FR" => "33",
        "ES" => "34",
        "IT" => "39",
        "NL" => "31",
        "BE" => "32",
        "AT" => "43",
        "CH" => "41",
        "SE" => "46",
        "NO" => "47",
        "DK" => "45",
        "FI" => "358",
        "PT" => "351",
        "PL" => "48",
        "JP" => "81",
        "AU" => "61",
        "NZ" => "64",
        "SG" => "65",
        "MX" => "52",
        "BR" => "55",
        "IN" => "91",
        "CZ" => "420",
        "SK" => "421",
        "GR" => "30",
        "HU" => "36",
        "RO" => "40",
        "BG" => "359",
        "HR" => "385",
        "SI" => "386",
        "RS" => "381",
        "UA" => "380",
        "LT" => "370",
        "LV" => "371",
        "EE" => "372",
        "LU" => "352",
        "IS" => "354",
        "CY" => "357",
        "MT" => "356",
        "TR" => "90",
        "IL" => "972",
        "AE" => "971",
        "ZA" => "27",
        "KR" => "82",
        "CN" => "86",
        "HK" => "852",
        "TW" => "886",
        "AR" => "54",
        "CL" => "56",
        "CO" => "57",
        "PE" => "51",
        _ => return None,
    })
}

/// A phone number to E.164 where it parses: `+` and digits. National numbers need the
/// business's country. Returns the cleaned input when it cannot be made E.164.
pub fn phone(s: &str, country: Option<&str>) -> String {
    let t = s.trim();
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 6 || t.chars().any(|c| c.is_alphabetic()) {
        return clean_text(t);
    }
    if t.starts_with('+') {
        return format!("+{digits}");
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return format!("+{rest}");
    }
    match country.and_then(calling_code) {
        Some("1") if digits.len() == 10 => format!("+1{digits}"),
        Some("1") if digits.len() == 11 && digits.starts_with('1') => format!("+{digits}"),
        Some(cc) if digits.starts_with('0') => format!("+{cc}{}", &digits[1..]),
        Some(cc) if digits.starts_with(cc) && digits.len() > 9 => format!("+{digits}"),
        Some(cc) => format!("+{cc}{digits}"),
        None => clean_text(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164() {
        assert_eq!(phone("(415) 555-0134", Some("US")), "+14155550134");
        assert_eq!(phone("+44 20 7946 0958", None), "+442079460958");
        assert_eq!(phone("030 1234567", Some("DE")), "+49301234567");
        assert_eq!(phone("0044 20 7946 0958", Some("DE")), "+442079460958");
        assert_eq!(phone("090-1234-5678", Some("JP")), "+819012345678");
        assert_eq!(phone("777123456", Some("CZ")), "+420777123456");
        assert_eq!(phone("6912345678", Some("GR")), "+306912345678");
        assert_eq!(phone("call me", Some("US")), "call me");
        // Countries whose numbers have no trunk 0: the national number follows the code.
        assert_eq!(phone("799 317 405", Some("CZ")), "+420799317405");
        assert_eq!(phone("690 123 4567", Some("GR")), "+306901234567");
    }

    #[test]
    fn emails_and_names() {
        assert_eq!(email("  Ann@Example.ORG "), "ann@example.org");
        assert_eq!(name_key("José  Müller"), "josé müller");
    }
}
