//! Presentational components shared by the pages.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::SignOut;
use crate::i18n::*;
use crate::model::Status;

/// English / 简体中文; the choice is remembered in a cookie. The page is drawn again in the
/// new language (`App`), so unsaved choices on it would be lost: the switch asks first, as
/// leaving the page does.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let unsaved = use_context::<UnsavedChanges>();
    let current = move || match i18n.get_locale() {
        Locale::zh_CN => "zh-CN",
        _ => "en",
    };
    let on_change = move |ev: leptos::ev::Event| {
        let locale = match event_target_value(&ev).as_str() {
            "zh-CN" => Locale::zh_CN,
            _ => Locale::en,
        };
        if unsaved.is_some_and(|u| u.0.get_untracked()) {
            let question = t_string!(i18n, unsaved_leave).to_string();
            if !window().confirm_with_message(&question).unwrap_or(true) {
                // Keep the choices, and the language the select shows.
                event_target::<web_sys::HtmlSelectElement>(&ev).set_value(current());
                return;
            }
        }
        i18n.set_locale(locale);
    };
    view! {
        <div class="lang">
            <label for="language">{t_string!(i18n, nav_language)}</label>
            <select id="language" on:change=on_change prop:value=current>
                <option value="en" selected=move || current() == "en">"English"</option>
                <option value="zh-CN" selected=move || current() == "zh-CN">"简体中文"</option>
            </select>
        </div>
    }
}

/// Once the page (or its island) has hydrated, `<html data-hydrated>` says so: what is clicked
/// or typed before then is held (`EARLY_ACTIONS`), and the journeys wait for it. Effects run
/// only in the browser.
pub fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
}

/// A navigation link's `rel`: a page the server draws on every visit is left to the browser.
fn nav_rel(path: &str) -> Option<&'static str> {
    crate::is_server_page(path).then_some("external")
}

/// Set by a page section while it holds choices not saved yet; the frame then asks before
/// the page is left (a link in the navigation, or closing/reloading the tab).
#[derive(Clone, Copy, Debug)]
pub struct UnsavedChanges(pub RwSignal<bool>);

/// The admin console's frame: navigation on the left, the page on the right.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let sign_out = ServerAction::<SignOut>::new();
    let unsaved = RwSignal::new(false);
    provide_context(UnsavedChanges(unsaved));
    Effect::new(move |_| {
        if unsaved.get() {
            let h = window_event_listener(leptos::ev::beforeunload, |ev| {
                ev.prevent_default();
                ev.set_return_value("unsaved");
            });
            on_cleanup(move || h.remove());
        }
    });
    // Runs before the router's own (window-level) handler, which skips prevented clicks.
    let confirm_leave = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        if !unsaved.get_untracked() {
            return;
        }
        let on_link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .is_some();
        let question = t_string!(i18n, unsaved_leave).to_string();
        if on_link && !window().confirm_with_message(&question).unwrap_or(true) {
            ev.prevent_default();
        }
    };
    view! {
        <div class="frame">
            <nav class="side" aria-label="Main" on:click=confirm_leave>
                <div class="brand">{t_string!(i18n, app_name)}</div>
                <p class="nav-group">{t_string!(i18n, nav_integrations)}</p>
                <A href="/integrations/helpdesk" attr:class="nav-link" attr:rel=nav_rel("/integrations/helpdesk") exact=true>{t_string!(i18n, nav_helpdesk)}</A>
                <A href="/integrations/helpdesk/log" attr:class="nav-link" attr:rel=nav_rel("/integrations/helpdesk/log")>{t_string!(i18n, nav_log)}</A>
                <p class="nav-group">{t_string!(i18n, nav_pbx)}</p>
                <A href="/pbx/connection" attr:class="nav-link" attr:rel=nav_rel("/pbx/connection")>{t_string!(i18n, nav_pbx_connection)}</A>
                <A href="/pbx/extensions" attr:class="nav-link" attr:rel=nav_rel("/pbx/extensions")>{t_string!(i18n, nav_extensions)}</A>
                <A href="/pbx/simulator" attr:class="nav-link" attr:rel=nav_rel("/pbx/simulator")>{t_string!(i18n, nav_simulator)}</A>
                // The manual's menu: 通讯录 › 企业联系人.
                <p class="nav-group">{t_string!(i18n, nav_phonebook)}</p>
                <A href="/pbx/contacts" attr:class="nav-link" attr:rel=nav_rel("/pbx/contacts")>{t_string!(i18n, nav_contacts)}</A>
                <a href="/agent" class="nav-link" target="_blank" rel="noopener">{t_string!(i18n, nav_agent)}</a>
                <div class="side-bottom">
                    <LanguageSwitch/>
                    <ActionForm action=sign_out>
                        <button type="submit" class="link-button">{t_string!(i18n, sign_out)}</button>
                    </ActionForm>
                </div>
            </nav>
            <main class="content"><AuthBanner/>{children()}</main>
        </div>
    }
}

