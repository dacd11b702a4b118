//! Phone numbers: one canonical form per number (E.164, with libphonenumber's data via the
//! `phonenumber` crate and a configurable default country), so that `+86 138 0013 8000`,
//! `13800138000` (in China) and `0086-138-0013-8000` are the same caller; and the forms a
//! Zoho Desk search should try, since Zoho stores numbers as people typed them.

use std::str::FromStr;

pub use phonenumber::country::Id as Country;
use phonenumber::country::Id;
use phonenumber::Mode;

/// How numbers without a country code are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NumberPolicy {
    /// ISO 3166 country of the PBX (`HELPDESK_DEFAULT_COUNTRY`), for numbers dialled without
    /// a country code.
    pub default_country: Option<Id>,
}

/// A number in the forms the integration uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// As the PBX wrote it, trimmed.
    pub raw: String,
    /// Its digits only (and a leading `+` if it had one).
    pub digits: String,
    /// `+8613800138000`, when the number could be read as a valid number.
    pub e164: Option<String>,
    /// The national significant number (`13800138000`), when read.
    pub national: Option<String>,
}

/// `CN`, `cn`, `US`… → a country; anything else is an error naming the value.
pub fn parse_country(s: &str) -> Result<Id, String> {
    Id::from_str(&s.trim().to_ascii_uppercase())
        .map_err(|_| format!("{s:?} is not an ISO 3166 country code such as CN or US"))
}

fn digits_of(raw: &str) -> String {
    let plus = raw.trim_start().starts_with('+');
    let d: String = raw.chars().filter(char::is_ascii_digit).collect();
    if plus {
        format!("+{d}")
    } else {
        d
    }
}

impl NumberPolicy {
    pub fn read(&self, raw: &str) -> Number {
        let raw = raw.trim().to_string();
        let digits = digits_of(&raw);
        let parsed = phonenumber::parse(self.default_country, &raw)
            .ok()
            .filter(|n| n.is_valid());
        Number {
            e164: parsed
                .as_ref()
                .map(|n| n.format().mode(Mode::E164).to_string()),
            national: parsed.as_ref().map(|n| n.national().to_string()),
            raw,
            digits,
        }
    }

    /// The canonical key of a number: E.164 when it can be read, else its digits.
    pub fn key(&self, raw: &str) -> String {
        let n = self.read(raw);
        n.e164.unwrap_or(n.digits)
    }

    /// Whether two numbers are the same caller.
    pub fn same(&self, a: &str, b: &str) -> bool {
        self.key(a) == self.key(b)
    }

    /// What to search Zoho Desk for, in order: the number as written, E.164, the national
    /// number with and without the trunk prefix `0`, then a suffix wildcard on the last eight
    /// digits (Zoho's `*` search) — numbers stored with spaces or dashes match only that way.
    pub fn lookup_forms(&self, raw: &str) -> Vec<String> {
        let n = self.read(raw);
        let mut forms = vec![n.raw.clone()];
        if let Some(e) = &n.e164 {
            forms.push(e.clone());
        }
        if let Some(nat) = &n.national {
            forms.push(nat.clone());
            forms.push(format!("0{nat}"));
        }
        let bare: String = n.digits.trim_start_matches('+').to_string();
        if bare.len() >= 8 {
            forms.push(format!("*{}", &bare[bare.len() - 8..]));
        }
        let mut seen = std::collections::HashSet::new();
        forms.retain(|f| !f.is_empty() && seen.insert(f.clone()));
        forms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn china() -> NumberPolicy {
        NumberPolicy {
            default_country: Some(parse_country("cn").unwrap()),
        }
    }

    #[test]
    fn one_caller_whatever_the_format() {
        let p = china();
        for form in [
            "+86 138 0013 8000",
            "13800138000",
            "0086-138-0013-8000",
            "+8613800138000",
            " (+86) 138-0013-8000 ",
        ] {
            assert_eq!(p.key(form), "+8613800138000", "{form}");
        }
        assert!(p.same("010-6552-9988", "+86 10 6552 9988"));
        assert!(!p.same("13800138000", "13800138001"));
        // Without a default country, only numbers with a country code can be read.
        let none = NumberPolicy::default();
        assert_eq!(none.key("+86 138 0013 8000"), "+8613800138000");
        assert_eq!(none.key("13800138000"), "13800138000");
        assert_eq!(
            none.key("5503302"),
            "5503302",
            "short local numbers stay digits"
        );
    }

    #[test]
    fn lookup_forms_for_zoho() {
        let forms = china().lookup_forms("0086-138-0013-8000");
        assert_eq!(
            forms,
            vec![
                "0086-138-0013-8000",
                "+8613800138000",
                "13800138000",
                "013800138000",
                "*00138000",
            ]
        );
        assert_eq!(
            NumberPolicy::default().lookup_forms("5503302"),
            vec!["5503302"]
        );
        assert!(parse_country("Narnia").is_err());
    }
}
