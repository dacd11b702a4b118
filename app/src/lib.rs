#![forbid(unsafe_code)]
#![recursion_limit = "256"]
//! The Leptos admin app: pages, components and server functions; and, behind the `ssr`
//! feature, the integration engine.

pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod engine;
pub mod error;
pub mod i18n;
pub mod model;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};

/// The Redirect URI's path (docs/interfaces.md). The router's `path!` needs the same words as
/// a literal; a test checks they agree.
pub const OAUTH_CALLBACK_PATH: &str = "/oauth/zoho/callback";
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;
use leptos_router::SsrMode;

use crate::i18n::*;

/// The HTML document rendered on the server around the app (`<html lang>` is set by the
/// translation layer).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    // The stylesheet shares the script's content-hashed name (frontend/build-site.sh).
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    // A page served as plain HTML has nothing to wait for: it is interactive as it arrives.
    let path = requested_path().unwrap_or_default();
    let plain = is_plain_page(&path);
    let scripts = if plain {
        view! { <script nonce=leptos::nonce::use_nonce() inner_html=plain_page_script()></script> }
            .into_any()
    } else if is_island_page(&path) {
        // The islands bundle (frontend/islands): the page's islands only, not the admin's app.
        let mut islands = options.clone();
        islands.output_name = format!("{}-islands", options.output_name).into();
        view! {
            <script nonce=leptos::nonce::use_nonce() inner_html=EARLY_ACTIONS></script>
            <HydrationScripts options=islands islands=true/>
        }
        .into_any()
    } else {
        view! {
            <script nonce=leptos::nonce::use_nonce() inner_html=EARLY_ACTIONS></script>
            <HydrationScripts options=options.clone()/>
        }
        .into_any()
    };
    view! {
        <!DOCTYPE html>
        <html data-hydrated=plain.then_some("")>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options/>
                {scripts}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The pages served as plain HTML, with no WASM: their forms are HTML forms the server
/// answers (with a redirect, the page again or the next page), and nothing on them is live.
/// The pages of [`is_island_page`] load the islands bundle; the others, the whole app
/// (docs/decisions.md, 2026-12-06 evening 2: the page weight, page by page).
pub fn is_plain_page(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    matches!(
        path,
        "/login"
            | OAUTH_CALLBACK_PATH
            | "/pbx/extensions"
            | "/pbx/contacts"
            | "/pbx/connection"
            | "/pbx/simulator"
            | "/integrations/helpdesk"
            | "/integrations/helpdesk/log"
    )
}

/// The pages whose interactive parts are islands (`#[island]`), hydrated by the small islands
/// bundle rather than the admin's whole app.
pub fn is_island_page(path: &str) -> bool {
    path.trim_end_matches('/') == "/agent"
}

/// The admin's pages: only for a signed-in admin (the server sends anyone else to sign in).
pub fn is_admin_page(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path.is_empty()
        || path == "/integrations/helpdesk"
        || path == "/integrations/helpdesk/log"
        || matches!(
            path.strip_prefix("/pbx/"),
            Some("connection" | "extensions" | "contacts" | "simulator")
        )
}

/// Whether the server is drawing a plain page (false in the browser: the app draws none).
pub(crate) fn serving_plain_page() -> bool {
    requested_path().is_some_and(|p| is_plain_page(&p))
}

/// The path of the page the server is rendering (`None` in the browser).
fn requested_path() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().map(|p| p.uri.path().to_string())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The script of a plain page (a few lines, no WASM): what HTML alone cannot do.
/// - The language switch: the choice is remembered in the cookie the app's own switch writes,
///   and the server draws the page again in it.
/// - A form sent is sent once: a second click while the answer comes is ignored (the form
///   says it is busy).
/// - A form marked `data-autosubmit` (the log's filters) is sent as one of its fields changes.
/// - A copy button (`data-copy="<field id>"`) copies the field and says so (`data-copied`).
/// - Escape closes the open dialog (its Cancel).
/// - The live parts (`data-live="<ms>"`, each with an id) are drawn again by the server every
///   so often: the page is asked for again (`x-live`: it leaves a form's flash alone) and those
///   elements are swapped in where they changed, nothing else, so nothing typed is touched.
///   Not while the tab is hidden. A form marked `data-live-while="<id>"` makes that part live
///   while its answer comes (a long sync's progress).
fn plain_page_script() -> String {
    format!(
        "(function(){{var d=document;\
addEventListener('change',function(e){{var s=e.target;if(s.id!=='language')return;\
d.cookie='{}='+encodeURIComponent(s.value)+'{}';location.reload()}});\
addEventListener('submit',function(e){{var f=e.target;\
if(f.getAttribute('aria-busy')){{e.preventDefault();return}}f.setAttribute('aria-busy','true');\
var w=d.getElementById(f.getAttribute('data-live-while'));if(w){{w.setAttribute('data-live','500');later(200)}}}});\
addEventListener('pageshow',function(e){{if(!e.persisted)return;\
d.querySelectorAll('form[aria-busy]').forEach(function(f){{f.removeAttribute('aria-busy')}})}});\
addEventListener('change',function(e){{var f=e.target.form;\
if(f&&f.hasAttribute('data-autosubmit'))f.requestSubmit()}});\
addEventListener('click',function(e){{var b=e.target.closest&&e.target.closest('[data-copy]');if(!b)return;\
var i=d.getElementById(b.getAttribute('data-copy'));if(i&&navigator.clipboard)navigator.clipboard.writeText(i.value);\
b.textContent=b.getAttribute('data-copied')}});\
addEventListener('keydown',function(e){{if(e.key!=='Escape')return;\
var c=d.querySelector('[role=dialog] [data-cancel]');if(c)c.click()}});\
var tm,busy=false;function later(ms){{clearTimeout(tm);tm=setTimeout(tick,ms)}}\
function tick(){{if(busy)return;var ms=0;d.querySelectorAll('[data-live][id]').forEach(function(el){{\
var v=+el.getAttribute('data-live')||2000;if(!ms||v<ms)ms=v}});\
if(!ms||d.hidden){{later(1000);return}}busy=true;\
fetch(location.href,{{headers:{{'x-live':'1'}}}}).then(function(r){{return r.ok?r.text():''}}).then(function(t){{\
if(!t)return;var n=new DOMParser().parseFromString(t,'text/html');\
d.querySelectorAll('[data-live][id]').forEach(function(el){{var m=n.getElementById(el.id);\
if(m&&m.outerHTML!==el.outerHTML)el.replaceWith(d.importNode(m,true))}})}}).catch(function(){{}})\
.then(function(){{busy=false;later(ms)}})}}\
addEventListener('DOMContentLoaded',function(){{later(1000)}})}})()",
        i18n::COOKIE,
        i18n::COOKIE_ATTRIBUTES
    ) + ";"
        + PLAIN_FORM_EXTRAS
}

/// What the plain pages' bigger forms need beyond HTML (the Helpdesk page's):
/// - `data-enabled-by="<checkbox id>"`: disabled while that box is unticked (a rule's choices);
///   `data-shown-when="<select id>=<value>"`: shown only while that select says so.
/// - `select[data-fills]`: its option's `data-fill` (JSON: field id → value) fills those
///   fields (a data centre's two URLs).
/// - `select[data-options="<template id>"]`: holds only its own choice until it is used, then
///   every option of the template (one list of extensions for thousands of rows).
/// - `form[data-unsaved="<question>"]`: once changed, shows `[data-unsaved-note]` and asks
///   `<question>` before a link or another form leaves the page (a `[data-discard]` form
///   does not ask); sent or reset, it is saved or given up.
/// - `form[data-consent]`: opens Zoho's consent window in the click, asks the form's server
///   function for the consent page (JSON), sends the window there and this page to the
///   attempt it waits for (`?attempt=`). Refused (or the window blocked), the form goes as a
///   plain form, and the page that answers says why (or offers the consent page's link).
const PLAIN_FORM_EXTRAS: &str = "(function(){var d=document,dirty=null,leaving=false;\
function each(q,f){d.querySelectorAll(q).forEach(f)}\
function note(on){each('[data-unsaved-note]',function(n){n.hidden=!on})}\
function deps(){each('[data-enabled-by]',function(el){var c=d.getElementById(el.getAttribute('data-enabled-by'));\
if(c)el.disabled=!c.checked});each('[data-shown-when]',function(el){var p=el.getAttribute('data-shown-when').split('='),\
s=d.getElementById(p[0]);if(s)el.hidden=s.value!==p[1]})}\
addEventListener('DOMContentLoaded',deps);\
addEventListener('change',function(e){deps();var t=e.target,f=t.form;\
if(t.matches&&t.matches('select[data-fills]')){var o=t.selectedOptions[0],v=o&&o.getAttribute('data-fill');\
if(v){var m=JSON.parse(v);Object.keys(m).forEach(function(id){var i=d.getElementById(id);if(i)i.value=m[id]})}}\
if(f&&f.hasAttribute('data-unsaved')){dirty=f;note(true)}});\
function fill(s){var t=d.getElementById(s.getAttribute('data-options'));if(!t||s.getAttribute('data-filled'))return;\
var v=s.value;Array.prototype.slice.call(s.options).forEach(function(o){if(o.value)o.remove()});\
s.appendChild(t.content.cloneNode(true));s.value=v;s.setAttribute('data-filled','1')}\
['focusin','pointerdown'].forEach(function(k){addEventListener(k,function(e){var s=e.target;\
if(s.matches&&s.matches('select[data-options]'))fill(s)},true)});\
addEventListener('reset',function(e){if(e.target===dirty){dirty=null;note(false)}});\
function ask(){return!dirty||leaving||(leaving=confirm(dirty.getAttribute('data-unsaved')))}\
addEventListener('submit',function(e){var f=e.target;\
if(dirty&&f!==dirty&&!f.hasAttribute('data-discard')&&!ask()){e.preventDefault();e.stopImmediatePropagation();return}\
leaving=true;if(!f.hasAttribute('data-consent')||f.getAttribute('aria-busy')||e.defaultPrevented)return;\
var w=open('','zoho-consent');if(!w)return;e.preventDefault();\
fetch(f.action,{method:'POST',body:new URLSearchParams(new FormData(f)),headers:{'Accept':'application/json'}})\
.then(function(r){return r.ok?r.json():Promise.reject(r)})\
.then(function(a){w.location.href=a.consent_url;location.href=location.pathname+'?attempt='+encodeURIComponent(a.attempt)})\
.catch(function(){w.close();f.removeAttribute('data-consent');f.submit()})},true);\
addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a[href]');\
if(a&&!a.target&&!ask())e.preventDefault()});\
addEventListener('beforeunload',function(e){if(dirty&&!leaving){e.preventDefault();e.returnValue=''}});\
addEventListener('DOMContentLoaded',function(){var l=d.getElementById('language');if(l)l.setAttribute('data-was',l.value)});\
addEventListener('change',function(e){var s=e.target;if(s.id!=='language'||!dirty)return;\
if(!ask()){e.stopImmediatePropagation();s.value=s.getAttribute('data-was')||s.value}},true)})()";

/// Forms sent before the page is interactive (Enter pressed, or Save clicked, while the WASM
/// still loads) would go to the browser as plain HTML forms: the page would reload and what was
/// typed would be lost. Until `<html data-hydrated>`, such submits are held (the form says it
/// is busy) and sent again once the page has hydrated, after the fields took back what was
/// typed ([`components::keep_typed`]). Forms with an `action` (sign-in, sign-out) work without
/// the WASM and go as they are. Buttons that are not a form's submit (the Helpdesk page's
/// Re-authorize, Auto-bind, Save bindings…) have no handler before then: their clicks are held the same way
/// and clicked again, in the order they came, once the handlers are there.
const EARLY_ACTIONS: &str = "(function(){var d=document.documentElement,q=[];\
function hold(e,el,run){e.preventDefault();e.stopPropagation();el.setAttribute('aria-busy','true');\
if(!q.some(function(h){return h[0]===el}))q.push([el,run])}\
addEventListener('submit',function(e){var f=e.target;\
if(d.hasAttribute('data-hydrated')||f.hasAttribute('action'))return;\
hold(e,f,function(){f.requestSubmit()})},true);\
addEventListener('click',function(e){if(d.hasAttribute('data-hydrated')||!e.target.closest)return;\
var b=e.target.closest('button[type=button]');if(b)hold(e,b,function(){b.click()})},true);\
new MutationObserver(function(_,o){if(!d.hasAttribute('data-hydrated'))return;o.disconnect();\
setTimeout(function(){q.forEach(function(h){h[0].removeAttribute('aria-busy');\
if(h[0].isConnected&&!h[0].disabled)h[1]()})})}).observe(d,{attributeFilter:['data-hydrated']})})()";

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
    provide_i18n();
    // In the browser, once the page has hydrated, `<html data-hydrated>` says so.
    components::mark_hydrated();
    view! {
        <HtmlLang/>
        <AppTitle/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/integrations/helpdesk"/> }/>
                <Route path=path!("/login") view=|| server_page(pages::login::LoginPage)/>
                <Route path=path!("/integrations/helpdesk") view=|| server_page(pages::helpdesk::HelpdeskPage) ssr=SsrMode::Async/>
                <Route path=path!("/oauth/zoho/callback") view=|| server_page(pages::callback::CallbackPage)/>
                <Route path=path!("/integrations/helpdesk/log") view=|| server_page(pages::log::LogPage) ssr=SsrMode::Async/>
                <Route path=path!("/pbx/extensions") view=|| server_page(pages::extensions::ExtensionsPage) ssr=SsrMode::Async/>
                <Route path=path!("/pbx/connection") view=|| server_page(pages::pbx_connection::PbxConnectionPage) ssr=SsrMode::Async/>
                <Route path=path!("/pbx/contacts") view=|| server_page(pages::contacts::ContactsPage) ssr=SsrMode::Async/>
                <Route path=path!("/pbx/simulator") view=|| server_page(pages::simulator::SimulatorPage) ssr=SsrMode::Async/>
                <Route path=path!("/agent") view=|| server_page(pages::agent::AgentPage)/>
            </Routes>
        </Router>
    }
}