/// On every admin page while the Zoho Desk authorization has expired: how many calls wait,
/// and the way to the consent (read in the browser: it never holds up a page).
#[component]
fn AuthBanner() -> impl IntoView {
    let i18n = use_i18n();
    let banner = move |a: crate::model::Attention| {
        a.auth_expired.then(|| {
            let count = a.waiting_calls;
            view! {
                <p class="banner expired" role="alert" id="auth-banner">
                    {t_string!(i18n, auth_banner, count)}" "
                    <a href="/integrations/helpdesk#auth-form">{t_string!(i18n, reauthorize)}</a>
                </p>
            }
        })
    };
    // A plain page has no script to ask later: the server asks as it draws the page.
    if crate::serving_plain_page() {
        let asked = Suspend::new(async move {
            crate::api::helpdesk::attention()
                .await
                .ok()
                .and_then(banner)
        });
        return view! { <Suspense fallback=|| ()>{asked}</Suspense> }.into_any();
    }
    let attention = LocalResource::new(crate::api::helpdesk::attention);
    view! {
        <Suspense fallback=|| ()>
            {move || attention.get().and_then(Result::ok).and_then(banner)}
        </Suspense>
    }
    .into_any()
}

/// A reference whose element takes the focus once it is drawn: a dialog's first choice or
/// field, so that the keyboard starts there.
pub fn focus_when_drawn<E>() -> NodeRef<E>
where
    E: leptos::tachys::html::element::ElementType + Send + Sync + 'static,
    E::Output: wasm_bindgen::JsCast + AsRef<web_sys::HtmlElement> + Clone + 'static,
{
    let r = NodeRef::<E>::new();
    Effect::new(move |_| {
        if let Some(el) = r.get() {
            let _ = AsRef::<web_sys::HtmlElement>::as_ref(&el).focus();
        }
    });
    r
}

/// A modal dialog: the backdrop, a `role="dialog"` box labelled by its title (the element
/// with id `title_id`, which the children hold), and Escape to close. Every dialog of the app
/// is one of these.
#[component]
pub fn Dialog(
    title_id: &'static str,
    on_close: impl Fn() + 'static + Send + Sync + Copy,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id
                on:keydown=move |ev| if ev.key() == "Escape" { on_close() }>
                {children()}
            </div>
        </div>
    }
}

/// A plain page's modal dialog (the server draws it open, as a view of the page): the
/// backdrop and a `role="dialog"` box labelled by its title. Its Cancel is a
/// [`CancelButton`], which Escape clicks (the plain pages' script).
#[component]
pub fn PlainDialog(title_id: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id>
                {children()}
            </div>
        </div>
    }
}

