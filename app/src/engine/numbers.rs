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

    /// Whether a number stored in Zoho Desk, as a person typed it (any punctuation, with or
    /// without the country code), is the caller's number. The caller is read with the PBX's
    /// country; a stored number without a country code is read in the PBX's country first
    /// (the org's people type local numbers), else in the caller's own country. Numbers that
    /// cannot be read are compared digit for digit.
    pub fn matches_stored(&self, caller: &str, stored: &str) -> bool {
        if has_feature_code(caller) || has_feature_code(stored) {
            return false;
        }
        let c = parse_valid(self.default_country, caller);
        let s = c.as_ref().and_then(|c| {
            parse_valid(self.default_country, stored)
                .or_else(|| parse_valid(c.country().id(), stored))
        });
        match (&c, &s) {
            (Some(c), Some(s)) => e164(c) == e164(s),
            (Some(_), None) => false,
            _ => {
                let (a, b) = (digits_of(caller), digits_of(stored));
                let (a, b) = (a.trim_start_matches('+'), b.trim_start_matches('+'));
                !a.is_empty() && a == b
            }
        }
    }

    /// What to ask a Zoho Desk search for, so that a number stored in any format can be
    /// found: a wildcard on the last four digits (`*0134`: it matches the stored string
    /// however the rest was typed) and the usual exact forms (as the PBX wrote it, E.164,
    /// national, international and national formatting). The hits must then be checked with
    /// [`Self::matches_stored`]. `None`: not a number to search for (`*` or `#` feature codes,
    /// no digits).
    pub fn search_forms(&self, caller: &str) -> Option<Vec<String>> {
        if has_feature_code(caller) {
            return None;
        }
        let n = self.read(caller);
        let bare = n.digits.trim_start_matches('+').to_string();
        if bare.is_empty() {
            return None;
        }
        let mut forms = Vec::new();
        if bare.len() >= 6 {
            forms.push(format!("*{}", &bare[bare.len() - 4..]));
        }
        forms.push(n.raw.clone());
        if let Some(p) = parse_valid(self.default_country, caller) {
            forms.push(e164(&p));
            let national = p.national().to_string();
            forms.push(format!("0{national}"));
            forms.push(national);
            forms.push(p.format().mode(Mode::National).to_string());
            forms.push(p.format().mode(Mode::International).to_string());
        }
        let mut seen = std::collections::HashSet::new();
        forms.retain(|f| !f.is_empty() && seen.insert(f.clone()));
        Some(forms)
    }

    /// How a new Zoho record should hold this number: E.164 when it can be read, in `mobile`
    /// when libphonenumber says it is a mobile number, else in `phone`.
    pub fn storable(&self, raw: &str) -> (PhoneField, String) {
        match parse_valid(self.default_country, raw) {
            Some(p) => {
                let field = match p.number_type(&phonenumber::metadata::DATABASE) {
                    phonenumber::Type::Mobile => PhoneField::Mobile,
                    _ => PhoneField::Phone,
                };
                (field, e164(&p))
            }
            None => (PhoneField::Phone, raw.trim().to_string()),
        }
    }
}

/// Where a record keeps a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneField {
    Phone,
    Mobile,
}

impl PhoneField {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneField::Phone => "phone",
            PhoneField::Mobile => "mobile",
        }
    }
}

/// `*` and `#` mark feature codes and service numbers, never a caller to look up.
fn has_feature_code(raw: &str) -> bool {
    raw.contains(['*', '#'])
}

fn parse_valid(country: Option<Id>, raw: &str) -> Option<phonenumber::PhoneNumber> {
    phonenumber::parse(country, raw.trim())
        .ok()
        .filter(|n| n.is_valid())
}

fn e164(n: &phonenumber::PhoneNumber) -> String {
    n.format().mode(Mode::E164).to_string()
}

/// The table of `numbers_table.txt`: (the PBX's country, stored in Zoho, the caller, the same
/// number?). For the unit tests here and the server's black-box tests against the sandbox.
#[cfg(any(test, feature = "test-hooks"))]
pub fn number_table() -> Vec<(String, String, String, bool)> {
    include_str!("numbers_table.txt")
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(f.len(), 4, "{l}");
            (f[0].into(), f[1].into(), f[2].into(), f[3] == "yes")
        })
        .collect()
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
    fn search_forms_for_zoho() {
        let forms = china().search_forms("0086-138-0013-8000").unwrap();
        assert_eq!(forms[0], "*8000", "the wildcard first");
        for f in [
            "0086-138-0013-8000",
            "+8613800138000",
            "13800138000",
            "138 0013 8000",
        ] {
            assert!(forms.contains(&f.to_string()), "{f} in {forms:?}");
        }
        assert_eq!(
            NumberPolicy::default().search_forms("5503302").unwrap(),
            vec!["*3302", "5503302"]
        );
        assert_eq!(
            NumberPolicy::default().search_forms("2005").unwrap(),
            vec!["2005"]
        );
        // Feature codes and service numbers are never searched for.
        assert_eq!(china().search_forms("*4455"), None);
        assert_eq!(china().search_forms("#31#13800138000"), None);
        assert_eq!(china().search_forms("anonymous"), None);
        assert!(parse_country("Narnia").is_err());
    }

    fn policy(country: &str) -> NumberPolicy {
        NumberPolicy {
            default_country: (!country.is_empty()).then(|| parse_country(country).unwrap()),
        }
    }

    fn table() -> Vec<(String, String, String, bool)> {
        super::number_table()
    }

    #[test]
    fn numbers_match_however_they_were_typed() {
        let table = table();
        assert!(table.len() >= 40);
        let mut wrong = Vec::new();
        for (country, stored, caller, same) in &table {
            if policy(country).matches_stored(caller, stored) != *same {
                wrong.push(format!(
                    "{country:2} {stored:?} vs {caller:?}: expected {same}"
                ));
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }

    #[test]
    fn every_matching_stored_number_is_found_by_a_search_form() {
        // The wildcard reaches the stored string whatever its punctuation.
        let zoho_matches = |pattern: &str, stored: &str| match pattern.strip_prefix('*') {
            Some(tail) => stored.ends_with(tail),
            None => stored == pattern,
        };
        for (country, stored, caller, same) in &table() {
            if !*same {
                continue;
            }
            let forms = policy(country).search_forms(caller).unwrap();
            assert!(
                forms.iter().any(|f| zoho_matches(f, stored)),
                "{stored:?} is not found by any of {forms:?}"
            );
        }
    }

    #[test]
    fn new_records_keep_e164_in_the_right_field() {
        let cn = china();
        assert_eq!(
            cn.storable("138 0013 8000"),
            (PhoneField::Mobile, "+8613800138000".into())
        );
        assert_eq!(
            cn.storable("010-6552-9988"),
            (PhoneField::Phone, "+861065529988".into())
        );
        assert_eq!(
            policy("GB").storable("07911 123456"),
            (PhoneField::Mobile, "+447911123456".into())
        );
        // The US cannot tell mobiles from landlines: phone.
        assert_eq!(policy("US").storable("(415) 555-0134").0, PhoneField::Phone);
        assert_eq!(
            cn.storable("5503301"),
            (PhoneField::Phone, "5503301".into())
        );
    }
}