/// A page, drawn again in the new language when the user switches: every text follows, the
/// ones computed once per row or message included, without a reactive closure per text
/// (`LanguageSwitch` asks first when choices on the page are unsaved).
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn redrawn<V: IntoView + 'static>(page: fn() -> V) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        i18n.track_redraws();
        untrack(page)
    }
}

/// A page the admin's app in the browser never draws (a plain page, or one with islands of
/// its own): the server does. The app's own navigation to it (signing out, a redirect to sign
/// in) loads it from the server.
#[cfg(feature = "ssr")]
fn server_page<V: IntoView + 'static>(page: fn() -> V) -> impl IntoView {
    redrawn(page)
}

#[cfg(not(feature = "ssr"))]
fn server_page<V: IntoView + 'static>(_page: fn() -> V) -> impl IntoView {
    // The router's location is the page asked for; the browser's address may not be yet.
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        let href = format!(
            "{}{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked(),
            location.hash.get_untracked()
        );
        let _ = window().location().replace(&href);
    });
}

/// Whether the server draws this page on every visit (the app's bundle does not): links to
/// it leave the app's router (`rel="external"`).
pub fn is_server_page(path: &str) -> bool {
    is_plain_page(path) || is_island_page(path)
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
    view! { <main class="landing"><h1>{t_string!(i18n, not_found)}</h1></main> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_pages_are_the_admins_and_which_are_plain() {
        for admin in [
            "/",
            "/integrations/helpdesk",
            "/integrations/helpdesk/",
            "/integrations/helpdesk/log",
            "/pbx/connection",
            "/pbx/extensions",
            "/pbx/contacts",
            "/pbx/simulator",
        ] {
            assert!(is_admin_page(admin), "{admin}");
        }
        // Every admin page is plain HTML now.
        for plain in [
            "/pbx/extensions",
            "/pbx/contacts",
            "/pbx/connection",
            "/pbx/simulator",
            "/integrations/helpdesk",
            "/integrations/helpdesk/log",
        ] {
            assert!(is_plain_page(plain) && is_server_page(plain), "{plain}");
        }
        // Only the root (a redirect to the Helpdesk page) is left to the app.
        assert!(!is_server_page("/"));
        for other in [
            "/login",
            "/agent",
            OAUTH_CALLBACK_PATH,
            "/pbx",
            "/pbx/other",
            "/api/sign_in",
        ] {
            assert!(!is_admin_page(other), "{other}");
        }
        assert!(is_plain_page("/login") && is_plain_page(OAUTH_CALLBACK_PATH));
        assert!(!is_plain_page("/agent") && is_server_page("/agent"));
    }
}