/// A query kept by a plain page's GET form (e.g. the selected group), as hidden fields.
fn kept_query(keep: Vec<(&'static str, String)>) -> impl IntoView {
    keep.into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
        .collect_view()
}

/// Closes a plain page's dialog or row form: a button of its own GET form back to `page`
/// with the query `keep` (e.g. the selected group), without the view it closes.
#[component]
pub fn CancelButton(
    page: &'static str,
    #[prop(optional)] keep: Vec<(&'static str, String)>,
    label: String,
) -> impl IntoView {
    view! {
        <form method="get" action=page class="row-view">
            {kept_query(keep)}
            <button type="submit" data-cancel="">{label}</button>
        </form>
    }
}

/// Opens one of a plain page's views of a row (`?edit=7`…), keeping the query `keep`: a
/// button of a GET form, so it is a button to the keyboard and to screen readers, and works
/// with no script.
#[component]
pub fn ViewButton(
    page: &'static str,
    #[prop(optional)] keep: Vec<(&'static str, String)>,
    view: &'static str,
    id: i64,
    label: String,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] disabled: bool,
    #[prop(default = None)] title: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="get" action=page class="row-view">
            {kept_query(keep)}
            <input type="hidden" name=view value=id/>
            <button type="submit" class=class aria-label=label disabled=disabled title=title>{children()}</button>
        </form>
    }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let i18n = use_i18n();
    let (class, text) = match status {
        Status::Connected => ("badge ok", t_string!(i18n, status_connected)),
        Status::Disabled => ("badge off", t_string!(i18n, status_disabled)),
        Status::NotConnected => ("badge neutral", t_string!(i18n, status_not_connected)),
        Status::ChooseOrg => ("badge warn", t_string!(i18n, status_choose_org)),
        Status::AuthExpired => ("badge warn", t_string!(i18n, status_auth_expired)),
        Status::Error => ("badge bad", t_string!(i18n, status_error)),
    };
    view! { <span class=class id="status-value">{text.to_string()}</span> }
}

/// A read-only value with a copy button that confirms.
#[component]
pub fn CopyField(id: &'static str, label: String, value: String) -> impl IntoView {
    let i18n = use_i18n();
    let (copied, set_copied) = signal(false);
    let v = value.clone();
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&v);
        }
        set_copied.set(true);
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="with-button">
                <input id=id type="text" readonly value=value/>
                <button type="button" on:click=copy aria-describedby=id
                    data-copy=id data-copied=t_string!(i18n, copied)>
                    {move || if copied.get() { t_string!(i18n, copied) } else { t_string!(i18n, copy) }}
                </button>
            </div>
        </div>
    }
}

