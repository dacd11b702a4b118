//! `/integrations/helpdesk`: the Helpdesk Integration page (Zoho Desk), top to bottom: header
//! with the status, the switch and Disconnect; Network Information; Authorization
//! Information; the organization choice when the Zoho account has several; the Zoho Desk
//! users and their bindings; the rules.
//!
//! A plain page (no WASM): every action is an HTML form the server answers with this page
//! again (`api::ssr::answer_plain_form`). Save opens Zoho's consent window from the plain
//! pages' script (`data-consent`), and the page waits for the attempt (`?attempt=`, live)
//! until its result dialog. Views of the page: `?sandbox=1` (the form filled with the
//! sandbox's values), `?disconnect=1`, `?auto_bind=1`; the users' search and page are
//! `?q=&page=`.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::helpdesk::{
    authorization_attempt, get_connection, rules, users, users_last_refresh,
    users_refresh_progress, ChooseOrg as ChooseOrgFn, SaveSettings, SetEnabled,
};
use crate::api::take_flash;
use crate::components::{
    CopyField, Frame, PlainDialog, PlainField, PlainSecretField, StatusBadge, ViewButton,
};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    AuthAttempt, AuthFailure, AuthOutcome, ConnectionView, FieldError, FieldProblem, Flash, Status,
};
use crate::pages::rules::{DisconnectButton, Rules};
use crate::pages::users::{UsersQuery, ZohoUsers};

/// The page (where its forms and views come back to).
pub const HELPDESK: &str = "/integrations/helpdesk";

/// How often the page asks whether the consent window finished (ms).
const ATTEMPT_EVERY_MS: u32 = 1000;

