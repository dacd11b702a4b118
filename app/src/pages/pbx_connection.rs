//! `/pbx/connection`: the PBX's OpenAPI — its address, the API application's Client ID and
//! Client Secret, Test connection (the PBX's own words when it fails), Disconnect.
//!
//! A plain page (no WASM): every action is an HTML form the server answers with this page
//! again (`api::ssr::answer_plain_form`); "Use the PBX sandbox" is a view of the page
//! (`?sandbox=1`, the form filled with the sandbox's values). While a sync runs, its progress
//! is drawn again by the server every half second (`data-live`, the plain pages' script),
//! from a sync started in this tab or in another.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::pbx::{get_pbx_connection, get_pbx_last_sync, get_pbx_sync_progress};
use crate::api::pbx::{DisconnectPbx, SavePbxConnection, SyncPbxExtensions, TestPbxConnection};
use crate::api::take_flash;
use crate::components::{percent, Frame, PlainField, PlainSecretField};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    Flash, PbxConnectionView, PbxEventsVia, PbxSocketState, PbxStatus, PbxSyncProgress,
    PbxSyncReport,
};
use crate::pages::helpdesk::error_in;
use crate::pages::users::thousands;

/// How often a running sync's progress is drawn again (ms).
const SYNC_EVERY_MS: u32 = 500;

#[component]
pub fn PbxConnectionPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let sandbox = query.with_untracked(|q| q.get("sandbox").is_some());
    let page = Suspend::new(async move {
        let flash = take_flash().await;
        let progress = get_pbx_sync_progress().await.ok().flatten();
        let last = get_pbx_last_sync().await.ok().flatten();
        match get_pbx_connection().await {
            Ok(v) => view! { <PbxConnectionForm view=v progress last flash sandbox/> }.into_any(),
            Err(_) => {
                view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }
                    .into_any()
            }
        }
    });
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, pbx_connection_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, pbx_connection_intro)}</p>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
    }
}

/// The status line: what the last test found.
fn status_text(i18n: I18nContext, v: &PbxConnectionView) -> String {
    match v.status {
        PbxStatus::NotConfigured => t_string!(i18n, pbx_not_configured).to_string(),
        PbxStatus::Untested => t_string!(i18n, pbx_untested).to_string(),
        PbxStatus::Connected => {
            t_string!(i18n, pbx_connected, count = v.extension_count.unwrap_or(0)).to_string()
        }
        PbxStatus::Failed => t_string!(
            i18n,
            pbx_failed,
            error = v.last_error.clone().unwrap_or_default()
        )
        .to_string(),
    }
}

/// The event socket's line: its state as a data attribute, and in words.
fn socket_text(i18n: I18nContext, v: &PbxConnectionView) -> (&'static str, String) {
    match v.socket.state {
        PbxSocketState::Off => ("off", t_string!(i18n, pbx_socket_off).to_string()),
        PbxSocketState::Connecting => (
            "connecting",
            t_string!(i18n, pbx_socket_connecting).to_string(),
        ),
        PbxSocketState::Connected => (
            "connected",
            t_string!(i18n, pbx_socket_connected).to_string(),
        ),
        PbxSocketState::Reconnecting => (
            "reconnecting",
            t_string!(
                i18n,
                pbx_socket_reconnecting,
                error = v.socket.error.clone().unwrap_or_default()
            )
            .to_string(),
        ),
    }
}

/// The connection's state and actions, the sync's progress while it runs, then what the last
/// sync did: live while a sync runs, and from the moment this tab's Sync is clicked
/// (`data-live-while`), since a sync changes all of them.
#[component]
fn SyncState(
    progress: Option<PbxSyncProgress>,
    last: Option<Result<PbxSyncReport, String>>,
    /// The actions (Sync says "Syncing…" while it runs, so they follow it too).
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    let running = progress.is_some();
    let said = (!running).then_some(last).flatten().map(|last| match last {
        Ok(report) => view! { <SyncReport report/> }.into_any(),
        Err(words) if !words.is_empty() => {
            view! { <p class="form-error" role="alert">{words}</p> }.into_any()
        }
        Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }
            .into_any(),
    });
    let line = progress.map(|p| {
        let text = if p.saving {
            t_string!(i18n, pbx_sync_saving, total = thousands(p.total)).to_string()
        } else if p.total > 0 {
            t_string!(i18n, pbx_sync_progress, read = thousands(p.read), total = thousands(p.total))
                .to_string()
        } else {
            t_string!(i18n, syncing).to_string()
        };
        let fraction = if p.saving { Some(100.0) } else { percent(p.read, Some(p.total)) };
        // A `<progress>`: its bar needs no inline style (the page's CSP allows none).
        view! {
            <div id="pbx-sync-progress" class="fetching" role="status">
                <progress class="plain-progress" max="100" value=fraction aria-label=text.clone()></progress>
                <span class="progress-text">{text}</span>
            </div>
        }
    });
    view! { <div id="pbx-sync-live" data-live=running.then_some(SYNC_EVERY_MS)>{children()}{line}{said}</div> }
}

