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

/// The HTML document rendered on the server around the app (`<html lang>` is set by the
/// translation layer).
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/helpdesk.css"/>
        <I18nContextProvider>
            <AppTitle/>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/integrations/helpdesk"/> }/>
                    <Route path=path!("/login") view=pages::login::LoginPage/>
                    <Route path=path!("/integrations/helpdesk") view=pages::helpdesk::HelpdeskPage/>
                    <Route path=path!("/oauth/zoho/callback") view=pages::callback::CallbackPage/>
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

#[component]
fn AppTitle() -> impl IntoView {
    let i18n = use_i18n();
    view! { <Title text=move || t_string!(i18n, app_name).to_string()/> }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! { <main class="landing"><h1>{t!(i18n, not_found)}</h1></main> }
}