/// While `running` is true (and the page is shown), calls `fetch` every `every_ms` and hands
/// each answer to `got`. The one polling loop of the pages.
pub fn poll_every<T, Fut>(
    every_ms: u64,
    running: Signal<bool>,
    fetch: fn() -> Fut,
    got: impl Fn(T) + Copy + 'static,
) where
    T: 'static,
    Fut: std::future::Future<Output = Result<T, crate::error::AppError>> + 'static,
{
    Effect::new(move |_| {
        if !running.get() {
            return;
        }
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(v) = fetch().await {
                        if running.get_untracked() {
                            got(v);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(every_ms),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
}

/// While `running` is true, asks `fetch` every half second how far the work is and keeps the
/// answer in the returned signal (`None` when nothing runs). The long actions (refreshing Zoho's
/// users, syncing the PBX's extensions) show it with [`ProgressLine`].
pub fn poll_progress<P, Fut>(running: Signal<bool>, fetch: fn() -> Fut) -> RwSignal<Option<P>>
where
    P: Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Option<P>, crate::error::AppError>> + 'static,
{
    let progress = RwSignal::new(None::<P>);
    Effect::new(move |_| {
        if !running.get() {
            progress.set(None);
        }
    });
    poll_every(500, running, fetch, move |p| progress.set(p));
    progress
}

/// A progress bar with its words: determinate when `fraction` (0–100) is known.
#[component]
pub fn ProgressLine(
    id: &'static str,
    #[prop(into)] text: Signal<String>,
    #[prop(into)] fraction: Signal<Option<f64>>,
) -> impl IntoView {
    view! {
        <div id=id class="fetching" role="status">
            <div class="progress" role="progressbar" aria-label=text
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=fraction
                class:determinate=move || fraction.get().is_some()>
                <div style:width=move || fraction.get().map(|f| format!("{f}%"))></div>
            </div>
            <span class="progress-text">{text}</span>
        </div>
    }
}

/// `done` of `total` as a percentage, when the total is known.
pub fn percent(done: usize, total: Option<usize>) -> Option<f64> {
    total
        .filter(|t| *t > 0)
        .map(|t| (done.min(t) as f64 / t as f64 * 100.0).round())
}

/// The common part of the two sign-in forms (the admin's, the agent's), inside the page's
/// `ActionForm`: the identity field given as children, then the password, the error and the
/// button.
#[component]
pub fn SignInFields(
    /// The password input's `id` (unique on its page).
    password_id: &'static str,
    /// Whether the password takes the focus (the identity is filled in already).
    #[prop(optional)]
    focus_password: bool,
    /// Why the last try failed, in words.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// A try is on its way: the button waits.
    #[prop(into)]
    pending: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        {children()}
        <div class="field">
            <label for=password_id>{t_string!(i18n, password)}</label>
            <input id=password_id name="password" type="password"
                autocomplete="current-password" required autofocus=focus_password/>
        </div>
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </Show>
        <div class="actions">
            <button type="submit" class="primary" disabled=move || pending.get()>
                {t_string!(i18n, sign_in)}
            </button>
        </div>
    }
}

/// A field's value as the user left it before the page hydrated.
pub enum Kept {
    Text(String),
    Checked(bool),
}

/// What the user typed, ticked or chose in the page's fields before it became interactive, by
/// the field's id. Hydration would put back what the server rendered (`bind:value` and `prop:`
/// write their signal into the field, and a select's signal keeps the server's choice), so the
/// WASM's entry point reads the fields just before it ([`remember_typed`]) and each field takes
/// its value back once it has hydrated ([`keep_typed`], [`keep_checked`], [`keep_chosen`]).
#[cfg(feature = "hydrate")]
mod typed {
    use super::Kept;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsCast;

    thread_local! {
        /// The page the values were read on, and the values. Another page (a client-side
        /// navigation) takes nothing from them.
        static TYPED: RefCell<(String, HashMap<String, Kept>)> = RefCell::default();
    }

    fn here() -> String {
        let location = leptos::prelude::window().location();
        location.pathname().unwrap_or_default() + &location.search().unwrap_or_default()
    }

    /// The fields whose value is not the one the server sent.
    pub fn remember() {
        let document = leptos::prelude::document();
        let Ok(list) = document.query_selector_all("input[id], textarea[id], select[id]") else {
            return;
        };
        let mut typed = HashMap::new();
        for i in 0..list.length() {
            let Some(node) = list.item(i) else { continue };
            if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
                if matches!(input.type_().as_str(), "checkbox" | "radio") {
                    if input.checked() != input.default_checked() {
                        typed.insert(input.id(), Kept::Checked(input.checked()));
                    }
                } else if input.value() != input.default_value() {
                    typed.insert(input.id(), Kept::Text(input.value()));
                }
            } else if let Some(area) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                if area.default_value().is_ok_and(|sent| sent != area.value()) {
                    typed.insert(area.id(), Kept::Text(area.value()));
                }
            } else if let Some(select) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
                // The server marks its choice `selected` (else the first option is shown).
                let sent = select
                    .query_selector("option[selected]")
                    .ok()
                    .flatten()
                    .or_else(|| select.query_selector("option").ok().flatten())
                    .and_then(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok())
                    .map(|o| o.value());
                if sent.is_some_and(|sent| sent != select.value()) {
                    typed.insert(select.id(), Kept::Text(select.value()));
                }
            }
        }
        TYPED.set((here(), typed));
    }

    pub fn take(id: &str) -> Option<Kept> {
        TYPED.with_borrow_mut(|(page, typed)| {
            if typed.is_empty() || *page != here() {
                return None;
            }
            typed.remove(id)
        })
    }
}

#[cfg(feature = "hydrate")]
pub use typed::remember as remember_typed;

/// Once the field `id` has hydrated, hands `set` its value as the user left it before.
fn keep_value(id: &'static str, set: impl Fn(Kept) + 'static) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(value) = typed::take(id) {
            set(value);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, set);
}

/// Once the field `id` has hydrated, hands `set` what the user typed or chose in it before.
pub fn keep_typed_with(id: &'static str, set: impl Fn(String) + 'static) {
    keep_value(id, move |value| {
        if let Kept::Text(text) = value {
            set(text);
        }
    });
}

/// Gives `value` back what the user typed into field `id` before the page hydrated.
pub fn keep_typed(id: &'static str, value: RwSignal<String>) {
    keep_typed_with(id, move |text| value.set(text));
}

/// Gives `choice` back the option the user chose in select `id` before the page hydrated,
/// read by `parse`.
pub fn keep_chosen<T: Send + Sync + 'static>(
    id: &'static str,
    choice: RwSignal<T>,
    parse: impl Fn(&str) -> T + 'static,
) {
    keep_typed_with(id, move |value| choice.set(parse(&value)));
}

