//! Query strings: only the parameters an endpoint documents, paging (`from`, `limit`), ids in
//! paths, and how searches match values (Zoho's patterns, whole words for `_all`).

use std::collections::HashMap;

use super::error::ApiError;

pub(super) type Params = HashMap<String, String>;

/// Parses the query string, refusing parameters the endpoint does not document (as Zoho does:
/// `Extra query parameter 'x' is present in the input.`).
pub(super) fn query(raw: Option<String>, allowed: &[&str]) -> Result<Params, ApiError> {
    let mut out = Params::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(ApiError::unprocessable(format!(
                "Extra query parameter '{k}' is present in the input."
            )));
        }
        out.insert(k.into_owned(), v.into_owned());
    }
    Ok(out)
}

/// The slice of a list an answer carries: `from` (0-based) and `limit` items.
#[derive(Clone, Copy)]
pub(super) struct Page {
    from: usize,
    limit: usize,
}

impl Page {
    pub(super) fn of<T>(self, items: Vec<T>) -> Vec<T> {
        items.into_iter().skip(self.from).take(self.limit).collect()
    }
}

/// `from` (0-based) and `limit` (default 10) within the endpoint's bounds.
pub(super) fn paging(q: &Params, max: usize) -> Result<Page, ApiError> {
    paging_based(q, max, 0)
}

/// The same for the lists whose OpenAPI file counts `from` from 1 (minimum 1, default 1:
/// `GET /accounts`).
pub(super) fn paging_from_one(q: &Params, max: usize) -> Result<Page, ApiError> {
    paging_based(q, max, 1)
}

fn paging_based(q: &Params, max: usize, first: usize) -> Result<Page, ApiError> {
    let num = |name: &str, default: usize, min: usize, max: usize| -> Result<usize, ApiError> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= min && n <= max => Ok(n),
                _ => Err(ApiError::invalid_field(
                    name,
                    "invalid",
                    format!("{name} must be an integer between {min} and {max}"),
                )),
            },
        }
    };
    Ok(Page {
        from: num("from", first, first, usize::MAX)? - first,
        limit: num("limit", 10, 1, max)?,
    })
}

pub(super) fn parse_id(raw: &str, field: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .map_err(|_| ApiError::invalid_field(field, "invalid", format!("{field} must be a number")))
}

/// The words of a text for full-text search (`_all`, `searchStr`): split at spaces and
/// punctuation that separates words; `+`, `-`, `.`, `@` and `_` stay inside a word (so
/// `555-0134`, `+8613800138000` and `a@b.com` are one word each). Lower case.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || ",;:()[]{}\"'<>/\\|!?#*".contains(c))
        // Sentence punctuation around a word is not part of it (`5503306.` is `5503306`).
        .map(|w| {
            w.trim_end_matches(['.', '-', '_', '@'])
                .trim_start_matches(['.', '-', '_', '@'])
        })
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether every word of `needle` is a whole word of `text` (Zoho's full-text search matches
/// words, not any substring).
pub(super) fn has_words(text: &str, needle: &str) -> bool {
    let have: Vec<String> = words(text).collect();
    let mut want = words(needle).peekable();
    want.peek().is_some() && want.all(|w| have.contains(&w))
}

/// Zoho's search matching on one value: `abc` exact, `abc*` prefix, `*abc` suffix, `*abc*`
/// contains; several comma-separated values mean OR. Case-insensitive. No normalisation of
/// phone numbers (Zoho stores them as free text).
pub(crate) fn matches(pattern: &str, value: Option<&str>) -> bool {
    let Some(value) = value else { return false };
    let value = value.to_lowercase();
    pattern.split(',').any(|p| {
        let p = p.trim().to_lowercase();
        if p == "${empty}" {
            return value.is_empty();
        }
        if p == "${notempty}" {
            return !value.is_empty();
        }
        match (p.strip_prefix('*'), p.ends_with('*')) {
            (Some(rest), true) => {
                let inner = rest.trim_end_matches('*');
                !inner.is_empty() && value.contains(inner)
            }
            (Some(rest), false) => !rest.is_empty() && value.ends_with(rest),
            (None, true) => value.starts_with(p.trim_end_matches('*')),
            (None, false) => value == p,
        }
    })
}

/// Whether a record passes a search's common parameters: each of `fields` whose parameter is
/// given matches its pattern, `id` lists the record's id (comma-separated), and every word of
/// `_all` is a whole word of one of `texts`.
pub(super) fn search_hit(
    q: &Params,
    id: u64,
    fields: &[(&str, Option<&str>)],
    texts: &[Option<&str>],
) -> bool {
    fields
        .iter()
        .all(|(k, v)| q.get(*k).is_none_or(|p| matches(p, *v)))
        && q.get("id")
            .is_none_or(|p| p.split(',').any(|x| x.trim() == id.to_string()))
        && q.get("_all").is_none_or(|p| {
            let needle = p.trim_matches('*').to_lowercase();
            texts.iter().flatten().any(|v| has_words(v, &needle))
        })
}

/// Whether a parameter, when given, is exactly the record's id in that field (`contactId`,
/// `assigneeId`); a record without one does not match.
pub(super) fn is_id(q: &Params, key: &str, id: Option<u64>) -> bool {
    q.get(key)
        .is_none_or(|p| id.is_some_and(|id| p.trim() == id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_follow_zoho() {
        assert!(matches("5503302", Some("5503302")));
        assert!(!matches("550330", Some("5503302")));
        assert!(matches("*3302", Some("5503302")));
        assert!(matches("5503*", Some("5503302")));
        assert!(matches("*0330*", Some("5503302")));
        assert!(matches("111,5503302", Some("5503302")));
        assert!(!matches("+8613800138000", Some("13800138000")));
        assert!(!matches("*", Some("13800138000")));
        assert!(!matches("x", None));
        assert!(matches("JOHN*", Some("john carter")));
    }

    #[test]
    fn full_text_matches_whole_words() {
        assert!(has_words("Acme Ltd, +1 (415) 555-0134", "555-0134"));
        assert!(has_words("Acme Ltd, +1 (415) 555-0134", "acme 415"));
        assert!(!has_words("Acme Ltd, +1 (415) 555-0134", "0134"));
        assert!(!has_words("Acme Ltd", "acm"));
        assert!(has_words("5503310", "5503310"));
        assert!(!has_words("55033101", "5503310"));
        assert!(has_words("Call ID: 1702285525.16", "1702285525.16"));
        assert!(!has_words("anything", ""));
        assert!(has_words("Prefers a call back on 5503306.", "5503306"));
    }
}
