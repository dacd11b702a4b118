//! English and Simplified Chinese.
//!
//! The texts live in `app/locales/{en,zh-CN}.json`; `app/build.rs` turns them into constants
//! (`keys::<key>`, one text per language) and checks that both files have the same keys and the
//! same `{{ placeholders }}`. [`t_string!`] checks at compile time that a key exists and that
//! the call names exactly its placeholders. A text is read once, when its page is drawn: the
//! language switch draws the routed page again (`lib.rs`, `redrawn`), so no text needs a
//! reactive closure of its own (each would be one more effect, and code, in the WASM).
//!
//! The language: the `i18n_pref_locale` cookie (set when the user picks one), else the
//! browser's `Accept-Language` (every `zh*` tag means Simplified Chinese), else English. The
//! server writes it on `<html lang>`, where the browser reads it back when the page hydrates.

use leptos::prelude::*;
use leptos_meta::Html;

include!(concat!(env!("OUT_DIR"), "/i18n_keys.rs"));

/// The cookie that remembers the user's choice.
pub const COOKIE: &str = "i18n_pref_locale";
/// The cookie's attributes: the whole site, a year.
pub const COOKIE_ATTRIBUTES: &str = "; path=/; max-age=31536000; samesite=lax";

/// A language of the app.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    en,
    zh_CN,
}

impl Locale {
    /// Every language, in the order of the texts in [`keys`].
    pub const ALL: [Locale; 2] = [Locale::en, Locale::zh_CN];

    /// The position of this language's text in a [`keys`] constant.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The BCP 47 tag (`<html lang>`, the cookie).
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::en => "en",
            Locale::zh_CN => "zh-CN",
        }
    }

    /// A language tag as written by us or a browser (`en`, `en-GB`, `zh`, `zh-Hans`, `zh-TW`…).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::en),
            "zh" => Some(Locale::zh_CN),
            _ => None,
        }
    }

    /// The best language for an `Accept-Language` header: the tags by preference (`q`), the
    /// first we speak; English when none is.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut tags: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut fields = part.split(';');
                let tag = fields.next()?.trim();
                let q = fields
                    .filter_map(|f| f.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
            })
            .collect();
        tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        tags.iter()
            .find_map(|(_, _, tag)| Locale::from_tag(tag))
            .unwrap_or_default()
    }

    /// The language remembered in a `Cookie` header, if any.
    pub fn from_cookie_header(header: &str) -> Option<Locale> {
        header.split(';').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name.trim() == COOKIE)
                .then(|| Locale::from_tag(value))
                .flatten()
        })
    }
}

/// The page's language: read it in a reactive scope to follow the user's switch.
#[derive(Clone, Copy, Debug)]
pub struct I18nContext {
    locale: RwSignal<Locale>,
    /// Fires when the language changes: the routed page is drawn again (see `App`).
    redraw: Trigger,
}

impl I18nContext {
    pub fn get_locale(&self) -> Locale {
        self.locale.get()
    }

    pub fn get_locale_untracked(&self) -> Locale {
        self.locale.get_untracked()
    }

    /// Switches the page's language and remembers it for a year.
    ///
    /// The routed page is drawn again in the new language, so that texts computed once (a
    /// table's cells, a message) follow too. The old page must be gone before the texts that
    /// follow the language are told: one of its texts told first could read a value of the
    /// page already disposed. So the language changes silently, the page is redrawn (it reads
    /// the new language), and only then are the texts outside it (title, `<html lang>`) told.
    pub fn set_locale(&self, locale: Locale) {
        if self.locale.get_untracked() == locale {
            return;
        }
        self.locale.update_untracked(|l| *l = locale);
        self.redraw.notify();
        let signal = self.locale;
        leptos::task::spawn_local(async move { signal.notify() });
        #[cfg(feature = "hydrate")]
        remember(locale);
    }

    /// Subscribes to the language's redraws (the routed page's wrapper).
    pub fn track_redraws(&self) {
        self.redraw.track();
    }
}

#[cfg(feature = "hydrate")]
fn remember(locale: Locale) {
    use wasm_bindgen::JsCast;
    if let Some(doc) = document().dyn_ref::<web_sys::HtmlDocument>() {
        let _ = doc.set_cookie(&format!("{COOKIE}={}{COOKIE_ATTRIBUTES}", locale.as_str()));
    }
    // A page whose switch is in an island has no `HtmlLang` of its own to follow it.
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", locale.as_str());
    }
}

/// The language context of the page (see [`provide_i18n`]).
pub fn use_i18n() -> I18nContext {
    use_context::<I18nContext>().expect("provide_i18n() runs first in the app")
}

/// The language this page starts in.
fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use axum::http::header;
        let Some(parts) = use_context::<axum::http::request::Parts>() else {
            return Locale::default();
        };
        let h = &parts.headers;
        h.get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(Locale::from_cookie_header)
            .unwrap_or_else(|| {
                h.get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(Locale::from_accept_language)
                    .unwrap_or_default()
            })
    }
    #[cfg(not(feature = "ssr"))]
    {
        // What the server chose, so that hydration finds the same texts.
        document()
            .document_element()
            .and_then(|el| el.get_attribute("lang"))
            .and_then(|lang| Locale::from_tag(&lang))
            .unwrap_or_default()
    }
}

/// Provides the page's language to everything below (call it first in the app) and returns it;
/// [`HtmlLang`] writes it on `<html lang>`.
pub fn provide_i18n() -> I18nContext {
    let i18n = I18nContext {
        locale: RwSignal::new(initial_locale()),
        redraw: Trigger::new(),
    };
    provide_context(i18n);
    i18n
}

