//! NHS numbers (DOMAIN.md §3.2): format (`CH-NHS-FORMAT`), the modulus-11 check digit
//! (`CH-NHS-CHECK`), placeholder patterns (`CH-NHS-PATTERN`) and the `943 476 5919` display
//! form. Numbers are stored as ten digits without spaces.

use super::issue::Issue;

/// What a checked NHS number turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NhsCheck {
    /// Ten digits whose check digit is right.
    Valid,
    /// Ten identical digits: the check digit always passes (54·d ≡ −d mod 11), so this is
    /// almost certainly a placeholder (`CH-NHS-PATTERN`, WARN).
    Placeholder,
    /// Ten digits but the check digit is wrong (`CH-NHS-CHECK`, ERROR). `expected` is the
    /// digit the first nine imply, or `None` when they give 10 and no number can be valid.
    BadCheckDigit {
        /// The check digit the first nine digits imply.
        expected: Option<u8>,
    },
    /// Not ten ASCII digits once spaces, tabs and non-breaking spaces are removed
    /// (`CH-NHS-FORMAT`, ERROR).
    BadFormat,
}

/// The separators removed before the NHS number is checked: spaces, tabs and the
/// non-breaking spaces a pasted or formatted number carries (U+00A0, U+2007 figure space,
/// U+202F narrow no-break space).
pub const SEPARATORS: [char; 5] = [' ', '\t', '\u{a0}', '\u{2007}', '\u{202f}'];

/// The ten digits of `input` with separators ([`SEPARATORS`]) removed, or `None` when that is
/// not exactly ten ASCII digits (`CH-NHS-FORMAT`). `"943 476 5919"` → `"9434765919"`.
pub fn normalise(input: &str) -> Option<String> {
    let s: String = input.chars().filter(|c| !SEPARATORS.contains(c)).collect();
    (s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// The modulus-11 check digit of the first nine digits (§3.2): weights 10 down to 2,
/// r = sum mod 11, check = 11 − r with 11 → 0; `None` when the result is 10, which makes the
/// number invalid whatever its tenth digit.
pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    }
}

/// Checks an NHS number as typed or stored (spaces allowed).
pub fn check(input: &str) -> NhsCheck {
    let Some(s) = normalise(input) else {
        return NhsCheck::BadFormat;
    };
    let mut digits = [0u8; 10];
    for (slot, b) in digits.iter_mut().zip(s.bytes()) {
        *slot = b - b'0';
    }
    let mut first_nine = [0u8; 9];
    first_nine.copy_from_slice(&digits[..9]);
    let expected = check_digit(&first_nine);
    if expected != Some(digits[9]) {
        return NhsCheck::BadCheckDigit { expected };
    }
    if digits.iter().all(|d| *d == digits[0]) {
        NhsCheck::Placeholder
    } else {
        NhsCheck::Valid
    }
}

/// Whether the number passes `CH-NHS-FORMAT` and `CH-NHS-CHECK` (placeholders included):
/// the condition for exporting it as an NHS-number identifier (`FX-NHS-ID`).
pub fn passes_check(input: &str) -> bool {
    matches!(check(input), NhsCheck::Valid | NhsCheck::Placeholder)
}

/// The display form `943 476 5919` (3-3-4), or `None` for a malformed number.
pub fn format(input: &str) -> Option<String> {
    let s = normalise(input)?;
    Some(format!("{} {} {}", &s[..3], &s[3..6], &s[6..]))
}

/// The issues an NHS number raises at `path`: `CH-NHS-FORMAT` or `CH-NHS-CHECK` (ERROR), or
/// `CH-NHS-PATTERN` (WARN). The issue value is the number as given.
pub fn issues(path: &str, input: &str) -> Vec<Issue> {
    let issue = match check(input) {
        NhsCheck::Valid => return Vec::new(),
        NhsCheck::BadFormat => Issue::error(
            "CH-NHS-FORMAT",
            path,
            format!("The NHS number ({input}) must be ten digits."),
        ),
        NhsCheck::BadCheckDigit {
            expected: Some(expected),
        } => Issue::error(
            "CH-NHS-CHECK",
            path,
            format!(
                "The NHS number ({input}) is not valid: its check digit should be {expected}; \
                 check it was typed correctly."
            ),
        ),
        NhsCheck::BadCheckDigit { expected: None } => Issue::error(
            "CH-NHS-CHECK",
            path,
            format!(
                "The NHS number ({input}) is not valid: no check digit fits its first nine \
                 digits; check it was typed correctly."
            ),
        ),
        NhsCheck::Placeholder => Issue::warn(
            "CH-NHS-PATTERN",
            path,
            format!(
                "The NHS number ({input}) is ten identical digits, which is usually a \
                 placeholder; confirm it is the child's real number."
            ),
        ),
    };
    vec![issue.with_value(input)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ch_nhs_check_worked_example_sums_to_299() {
        // 9·10 + 4·9 + 3·8 + 4·7 + 7·6 + 6·5 + 5·4 + 9·3 + 1·2 = 299; 299 mod 11 = 2 → 9.
        assert_eq!(check_digit(&[9, 4, 3, 4, 7, 6, 5, 9, 1]), Some(9));
    }

    #[test]
    fn ch_nhs_check_remainder_zero_gives_check_digit_zero() {
        // 0 … 0 sums to 0: r = 0, 11 − 0 = 11 → 0.
        assert_eq!(check_digit(&[0; 9]), Some(0));
        assert_eq!(check("0000000000"), NhsCheck::Placeholder);
    }

    #[test]
    fn ch_nhs_format_refuses_non_ascii_digits() {
        assert_eq!(check("９４３４７６５９１９"), NhsCheck::BadFormat);
        assert_eq!(check("943-476-5919"), NhsCheck::BadFormat);
        assert_eq!(check(""), NhsCheck::BadFormat);
    }
}