#[component]
fn PbxConnectionForm(
    view: PbxConnectionView,
    progress: Option<PbxSyncProgress>,
    last: Option<Result<PbxSyncReport, String>>,
    flash: Option<Flash>,
    /// The form filled with the PBX sandbox's values (`?sandbox=1`).
    sandbox: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let configured = view.status != PbxStatus::NotConfigured;
    let connected = view.status == PbxStatus::Connected;
    let status = view.status;
    let status_line = status_text(i18n, &view);
    let socket_line =
        (view.events_via == PbxEventsVia::WebSocket && connected).then(|| socket_text(i18n, &view));
    let syncing = progress.is_some();

    // What the last form did, or why it was refused.
    let save = Flash::of(&flash, "save");
    let errors = save.as_ref().map(Flash::field_errors).unwrap_or_default();
    let error = |field: &str| error_in(&errors, field, i18n);
    let note = match (
        &save,
        Flash::of(&flash, "disconnect"),
        Flash::of(&flash, "test"),
    ) {
        (Some(f), _, _) => match &f.error {
            None => Some(t_string!(i18n, pbx_saved).to_string()),
            Some(AppError::Invalid(_)) => None,
            Some(AppError::ServerFn(_)) => Some(t_string!(i18n, err_network).to_string()),
            Some(_) => Some(t_string!(i18n, err_internal).to_string()),
        },
        (_, Some(f), _) if f.error.is_none() => Some(t_string!(i18n, pbx_disconnected).to_string()),
        (_, Some(_), _) | (_, _, Some(Flash { error: Some(_), .. })) => {
            Some(t_string!(i18n, err_internal).to_string())
        }
        _ => None,
    };
    // The form: as typed when refused, the sandbox's values when asked for, else as saved.
    let typed_sandbox = save
        .as_ref()
        .is_some_and(|f| f.typed("input[use_sandbox_secret]") == "true");
    let sandbox_fill = view.sandbox.clone().filter(|_| sandbox || typed_sandbox);
    let use_sandbox = sandbox_fill.is_some();
    let (base_url, client_id, events_via, auto_answer) = match (&save, &sandbox_fill) {
        (Some(f), _) if f.error.is_some() => (
            f.typed("input[base_url]"),
            f.typed("input[client_id]"),
            if f.typed("input[events_via]") == "WebSocket" {
                PbxEventsVia::WebSocket
            } else {
                PbxEventsVia::Webhook
            },
            f.typed("input[auto_answer]") == "true",
        ),
        (_, Some(s)) => (
            s.base_url.clone(),
            s.client_id.clone(),
            view.events_via,
            view.auto_answer,
        ),
        _ => (
            view.base_url.clone(),
            view.client_id.clone(),
            view.events_via,
            view.auto_answer,
        ),
    };
    let secret_placeholder = |set: bool| {
        if use_sandbox {
            t_string!(i18n, pbx_secret_sandbox).to_string()
        } else if set {
            t_string!(i18n, client_secret_set).to_string()
        } else {
            String::new()
        }
    };
    let webhook_hint =
        t_string!(i18n, pbx_webhook_hint, url = view.webhook_url.clone()).to_string();

    view! {
        <section class="card" aria-labelledby="pbx-status-label">
            <SyncState progress last>
            <p class="status-line">
                <span id="pbx-status-label" class="muted">{t_string!(i18n, status)}</span>" "
                <strong id="pbx-status" data-status=format!("{status:?}")>{status_line}</strong>
            </p>
            {socket_line.map(|(state, line)| view! {
                <p class="status-line">
                    <span class="muted">{t_string!(i18n, pbx_socket)}</span>" "
                    <strong id="pbx-socket" data-state=state>{line}</strong>
                </p>
            })}
            <div class="actions left">
                <form method="post" action=TestPbxConnection::url() class="row-view">
                    <button type="submit" id="pbx-test" class="primary" disabled=!configured>{t_string!(i18n, test_connection)}</button>
                </form>
                {connected.then(|| view! {
                    <form method="post" action=SyncPbxExtensions::url() class="row-view" data-live-while="pbx-sync-live">
                        <button type="submit" id="pbx-sync" disabled=syncing>
                            {if syncing { t_string!(i18n, syncing) } else { t_string!(i18n, sync_from_pbx) }}
                        </button>
                    </form>
                })}
                {configured.then(|| view! {
                    <form method="post" action=DisconnectPbx::url() class="row-view">
                        <button type="submit" id="pbx-disconnect" class="danger">{t_string!(i18n, disconnect)}</button>
                    </form>
                })}
            </div>
            </SyncState>
        </section>
        <section class="card" aria-labelledby="pbx-form-title">
            <h2 id="pbx-form-title">{t_string!(i18n, pbx_connection_title)}</h2>
            {view.sandbox.is_some().then(|| view! {
                <div class="note sandbox">
                    <span>{t_string!(i18n, pbx_sandbox_hint)}</span>
                    <form method="get" class="row-view">
                        <input type="hidden" name="sandbox" value="1"/>
                        <button type="submit" id="use-pbx-sandbox">{t_string!(i18n, use_pbx_sandbox)}</button>
                    </form>
                </div>
            })}
            <form id="pbx-form" method="post" action=SavePbxConnection::url() novalidate>
                {use_sandbox.then(|| view! { <input type="hidden" name="input[use_sandbox_secret]" value="true"/> })}
                <PlainField id="base-url" name="input[base_url]" kind="url" value=base_url error=error("base_url")
                    placeholder="https://pbx.example.com:8088"
                    label=t_string!(i18n, pbx_address).to_string()/>
                <PlainField id="client-id" name="input[client_id]" value=client_id error=error("client_id")
                    label=t_string!(i18n, pbx_client_id).to_string()/>
                <PlainSecretField id="client-secret" name="input[client_secret]" disabled=use_sandbox
                    label=t_string!(i18n, pbx_client_secret).to_string()
                    placeholder=secret_placeholder(view.secret_set) error=error("client_secret")/>
                <PlainSecretField id="webhook-secret" name="input[webhook_secret]" disabled=use_sandbox
                    label=t_string!(i18n, pbx_webhook_secret).to_string() hint=webhook_hint
                    placeholder=secret_placeholder(view.webhook_secret_set) error=error("webhook_secret")/>
                <fieldset class="field">
                    <legend>{t_string!(i18n, pbx_events_via)}</legend>
                    <label class="inline"><input id="events-websocket" type="radio" name="input[events_via]" value="WebSocket"
                        checked=events_via == PbxEventsVia::WebSocket/>{t_string!(i18n, pbx_events_websocket)}</label>
                    <label class="inline"><input id="events-webhook" type="radio" name="input[events_via]" value="Webhook"
                        checked=events_via == PbxEventsVia::Webhook/>{t_string!(i18n, pbx_events_webhook)}</label>
                </fieldset>
                <div class="field">
                    <label class="inline"><input type="checkbox" id="auto-answer" name="input[auto_answer]" value="true"
                        aria-describedby="auto-answer-hint" checked=auto_answer/>{t_string!(i18n, pbx_auto_answer)}</label>
                    <p id="auto-answer-hint" class="hint">{t_string!(i18n, pbx_auto_answer_hint)}</p>
                </div>
                {note.map(|n| view! { <p class="note" role="status">{n}</p> })}
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, save)}</button>
                </div>
            </form>
        </section>
    }
}