/// Once checkbox or radio `id` has hydrated, hands `set` whether the user ticked or picked it
/// before (a radio group's newly picked button says `true`).
fn keep_checked_with(id: &'static str, set: impl Fn(bool) + 'static) {
    keep_value(id, move |value| {
        if let Kept::Checked(on) = value {
            set(on);
        }
    });
}

/// Gives `checked` back whether the user ticked checkbox `id` before the page hydrated.
pub fn keep_checked(id: &'static str, checked: RwSignal<bool>) {
    keep_checked_with(id, move |on| checked.set(on));
}

/// A labelled input of a form, with the message of its field error (`field` names it in the
/// server's `Invalid` answer). The server renders its value, and what is typed before the page
/// hydrates is kept.
#[component]
pub fn FormField(
    id: &'static str,
    field: &'static str,
    #[prop(into)] label: Signal<String>,
    /// The input's `type` (`text`, `url`).
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Vec<crate::model::FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = crate::pages::helpdesk::error_of(errors, field, i18n);
    keep_typed(id, value);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" placeholder=placeholder
                value=value.get_untracked() bind:value=value
                aria-invalid=move || error().is_some().to_string()/>
            <p class="field-error">{error}</p>
        </div>
    }
}

/// A plain form's text field: its label, what it holds (saved or as typed), and its error.
#[component]
pub fn PlainField(
    id: &'static str,
    /// The form field's `name` (e.g. `input[base_url]`).
    name: &'static str,
    label: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
    value: String,
    error: Option<String>,
    /// The first field a refusal names takes the focus.
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type=kind autocomplete="off" placeholder=placeholder value=value
                aria-invalid=error.is_some().to_string() autofocus=autofocus/>
            <p class="field-error">{error}</p>
        </div>
    }
}

/// A plain form's write-only secret: never shown, kept when left empty; `disabled` (and not
/// sent) while the sandbox's demo secret is chosen, which `placeholder` then says.
#[component]
pub fn PlainSecretField(
    id: &'static str,
    name: &'static str,
    label: String,
    placeholder: String,
    #[prop(optional)] hint: Option<String>,
    #[prop(optional)] disabled: bool,
    error: Option<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="password" autocomplete="new-password" disabled=disabled
                placeholder=placeholder aria-invalid=error.is_some().to_string()/>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <p class="field-error">{error}</p>
        </div>
    }
}

/// A write-only secret of a connection form (the Client Secret unless `id` and `field` say
/// otherwise): never shown, kept when left empty, or replaced by the sandbox's demo secret.
/// What is typed before the page hydrates is kept.
#[component]
pub fn SecretField(
    #[prop(into)] label: Signal<String>,
    /// The input's `id`, and the field its errors are reported for.
    #[prop(default = "client-secret")]
    id: &'static str,
    #[prop(default = "client_secret")] field: &'static str,
    /// A line under the field.
    #[prop(optional, into)]
    hint: Option<Signal<String>>,
    /// The placeholder while the sandbox's secret is chosen.
    #[prop(into)]
    sandbox_placeholder: Signal<String>,
    value: RwSignal<String>,
    use_sandbox: RwSignal<bool>,
    /// A secret is stored already.
    secret_set: bool,
    errors: RwSignal<Vec<crate::model::FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = crate::pages::helpdesk::error_of(errors, field, i18n);
    keep_typed(id, value);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="password" autocomplete="new-password"
                bind:value=value
                disabled=move || use_sandbox.get()
                placeholder=move || if use_sandbox.get() {
                    sandbox_placeholder.get()
                } else if secret_set {
                    t_string!(i18n, client_secret_set).to_string()
                } else {
                    String::new()
                }
                aria-invalid=move || error().is_some().to_string()/>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <p class="field-error">{error}</p>
        </div>
    }
}

/// The note that offers to fill a connection form with the local sandbox's values.
#[component]
pub fn SandboxNote(
    #[prop(into)] hint: Signal<String>,
    /// The button's `id` and words.
    button_id: &'static str,
    #[prop(into)] label: Signal<String>,
    on_fill: Callback<()>,
) -> impl IntoView {
    view! {
        <p class="note sandbox">
            <span>{hint}</span>
            <button type="button" id=button_id on:click=move |_| on_fill.run(())>{label}</button>
        </p>
    }
}
