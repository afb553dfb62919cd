//! Money: text in major units to integer minor units, exactly (never through floats).

/// Currencies whose minor unit is the major unit (Stripe's zero-decimal list).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];
/// Three-decimal currencies.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Active ISO 4217 currency codes (lowercase, as the contract writes them).
const ISO_4217: &str =
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob \
bov brl bsd btn bwp byn bzd cad cdf che chf chw clf clp cny cop cou crc cuc cup cve czk djf dkk \
dop dzd egp ern etb eur fjd fkp gbp gel ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr iqd \
irr isk jmd jod jpy kes kgs khr kmf kpw krw kwd kyd kzt lak lbp lkr lrd lsl lyd mad mdl mga mkd \
mmk mnt mop mru mur mvr mwk mxn mxv myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln \
pyg qar ron rsd rub rwf sar sbd scr sdg sek sgd shp sle sll sos srd ssp stn svc syp szl thb tjs \
tmt tnd top try ttd twd tzs uah ugx usd usn uyi uyu uyw uzs ved ves vnd vuv wst xaf xag xau xba \
xbb xbc xbd xcd xcg xdr xof xpd xpf xpt xsu xts xua xxx yer zar zmw zwg zwl";

/// Whether `code` is a lowercase ISO 4217 currency code.
pub fn is_iso_currency(code: &str) -> bool {
    code.len() == 3
        && code.bytes().all(|b| b.is_ascii_lowercase())
        && ISO_4217.split_ascii_whitespace().any(|c| c == code)
}

/// Digits after the decimal point in `currency` (lowercase ISO 4217).
pub fn exponent(currency: &str) -> u32 {
    let c = currency.to_ascii_lowercase();
    if ZERO_DECIMAL.contains(&c.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&c.as_str()) {
        3
    } else {
        2
    }
}

/// Minor units as a person reads them: `$45.00`, `€1,234.50`, `¥12,000`, `45.00 PLN`.
pub fn format_major(minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    let neg = minor < 0;
    let abs = minor.unsigned_abs();
    let unit = 10u64.pow(exp);
    let (int, frac) = (abs / unit, abs % unit);
    let digits = int.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = match exp {
        0 => grouped,
        e => format!("{grouped}.{frac:0width$}", width = e as usize),
    };
    let sign = if neg { "-" } else { "" };
    match currency.to_ascii_lowercase().as_str() {
        "usd" => format!("{sign}${number}"),
        "eur" => format!("{sign}€{number}"),
        "gbp" => format!("{sign}£{number}"),
        "jpy" => format!("{sign}¥{number}"),
        other => format!("{sign}{number} {}", other.to_ascii_uppercase()),
    }
}

/// Parses an amount written in major units (`1,234.50`, `€19.99`, `-5.99`, `80,50`,
/// `1.234,56`, `1 234,50`) into minor units of `currency`. Currency symbols, spaces and
/// thousands separators are ignored; a decimal comma is read as one (see
/// [`with_decimal_point`]). Returns `None` when the text is not a number
/// or has more decimals than the currency allows (unless they are zeros).
pub fn major_to_minor(text: &str, currency: &str) -> Option<i64> {
    let exp = exponent(currency);
    let mut neg = false;
    let mut int_part = String::new();
    let mut frac_part = String::new();
    let mut seen_dot = false;
    let text = with_decimal_point(text.trim());
    for ch in text.chars() {
        match ch {
            '-' | '−' => neg = true,
            '0'..='9' => {
                if seen_dot {
                    frac_part.push(ch)
                } else {
                    int_part.push(ch)
                }
            }
            '.' if !seen_dot => seen_dot = true,
            ',' | ' ' | '\u{a0}' | '\'' | '_' => {}
            c if c.is_alphabetic() || "$€£¥₩₹".contains(c) => {}
            _ => return None,
        }
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let exp = exp as usize;
    if frac_part.len() > exp {
        if frac_part[exp..].chars().any(|c| c != '0') {
            return None;
        }
        frac_part.truncate(exp);
    }
    while frac_part.len() < exp {
        frac_part.push('0');
    }
    let digits = format!("{int_part}{frac_part}");
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `text` with its decimal separator written as `.` and its group separators as `,`:
/// `80,50` and `1.234,56` (a decimal comma) become `80.50` and `1,234.56`; `1,234.56`,
/// `1,234` (a thousands comma) and `1.234.567` (thousands dots) keep their meaning. A lone
/// comma followed by exactly three digits is read as grouping, as most apps write it.
fn with_decimal_point(text: &str) -> std::borrow::Cow<'_, str> {
    let (dot, comma) = (text.rfind('.'), text.rfind(','));
    let decimal_comma = match (dot, comma) {
        (Some(d), Some(c)) => c > d,
        (None, Some(c)) => {
            let after = text[c + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            text.matches(',').count() == 1 && after != 3 && after > 0
        }
        _ => false,
    };
    let many_dots = text.matches('.').count() > 1;
    if !decimal_comma && !many_dots {
        return std::borrow::Cow::Borrowed(text);
    }
    let out: String = text
        .chars()
        .map(|ch| match ch {
            '.' => ',',
            ',' if decimal_comma => '.',
            c => c,
        })
        .collect();
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_as_people_read_them() {
        assert_eq!(format_major(4500, "usd"), "$45.00");
        assert_eq!(format_major(123450, "EUR"), "€1,234.50");
        assert_eq!(format_major(12000, "jpy"), "¥12,000");
        assert_eq!(format_major(-550, "pln"), "-5.50 PLN");
        assert_eq!(format_major(1234567, "kwd"), "1,234.567 KWD");
    }

    #[test]
    fn decimal_commas_and_thousands_dots() {
        assert_eq!(major_to_minor("80,50", "eur"), Some(8050));
        assert_eq!(major_to_minor("80,5", "eur"), Some(8050));
        assert_eq!(major_to_minor("1.234,56 €", "eur"), Some(123456));
        assert_eq!(major_to_minor("1.234.567", "jpy"), Some(1234567));
        assert_eq!(major_to_minor("1 234,00 zł", "pln"), Some(123400));
        assert_eq!(major_to_minor("1,234.56", "usd"), Some(123456));
        assert_eq!(major_to_minor("1,234", "usd"), Some(123400));
        assert_eq!(major_to_minor("12,00", "chf"), Some(1200));
    }

    #[test]
    fn exact_minor_units() {
        assert_eq!(major_to_minor("19.99", "usd"), Some(1999));
        assert_eq!(major_to_minor("$1,234.5", "usd"), Some(123450));
        assert_eq!(major_to_minor("80.00", "eur"), Some(8000));
        assert_eq!(major_to_minor("-5.99", "usd"), Some(-599));
        assert_eq!(major_to_minor("¥1,500", "jpy"), Some(1500));
        assert_eq!(major_to_minor("1500.00", "JPY"), Some(1500));
        assert_eq!(major_to_minor("0.1", "usd"), Some(10));
        assert_eq!(major_to_minor("1.234", "usd"), None);
        assert_eq!(major_to_minor("abc", "usd"), None);
    }
}