#[component]
pub fn HelpdeskPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let asked = move |k: &str| query.with_untracked(|q| q.get(k));
    let sandbox = asked("sandbox").is_some();
    let attempt = asked("attempt");
    let users_query = UsersQuery {
        search: asked("q").unwrap_or_default(),
        page: asked("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1usize)
            .max(1),
        auto_bind: asked("auto_bind").is_some(),
    };
    let page = Suspend::new(async move {
        let flash = take_flash().await;
        let view = get_connection().await;
        let attempt = match attempt {
            Some(a) => authorization_attempt(a).await.ok(),
            None => None,
        };
        let Ok(view) = view else {
            return view! {
                <section class="card error"><p role="alert">{t_string!(i18n, err_internal)}</p></section>
            }
            .into_any();
        };
        let connected = view.status == Status::Connected;
        let active = connected || view.status == Status::Disabled;
        let users = users().await;
        let progress = users_refresh_progress().await.ok().flatten();
        let last_refresh = users_last_refresh().await.ok().flatten();
        let rules = if active { rules().await.ok() } else { None };
        view! {
            <Connection view flash=flash.clone() attempt sandbox/>
            <ZohoUsers users progress last_refresh query=users_query connected flash=flash.clone()/>
            {rules.map(|v| view! { <Rules v connected=active flash=flash.clone()/> })}
        }
        .into_any()
    });
    view! {
        <Frame>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
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
    flash: Option<Flash>,
    attempt: Option<AuthAttempt>,
    sandbox: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let status = view.status;
    let linked = status != Status::NotConnected;
    let org_name = view.org_name.clone();
    let last_error = view.last_error.clone();
    let orgs = view.orgs.clone();
    let sandbox_on = view.sandbox.is_some();
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
                // Re-authorizing is saving the stored settings again: a new consent.
                {(status == Status::AuthExpired).then(|| view! {
                    <button type="submit" form="auth-form" class="primary">{t_string!(i18n, reauthorize)}</button>
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
        <AuthorizationInformation view flash sandbox/>
        <AttemptState attempt/>
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

/// Where the authorization this page started stands (`?attempt=`): waiting, drawn again every
/// second until the consent window has finished it, then its result dialog.
#[component]
fn AttemptState(attempt: Option<AuthAttempt>) -> impl IntoView {
    let i18n = use_i18n();
    let waiting = matches!(attempt, Some(AuthAttempt::Waiting { .. }));
    let body = match attempt {
        Some(AuthAttempt::Waiting { consent_url }) => view! {
            <p class="waiting" role="status">{t_string!(i18n, waiting_authorization)}</p>
            <p class="note">
                {t_string!(i18n, popup_blocked)}" "
                <a href=consent_url target="zoho-consent" rel="opener">{t_string!(i18n, open_consent)}</a>
            </p>
        }
        .into_any(),
        Some(AuthAttempt::Finished(outcome)) => view! { <ResultDialog outcome/> }.into_any(),
        _ => ().into_any(),
    };
    view! {
        <div id="auth-attempt" class="card-note" data-live=waiting.then_some(ATTEMPT_EVERY_MS)>{body}</div>
    }
}

/// The result dialog of a finished authorization; OK goes back to the page.
#[component]
fn ResultDialog(outcome: AuthOutcome) -> impl IntoView {
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
    view! {
        <PlainDialog title_id="dialog-title">
            <h2 id="dialog-title" class=if ok { "ok" } else { "bad" }>
                {if ok { "✓ " } else { "✕ " }}{title}
            </h2>
            <p id="dialog-text">{text}</p>
            <div class="actions">
                <form method="get" action=HELPDESK class="row-view">
                    <button type="submit" class="primary" data-cancel="" autofocus>{t_string!(i18n, ok)}</button>
                </form>
            </div>
        </PlainDialog>
    }
}

/// The Authorization Information form. Save opens Zoho's consent window (the plain pages'
/// script, `data-consent`); "Use the sandbox" is the page's view `?sandbox=1`, the form filled
/// with the sandbox's values.
#[component]
fn AuthorizationInformation(
    view: ConnectionView,
    flash: Option<Flash>,
    sandbox: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let flash = Flash::of(&flash, "auth").filter(|f| f.error.is_some());
    let errors: Vec<FieldError> = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
    let fill = view.sandbox.clone().filter(|_| sandbox);
    let (accounts, desk, client_id, use_sandbox) = match (&fill, &flash) {
        (Some(s), _) => (
            s.accounts_url.clone(),
            s.desk_url.clone(),
            s.client_id.clone(),
            true,
        ),
        (None, Some(f)) => (
            f.typed("input[accounts_url]"),
            f.typed("input[desk_url]"),
            f.typed("input[client_id]"),
            f.typed("input[use_sandbox_secret]") == "true",
        ),
        (None, None) => (
            view.accounts_url.clone(),
            view.desk_url.clone(),
            view.client_id.clone(),
            false,
        ),
    };
    let general = flash
        .as_ref()
        .and_then(|f| f.error.as_ref())
        .and_then(|e| match e {
            AppError::Invalid(_) => None,
            AppError::ServerFn(_) => Some(t_string!(i18n, err_network).to_string()),
            _ => Some(t_string!(i18n, err_internal).to_string()),
        });
    let first_error = errors.first().map(|e| e.field.clone());
    let error = |field: &str| error_in(&errors, field, i18n);
    let secret_placeholder = if use_sandbox {
        t_string!(i18n, client_secret_sandbox).to_string()
    } else if view.client_secret_set {
        t_string!(i18n, client_secret_set).to_string()
    } else {
        String::new()
    };
    let centre_chosen = view.data_centres.iter().any(|(_, a, _)| *a == accounts);
    view! {
        <section class="card" aria-labelledby="auth-title">
            <h2 id="auth-title">{t_string!(i18n, authorization_information)}</h2>
            <p class="muted">{t_string!(i18n, authorization_hint)}</p>
            {view.sandbox.is_some().then(|| view! {
                // A `div`: a form cannot sit inside a `p`.
                <div class="note sandbox">
                    <span>{t_string!(i18n, sandbox_fill_hint)}</span>
                    <ViewButton page=HELPDESK view="sandbox" id=1 label=t_string!(i18n, use_sandbox).to_string()>
                        {t_string!(i18n, use_sandbox)}
                    </ViewButton>
                </div>
            })}
            <form id="auth-form" method="post" action=SaveSettings::url() novalidate data-consent="">
                <div class="field">
                    <label for="data-centre">{t_string!(i18n, data_centre)}</label>
                    <select id="data-centre" data-fills="">
                        <option value="" selected=!centre_chosen>{t_string!(i18n, data_centre_custom)}</option>
                        {view.data_centres.iter().map(|(code, a, d)| {
                            let fill = serde_json::json!({"accounts-url": a, "desk-url": d}).to_string();
                            view! {
                                <option value=a.clone() data-fill=fill selected=*a == accounts>{data_centre_name(i18n, code)}</option>
                            }
                        }).collect_view()}
                    </select>
                </div>
                <PlainField id="accounts-url" name="input[accounts_url]" kind="url" value=accounts
                    label=t_string!(i18n, accounts_server_url).to_string() error=error("accounts_url")
                    autofocus=first_error.as_deref() == Some("accounts_url")/>
                <PlainField id="desk-url" name="input[desk_url]" kind="url" value=desk
                    label=t_string!(i18n, zoho_desk_url).to_string() error=error("desk_url")
                    autofocus=first_error.as_deref() == Some("desk_url")/>
                <PlainField id="client-id" name="input[client_id]" value=client_id
                    label=t_string!(i18n, client_id).to_string() error=error("client_id")
                    autofocus=first_error.as_deref() == Some("client_id")/>
                <input type="hidden" name="input[use_sandbox_secret]" value=use_sandbox.to_string()/>
                <PlainSecretField id="client-secret" name="input[client_secret]" disabled=use_sandbox
                    label=t_string!(i18n, client_secret).to_string() placeholder=secret_placeholder
                    error=error("client_secret")/>
                {general.map(|g| view! { <p class="form-error" role="alert">{g}</p> })}
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, save)}</button>
                </div>
            </form>
        </section>
    }
}