/// Removed extensions named one by one in a sync's report.
const REMOVED_LISTED: usize = 20;

/// What a sync did, and which extensions it removed (and whose binding went with them).
#[component]
fn SyncReport(report: PbxSyncReport) -> impl IntoView {
    let i18n = use_i18n();
    let removed_count = report.removed.len();
    let skipped = report.skipped.join(", ");
    let (total, added, updated, removed) = (
        thousands(report.total),
        thousands(report.added),
        thousands(report.updated),
        thousands(removed_count),
    );
    // The ones that cost an agent its binding first; a long list is cut short.
    let mut listed = report.removed;
    listed.sort_by_key(|r| r.agent.is_none());
    let more = listed.len().saturating_sub(REMOVED_LISTED);
    listed.truncate(REMOVED_LISTED);
    view! {
        <div id="pbx-sync-report" class="note" role="status">
            <p>{t_string!(i18n, pbx_sync_report, total = total.clone(), added = added.clone(), updated = updated.clone(), removed = removed.clone())}</p>
            <ul>
                {listed.into_iter().map(|r| {
                    let (number, name) = (r.number.clone(), r.name.clone());
                    match r.agent {
                        Some(agent) => view! { <li>{t_string!(i18n, pbx_sync_unbound, number = number.clone(), name = name.clone(), agent = agent.clone())}</li> }.into_any(),
                        None => view! { <li>{t_string!(i18n, pbx_sync_removed, number = number.clone(), name = name.clone())}</li> }.into_any(),
                    }
                }).collect_view()}
                {(more > 0).then(|| {
                    let n = thousands(more);
                    view! { <li>{t_string!(i18n, pbx_sync_more, count = n.clone())}</li> }
                })}
            </ul>
            {(!skipped.is_empty()).then(|| view! { <p>{t_string!(i18n, pbx_sync_skipped, numbers = skipped.clone())}</p> })}
        </div>
    }
}
