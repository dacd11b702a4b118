//! `/integrations/helpdesk`: the Helpdesk Integration page (Zoho Desk), top to bottom: header
//! with the status, Network Information, Authorization Information, and the organization
//! choice when the Zoho account has several.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::helpdesk::{
    authorization_outcome, get_connection, rules, save_settings, users, Authorization,
    ChooseOrg as ChooseOrgFn, SetEnabled,
};
use crate::api::take_flash;
use crate::components::{
    keep_typed_with, CopyField, Dialog, FormField, Frame, SandboxNote, SecretField, StatusBadge,
};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    AuthFailure, AuthOutcome, ConnectionView, FieldError, FieldProblem, Flash, SettingsInput,
    Status,
};
use crate::pages::rules::{DisconnectButton, Rules, RulesResource};
use crate::pages::users::{UsersResource, ZohoUsers};
use leptos::server_fn::ServerFn;

#[component]
pub fn HelpdeskPage() -> impl IntoView {
    // Every resource of the page is created here, outside `<Transition>`: a resource created
    // while a suspended view renders makes server rendering wait on it again at every re-check
    // (leptos-rs/leptos#4866), which can leave the streamed page unfinished.
    let connection = Resource::new(|| (), |_| get_connection());
    let zoho_users = Resource::new(|| (), |_| users());
    let zoho_rules = Resource::new(|| (), |_| rules());
    // What a plain form of the page (the rules) left for it: drawn by the server, and handed
    // to the browser with the page.
    let flash = Resource::new(|| (), |_| take_flash());
    view! {
        <Frame>
            <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
                {move || connection.get().map(|r| match r {
                    Ok(view) => view! { <Connection view=view users=zoho_users rules=zoho_rules flash=flash.get().flatten() on_change=move || {
                        connection.refetch();
                        zoho_rules.refetch();
                        zoho_users.refetch();
                    }/> }.into_any(),
                    Err(AppError::Unauthorized) => view! {
                        <Redirect path="/login?next=/integrations/helpdesk"/>
                    }.into_any(),
                    Err(_) => view! { <LoadError retry=move || connection.refetch()/> }.into_any(),
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn LoadError(retry: impl Fn() + 'static + Send + Sync + Copy) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card error">
            <p role="alert">{t_string!(i18n, err_internal)}</p>
            <button type="button" on:click=move |_| retry()>"↻"</button>
        </section>
    }
}

/// The message for `field` among a form's field errors, if it has one.
pub fn error_of(
    errors: RwSignal<Vec<FieldError>>,
    field: &'static str,
    i18n: I18nContext,
) -> impl Fn() -> Option<String> + Copy + Send + Sync {
    field_message(errors, field, move |e| problem_text(i18n, e.problem))
}

/// `field`'s error among a refused plain form's field errors, in the reader's words.
pub fn error_in(list: &[FieldError], field: &str, i18n: I18nContext) -> Option<String> {
    list.iter()
        .find(|e| e.field == field)
        .map(|e| problem_text(i18n, e.problem))
}

/// `field`'s error among a form's field errors, in the words `message` gives it.
pub fn field_message(
    errors: RwSignal<Vec<FieldError>>,
    field: &'static str,
    message: impl Fn(&FieldError) -> String + Copy + Send + Sync,
) -> impl Fn() -> Option<String> + Copy + Send + Sync {
    move || {
        errors
            .get()
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| message(&e))
    }
}

/// A data centre's name in the reader's language.
fn data_centre_name(i18n: I18nContext, code: &str) -> String {
    match code {
        "us" => t_string!(i18n, dc_us),
        "eu" => t_string!(i18n, dc_eu),
        "in" => t_string!(i18n, dc_in),
        "au" => t_string!(i18n, dc_au),
        "jp" => t_string!(i18n, dc_jp),
        "ca" => t_string!(i18n, dc_ca),
        "cn" => t_string!(i18n, dc_cn),
        "sa" => t_string!(i18n, dc_sa),
        "uk" => t_string!(i18n, dc_uk),
        "ae" => t_string!(i18n, dc_ae),
        other => return other.to_string(),
    }
    .to_string()
}

pub fn problem_text(i18n: I18nContext, p: FieldProblem) -> String {
    match p {
        FieldProblem::Required => t_string!(i18n, field_required),
        FieldProblem::NotUrl => t_string!(i18n, field_not_url),
        FieldProblem::NotHttps => t_string!(i18n, field_not_https),
        FieldProblem::Credentials => t_string!(i18n, field_credentials),
        FieldProblem::QueryOrFragment => t_string!(i18n, field_query),
        FieldProblem::TooLong => t_string!(i18n, field_too_long),
        FieldProblem::NotExtensionNumber => t_string!(i18n, field_not_extension),
        FieldProblem::BadEmail => t_string!(i18n, field_bad_email),
        FieldProblem::Duplicate => t_string!(i18n, field_duplicate_extension),
        FieldProblem::NotPhoneNumber => t_string!(i18n, field_not_phone),
        FieldProblem::NoSuchExtension => t_string!(i18n, field_no_such_extension),
        FieldProblem::OneExtension => t_string!(i18n, field_one_extension),
        FieldProblem::NotRinging => t_string!(i18n, field_not_ringing),
        FieldProblem::CallEnded => t_string!(i18n, field_call_ended),
        FieldProblem::GroupNotEmpty => t_string!(i18n, field_group_not_empty),
        FieldProblem::ChooseOne => t_string!(i18n, field_choose_one),
        FieldProblem::NotInEdition => t_string!(i18n, field_not_in_edition),
        FieldProblem::PasswordTooShort => t_string!(i18n, field_password_short),
        FieldProblem::SecretForNewServer => t_string!(i18n, field_secret_new_server),
        FieldProblem::AnswerOnPhone => t_string!(i18n, field_answer_on_phone),
    }
    .to_string()
}

pub fn failure_text(i18n: I18nContext, f: AuthFailure) -> String {
    match f {
        AuthFailure::Denied => t_string!(i18n, fail_denied),
        AuthFailure::BadState => t_string!(i18n, fail_bad_state),
        AuthFailure::InvalidClient => t_string!(i18n, fail_invalid_client),
        AuthFailure::CodeExpired => t_string!(i18n, fail_code_expired),
        AuthFailure::RedirectUri => t_string!(i18n, fail_redirect_uri),
        AuthFailure::UntrustedServer => t_string!(i18n, fail_untrusted),
        AuthFailure::Network => t_string!(i18n, fail_network),
        AuthFailure::NoOrganization => t_string!(i18n, fail_no_org),
        AuthFailure::NotConfigured => t_string!(i18n, fail_not_configured),
        AuthFailure::Other => t_string!(i18n, fail_other),
    }
    .to_string()
}

#[component]
fn Connection(
    view: ConnectionView,
    users: UsersResource,
    rules: RulesResource,
    flash: Option<Flash>,
    on_change: impl Fn() + 'static + Send + Sync + Copy,
) -> impl IntoView {
    let i18n = use_i18n();
    let status = view.status;
    let linked = status != Status::NotConnected;
    let active = status == Status::Connected || status == Status::Disabled;
    let org_name = view.org_name.clone();
    let last_error = view.last_error.clone();
    let orgs = view.orgs.clone();
    let sandbox_on = view.sandbox.is_some();
    // Re-authorizing is saving the stored settings again: a new consent.
    let reauthorize = move |_| {
        use wasm_bindgen::JsCast;
        if let Some(form) = document()
            .get_element_by_id("auth-form")
            .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
        {
            let _ = form.request_submit();
        }
    };
    view! {
        {sandbox_on.then(|| view! { <p class="banner sandbox" role="note">{t_string!(i18n, sandbox_banner)}</p> })}
        <header class="page-head">
            <div class="title">
                <img src="/zoho-desk.svg" alt="" width="32" height="32"/>
                <h1>{t_string!(i18n, helpdesk_title)}</h1>
            </div>
            <div class="status" aria-live="polite">
                <span class="status-label" id="status-label">{t_string!(i18n, status)}</span>
                <StatusBadge status=status/>
                {(status == Status::Connected || status == Status::Disabled).then(|| view! {
                    <EnableSwitch on=status == Status::Connected/>
                })}
                {(status == Status::AuthExpired).then(|| view! {
                    <button type="button" class="primary" on:click=reauthorize>{t_string!(i18n, reauthorize)}</button>
                })}
                {linked.then(|| view! { <DisconnectButton flash=flash.clone()/> })}
            </div>
        </header>
        <p class="muted">{t_string!(i18n, helpdesk_intro)}</p>
        {org_name.filter(|_| status == Status::Connected || status == Status::Disabled).map(|n| view! {
            <p class="org-line">{t_string!(i18n, connected_org, name = n.clone())}</p>
        })}
        {view.org_not_admin.then(|| view! {
            <p class="note warn" role="status" id="org-not-admin">{t_string!(i18n, org_not_admin)}</p>
        })}
        {last_error.filter(|_| status == Status::Error || status == Status::AuthExpired).map(|m| view! {
            <p class="note warn" role="status">{t_string!(i18n, last_error, msg = m.clone())}</p>
        })}
        {(status == Status::ChooseOrg).then(|| view! { <ChooseOrg orgs=orgs.clone() flash=flash.clone()/> })}
        <NetworkInformation view=view.clone()/>
        <AuthorizationInformation view=view on_change=on_change/>
        <ZohoUsers users=users connected=status == Status::Connected/>
        {active.then(|| view! { <Rules rules=rules connected=active flash=flash.clone()/> })}
    }
}

/// "Enable Zoho Desk integration": off keeps recording calls but does no Zoho work. A switch
/// that is a form's button: pressed, it asks for the other state, with or without a script.
#[component]
fn EnableSwitch(on: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action=SetEnabled::url() class="switch-form">
            <input type="hidden" name="on" value=(!on).to_string()/>
            <button type="submit" class="switch" role="switch" aria-checked=on.to_string()>
                <span class="track" aria-hidden="true"></span>
                <span>{t_string!(i18n, enable_integration)}</span>
            </button>
        </form>
    }
}

#[component]
fn NetworkInformation(view: ConnectionView) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="network-title">
            <h2 id="network-title">{t_string!(i18n, network_information)}</h2>
            <p class="muted">{t_string!(i18n, network_hint)}</p>
            <CopyField id="homepage-url" label=t_string!(i18n, homepage_url).to_string() value=view.homepage_url/>
            <CopyField id="redirect-uri" label=t_string!(i18n, redirect_uri).to_string() value=view.redirect_uri/>
            {view.https_warning.then(|| view! { <p class="note warn">{t_string!(i18n, https_warning)}</p> })}
        </section>
    }
}