/// Writes the page's language on `<html lang>`, following the user's switch.
#[component]
pub fn HtmlLang() -> impl IntoView {
    let i18n = use_i18n();
    view! { <Html attr:lang=move || i18n.get_locale().as_str() attr:dir="ltr"/> }
}

/// Fills a text's `{{ name }}` placeholders (a name without a value stays as written).
pub fn fill(text: &str, vars: &[(&str, &dyn std::fmt::Display)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        let name = after[..end].trim();
        match vars.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                let _ = write!(out, "{value}");
            }
            None => out.push_str(&rest[start..start + 4 + end]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether a call names exactly the placeholders of its text (for the macros' compile-time
/// check).
pub const fn same_vars(expected: &[&str], given: &[&str]) -> bool {
    if expected.len() != given.len() {
        return false;
    }
    let mut i = 0;
    while i < given.len() {
        let mut found = false;
        let mut j = 0;
        while j < expected.len() {
            if str_eq(expected[j], given[i]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            return false;
        }
        i += 1;
    }
    true
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The text of a key in the page's language, as a `&'static str` or, with placeholders, a
/// `String`: `t_string!(i18n, key)`, `t_string!(i18n, key, name = expr, count)` (a bare name
/// stands for `name = name`).
macro_rules! t_string {
    ($i18n:expr, $key:ident) => {{
        const _: () = assert!(
            $crate::i18n::vars::$key.is_empty(),
            concat!("the text `", stringify!($key), "` has placeholders: name them")
        );
        $crate::i18n::keys::$key[$i18n.get_locale().index()]
    }};
    ($i18n:expr, $key:ident, $($var:ident $(= $val:expr)?),+ $(,)?) => {{
        const _: () = assert!(
            $crate::i18n::same_vars($crate::i18n::vars::$key, &[$(stringify!($var)),+]),
            concat!("the placeholders of `", stringify!($key), "` are not the ones named")
        );
        $crate::i18n::fill(
            $crate::i18n::keys::$key[$i18n.get_locale().index()],
            &[$((stringify!($var), &$crate::i18n::__value!($var $(= $val)?) as &dyn ::std::fmt::Display)),+],
        )
    }};
}

#[doc(hidden)]
macro_rules! __value {
    ($var:ident) => {
        $var
    };
    ($var:ident = $val:expr) => {
        $val
    };
}

pub(crate) use {__value, t_string};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_language_we_speak() {
        assert_eq!(Locale::from_accept_language("zh"), Locale::zh_CN);
        assert_eq!(
            Locale::from_accept_language("zh-TW,zh;q=0.9,en;q=0.8"),
            Locale::zh_CN
        );
        assert_eq!(Locale::from_accept_language("zh-Hans-CN"), Locale::zh_CN);
        assert_eq!(Locale::from_accept_language("en-US,en;q=0.9"), Locale::en);
        assert_eq!(
            Locale::from_accept_language("fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7"),
            Locale::zh_CN
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.5, zh-CN;q=0.9"),
            Locale::zh_CN
        );
        assert_eq!(Locale::from_accept_language("zh;q=0, en"), Locale::en);
        assert_eq!(Locale::from_accept_language("de"), Locale::en);
        assert_eq!(Locale::from_accept_language(""), Locale::en);
    }

    #[test]
    fn the_cookie_wins_when_it_names_a_language() {
        assert_eq!(
            Locale::from_cookie_header("a=1; i18n_pref_locale=zh-CN; b=2"),
            Some(Locale::zh_CN)
        );
        assert_eq!(
            Locale::from_cookie_header("i18n_pref_locale=en"),
            Some(Locale::en)
        );
        assert_eq!(Locale::from_cookie_header("i18n_pref_locale=xx"), None);
        assert_eq!(Locale::from_cookie_header("other=zh-CN"), None);
    }

    #[test]
    fn fill_replaces_named_placeholders_only() {
        assert_eq!(
            fill(
                "Showing {{ first }}–{{last}} of {{ count }}",
                &[("first", &1), ("last", &"100"), ("count", &2000)]
            ),
            "Showing 1–100 of 2000"
        );
        assert_eq!(fill("{{ a }} and {{ b }}", &[("a", &"x")]), "x and {{ b }}");
        assert_eq!(fill("no placeholders", &[]), "no placeholders");
        assert_eq!(fill("broken {{ a", &[("a", &1)]), "broken {{ a");
        assert_eq!(fill("Bearer <secret>", &[]), "Bearer <secret>");
    }

    #[test]
    fn every_key_has_both_languages_and_the_macros_check_names() {
        assert_eq!(
            keys::app_name[Locale::en.index()],
            "PBX Helpdesk Integration"
        );
        assert!(!keys::app_name[Locale::zh_CN.index()].is_empty());
        assert!(same_vars(vars::showing_rows, &["count", "first", "last"]));
        assert!(!same_vars(vars::showing_rows, &["count", "first"]));
        assert!(!same_vars(vars::showing_rows, &["count", "first", "lats"]));
        Owner::new().with(|| {
            let i18n = I18nContext {
                locale: RwSignal::new(Locale::zh_CN),
                redraw: Trigger::new(),
            };
            let (first, last, count) = (1, 2, 3);
            let zh = t_string!(i18n, showing_rows, first, last, count);
            assert!(
                zh.contains('1') && zh.contains('3') && !zh.contains("{{"),
                "{zh}"
            );
            i18n.locale.set(Locale::en);
            assert_eq!(
                t_string!(i18n, showing_rows, first = 1, last = 100, count = "2,000"),
                "Showing 1–100 of 2,000"
            );
        });
    }
}
