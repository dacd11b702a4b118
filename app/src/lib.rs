#![forbid(unsafe_code)]
#![recursion_limit = "256"]
//! The Leptos admin app: pages, components and server functions; and, behind the `ssr`
//! feature, the integration engine.

pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod engine;
pub mod error;
pub mod model;
pub mod pages;

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::i18n::*;
use leptos_i18n::context::{CookieOptions, UseLocalesOptions};

/// The remembered language: the whole site, for a year (`max_age` is in milliseconds).
fn locale_cookie_options() -> CookieOptions<Locale> {
    CookieOptions::<Locale>::default()
        .path("/")
        .max_age(365_i64 * 24 * 60 * 60 * 1000)
}

/// On a first visit the language comes from `Accept-Language`; every Chinese tag (`zh`,
/// `zh-Hans`, `zh-TW`, …) means our Simplified Chinese, which an exact match would miss.
fn accept_language_options() -> UseLocalesOptions {
    #[cfg(feature = "ssr")]
    {
        UseLocalesOptions::default().ssr_lang_header_getter(|| {
            let parts = use_context::<axum::http::request::Parts>()?;
            let raw = parts.headers.get(axum::http::header::ACCEPT_LANGUAGE)?;
            Some(normalize_accept_language(raw.to_str().ok()?))
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        UseLocalesOptions::default()
    }
}

/// Rewrites every `zh*` language tag of an `Accept-Language` value to `zh-CN`.
pub fn normalize_accept_language(header: &str) -> String {
    header
        .split(',')
        .filter_map(|part| {
            let tag = part.split(';').next().unwrap_or("").trim();
            if tag.is_empty() {
                return None;
            }
            let lower = tag.to_ascii_lowercase();
            Some(if lower == "zh" || lower.starts_with("zh-") {
                "zh-CN".to_string()
            } else {
                tag.to_string()
            })
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The HTML document rendered on the server around the app (`<html lang>` is set by the
/// translation layer).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: our own files, the WASM, and only the inline scripts
/// Leptos writes for hydration and streaming, which carry this response's nonce.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(resp)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        resp.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/helpdesk.css"/>
        <I18nContextProvider
            cookie_options=locale_cookie_options()
            ssr_lang_header_getter=accept_language_options()
        >
            <AppTitle/>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/integrations/helpdesk"/> }/>
                    <Route path=path!("/login") view=pages::login::LoginPage/>
                    <Route path=path!("/integrations/helpdesk") view=pages::helpdesk::HelpdeskPage/>
                    <Route path=path!("/oauth/zoho/callback") view=pages::callback::CallbackPage/>
                    <Route path=path!("/integrations/helpdesk/log") view=pages::log::LogPage/>
                    <Route path=path!("/pbx/extensions") view=pages::extensions::ExtensionsPage/>
                    <Route path=path!("/pbx/contacts") view=pages::contacts::ContactsPage/>
                    <Route path=path!("/pbx/simulator") view=pages::simulator::SimulatorPage/>
                    <Route path=path!("/agent") view=pages::agent::AgentPage/>
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

#[component]
fn AppTitle() -> impl IntoView {
    let i18n = use_i18n();
    // On the server the head is rendered after the page, possibly after the page's reactive
    // owner (and the i18n context in it) is gone: the server's title is the text as it was when
    // the page began. In the browser it follows the language switch.
    let at_start = t_string!(i18n, app_name).to_string();
    let text = move || {
        if cfg!(feature = "ssr") {
            at_start.clone()
        } else {
            t_string!(i18n, app_name).to_string()
        }
    };
    view! { <Title text=text/> }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! { <main class="landing"><h1>{t!(i18n, not_found)}</h1></main> }
}

#[cfg(test)]
mod tests {
    use super::normalize_accept_language;

    #[test]
    fn every_chinese_tag_means_simplified_chinese() {
        assert_eq!(normalize_accept_language("zh"), "zh-CN");
        assert_eq!(
            normalize_accept_language("zh-TW,zh;q=0.9,en;q=0.8"),
            "zh-CN,zh-CN,en"
        );
        assert_eq!(normalize_accept_language("en-US,en;q=0.9"), "en-US,en");
        assert_eq!(normalize_accept_language(""), "");
    }
}