/// The organization choice, when the Zoho account has several: a form.
#[component]
fn ChooseOrg(orgs: Vec<crate::model::OrgChoice>, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let flash = Flash::of(&flash, "org");
    let asked = flash
        .as_ref()
        .map(|f| f.typed("org_id"))
        .unwrap_or_default();
    let message = flash.and_then(|f| f.error).map(|e| match e {
        AppError::Invalid(list) => error_in(&list, "org", i18n)
            .unwrap_or_else(|| t_string!(i18n, err_internal).to_string()),
        _ => t_string!(i18n, err_internal).to_string(),
    });
    view! {
        <section class="card highlight" aria-labelledby="org-title">
            <h2 id="org-title">{t_string!(i18n, choose_org_title)}</h2>
            <p class="muted">{t_string!(i18n, choose_org_hint)}</p>
            <form method="post" action=ChooseOrgFn::url()>
                <div class="field">
                    <label for="org">{t_string!(i18n, organization)}</label>
                    <select id="org" name="org_id">
                        {orgs.into_iter().map(|o| {
                            let chosen = o.id == asked;
                            view! { <option value=o.id.clone() selected=chosen>{o.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                {message.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, use_org)}</button>
                </div>
            </form>
        </section>
    }
}

/// The result dialog shown when the consent window finishes.
#[component]
fn ResultDialog(
    outcome: AuthOutcome,
    on_close: impl Fn() + 'static + Send + Sync + Copy,
) -> impl IntoView {
    let i18n = use_i18n();
    let (ok, title, text) = match outcome {
        AuthOutcome::Succeeded { choose_org } => (
            true,
            t_string!(i18n, result_title_ok).to_string(),
            if choose_org {
                format!(
                    "{} {}",
                    t_string!(i18n, auth_succeeded),
                    t_string!(i18n, auth_succeeded_choose)
                )
            } else {
                t_string!(i18n, auth_succeeded).to_string()
            },
        ),
        AuthOutcome::Failed(f) => (
            false,
            t_string!(i18n, result_title_failed).to_string(),
            failure_text(i18n, f),
        ),
    };
    let ok_button = crate::components::focus_when_drawn::<leptos::html::Button>();
    view! {
        <Dialog title_id="dialog-title" on_close=on_close>
            <h2 id="dialog-title" class=if ok { "ok" } else { "bad" }>
                {if ok { "✓ " } else { "✕ " }}{title}
            </h2>
            <p id="dialog-text">{text}</p>
            <div class="actions">
                <button type="button" class="primary" node_ref=ok_button on:click=move |_| on_close()>
                    {t_string!(i18n, ok)}
                </button>
            </div>
        </Dialog>
    }
}

#[component]
fn AuthorizationInformation(
    view: ConnectionView,
    on_change: impl Fn() + 'static + Send + Sync + Copy,
) -> impl IntoView {
    let i18n = use_i18n();
    let accounts = RwSignal::new(view.accounts_url.clone());
    let desk = RwSignal::new(view.desk_url.clone());
    let client_id = RwSignal::new(view.client_id.clone());
    let secret = RwSignal::new(String::new());
    let use_sandbox_secret = RwSignal::new(false);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let waiting = RwSignal::new(None::<Authorization>);
    let blocked = RwSignal::new(false);
    let outcome = RwSignal::new(None::<AuthOutcome>);
    let general_error = RwSignal::new(None::<String>);
    let secret_set = view.client_secret_set;
    let sandbox = view.sandbox.clone();
    let centres = view.data_centres.clone();

    let save = Action::new(move |input: &SettingsInput| {
        let input = input.clone();
        async move { save_settings(input).await }
    });

    // The consent window must be opened in the click itself (or browsers block it); its
    // address is set once the server has saved the settings and made the `state`. Its handle
    // is thread-bound local storage: made only in the browser, never while the server renders
    // (a page's values may be dropped on another thread there, and a thread-bound one would
    // panic and cut the page off: docs/decisions.md).
    let consent_window = ConsentWindow::new();
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        general_error.set(None);
        outcome.set(None);
        let w = window()
            .open_with_url_and_target("", "zoho-consent")
            .ok()
            .flatten();
        blocked.set(w.is_none());
        consent_window.set(w);
        save.dispatch(SettingsInput {
            accounts_url: accounts.get_untracked(),
            desk_url: desk.get_untracked(),
            client_id: client_id.get_untracked(),
            client_secret: secret.get_untracked(),
            use_sandbox_secret: use_sandbox_secret.get_untracked(),
        });
    };

    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        match result {
            Ok(auth) => {
                secret.set(String::new());
                consent_window.with(|w| {
                    let _ = w.location().set_href(&auth.consent_url);
                });
                waiting.set(Some(auth));
            }
            Err(e) => {
                consent_window.with(|w| {
                    let _ = w.close();
                });
                match e {
                    AppError::Invalid(list) => {
                        let first = list.first().map(|f| f.field.clone());
                        errors.set(list);
                        if let Some(id) = first {
                            if let Some(el) = document().get_element_by_id(&id.replace('_', "-")) {
                                use wasm_bindgen::JsCast;
                                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                                    let _ = el.focus();
                                }
                            }
                        }
                    }
                    AppError::Unauthorized => {
                        let _ = window()
                            .location()
                            .set_href("/login?next=/integrations/helpdesk");
                    }
                    AppError::ServerFn(_) => {
                        general_error.set(Some(t_string!(i18n, err_network).to_string()))
                    }
                    _ => general_error.set(Some(t_string!(i18n, err_internal).to_string())),
                }
            }
        }
    });

    // While an authorization is under way, ask the server every second whether the landing
    // page has finished it (works whether or not the consent window can talk to us).
    Effect::new(move |_| {
        let Some(auth) = waiting.get() else { return };
        let attempt = auth.attempt.clone();
        let handle = set_interval_with_handle(
            move || {
                let attempt = attempt.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(Some(o)) = authorization_outcome(attempt).await {
                        if waiting.get_untracked().is_some() {
                            waiting.set(None);
                            outcome.set(Some(o));
                        }
                    }
                });
            },
            std::time::Duration::from_millis(1000),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });

    // A data centre fills both URLs; chosen before the page is interactive, it fills them
    // then (and what is typed into them afterwards still wins).
    let pick = move |v: String| {
        if let Some((_, a, d)) = centres.iter().find(|(_, a, _)| *a == v) {
            accounts.set(a.clone());
            desk.set(d.clone());
        }
    };
    keep_typed_with("data-centre", pick.clone());
    let pick_centre = move |ev: leptos::ev::Event| pick(event_target_value(&ev));
    let centre_options = view.data_centres.clone();
    let current_centre = move || accounts.get();

    view! {
        <section class="card" aria-labelledby="auth-title">
            <h2 id="auth-title">{t_string!(i18n, authorization_information)}</h2>
            <p class="muted">{t_string!(i18n, authorization_hint)}</p>
            {sandbox.map(|s| {
                let fill = Callback::new(move |_: ()| {
                    accounts.set(s.accounts_url.clone());
                    desk.set(s.desk_url.clone());
                    client_id.set(s.client_id.clone());
                    secret.set(String::new());
                    use_sandbox_secret.set(true);
                    errors.set(vec![]);
                });
                view! {
                    <SandboxNote button_id="use-sandbox" on_fill=fill
                        hint=Signal::stored(t_string!(i18n, sandbox_fill_hint).to_string())
                        label=Signal::stored(t_string!(i18n, use_sandbox).to_string())/>
                }
            })}
            <form id="auth-form" on:submit=on_save novalidate>
                <div class="field">
                    <label for="data-centre">{t_string!(i18n, data_centre)}</label>
                    <select id="data-centre" on:change=pick_centre>
                        <option value="" selected=move || !centre_options.iter().any(|(_, a, _)| *a == current_centre())>
                            {t_string!(i18n, data_centre_custom)}
                        </option>
                        {view.data_centres.iter().map(|(code, a, _)| {
                            let a2 = a.clone();
                            let code = code.clone();
                            view! { <option value=a.clone() selected=move || accounts.get() == a2>{data_centre_name(i18n, &code)}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <FormField id="accounts-url" field="accounts_url" kind="url" value=accounts errors=errors
                    label=Signal::stored(t_string!(i18n, accounts_server_url).to_string())/>
                <FormField id="desk-url" field="desk_url" kind="url" value=desk errors=errors
                    label=Signal::stored(t_string!(i18n, zoho_desk_url).to_string())/>
                <FormField id="client-id" field="client_id" value=client_id errors=errors
                    label=Signal::stored(t_string!(i18n, client_id).to_string())/>
                <SecretField value=secret use_sandbox=use_sandbox_secret secret_set=secret_set
                    errors=errors
                    label=Signal::stored(t_string!(i18n, client_secret).to_string())
                    sandbox_placeholder=Signal::stored(t_string!(i18n, client_secret_sandbox).to_string())/>
                <Show when=move || general_error.get().is_some()>
                    <p class="form-error" role="alert">{move || general_error.get()}</p>
                </Show>
                <div class="actions">
                    <Show when=move || waiting.get().is_some()>
                        <span class="waiting" role="status">{t_string!(i18n, waiting_authorization)}</span>
                    </Show>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { t_string!(i18n, saving) } else { t_string!(i18n, save) }}
                    </button>
                </div>
                <Show when=move || blocked.get() && waiting.get().is_some()>
                    <p class="note warn">
                        {t_string!(i18n, popup_blocked)}" "
                        <a href=move || waiting.get().map(|a| a.consent_url).unwrap_or_default()
                            target="zoho-consent" rel="opener">{t_string!(i18n, open_consent)}</a>
                    </p>
                </Show>
            </form>
        </section>
        {move || outcome.get().map(|o| view! {
            <ResultDialog outcome=o on_close=move || { outcome.set(None); on_change(); }/>
        })}
    }
}

/// The Zoho consent window opened by Save: held in the browser only (see its use).
#[derive(Clone, Copy)]
struct ConsentWindow(Option<StoredValue<Option<web_sys::Window>, LocalStorage>>);

impl ConsentWindow {
    fn new() -> ConsentWindow {
        ConsentWindow((!cfg!(feature = "ssr")).then(|| StoredValue::new_local(None)))
    }

    fn set(&self, w: Option<web_sys::Window>) {
        if let Some(held) = self.0 {
            held.set_value(w);
        }
    }

    fn with(&self, f: impl FnOnce(&web_sys::Window)) {
        if let Some(held) = self.0 {
            held.with_value(|w| w.as_ref().map(f));
        }
    }
}
