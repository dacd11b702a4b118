//! `/pbx/connection`: the PBX's OpenAPI — its address, the API application's Client ID and
//! Client Secret, Test connection (the PBX's own words when it fails), Disconnect.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::pbx::{
    disconnect_pbx, get_pbx_connection, get_pbx_sync_progress, save_pbx_connection,
    sync_pbx_extensions, test_pbx_connection,
};
use crate::components::{
    keep_checked, keep_picked, percent, poll_progress, FormField, Frame, ProgressLine, SandboxNote,
    SecretField,
};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    FieldError, PbxConnectionView, PbxEventsVia, PbxSettingsInput, PbxSocketState, PbxStatus,
    PbxSyncProgress, PbxSyncReport,
};
use crate::pages::users::thousands;

#[component]
pub fn PbxConnectionPage() -> impl IntoView {
    let i18n = use_i18n();
    let conn = Resource::new(|| (), |_| get_pbx_connection());
    let reload = move || conn.refetch();
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, pbx_connection_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, pbx_connection_intro)}</p>
            <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
                {move || conn.get().map(|r| match r {
                    Ok(v) => view! { <PbxConnectionForm view=v reload=reload/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/pbx/connection"/> }.into_any(),
                    Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }.into_any(),
                })}
            </Transition>
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

#[component]
fn PbxConnectionForm(
    view: PbxConnectionView,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let base_url = RwSignal::new(view.base_url.clone());
    let client_id = RwSignal::new(view.client_id.clone());
    let secret = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let webhook_url = view.webhook_url.clone();
    let webhook_secret_set = view.webhook_secret_set;
    let events_via = RwSignal::new(view.events_via);
    let auto_answer = RwSignal::new(view.auto_answer);
    // What is picked or ticked before the page is interactive is kept.
    keep_picked("events-websocket", events_via, PbxEventsVia::WebSocket);
    keep_picked("events-webhook", events_via, PbxEventsVia::Webhook);
    keep_checked("auto-answer", auto_answer);
    // Worked out once: the language switch draws the page again.
    let socket_line = (view.events_via == PbxEventsVia::WebSocket
        && view.status == PbxStatus::Connected)
        .then(|| socket_text(i18n, &view));
    let use_sandbox_secret = RwSignal::new(false);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let note = RwSignal::new(None::<String>);
    let configured = view.status != PbxStatus::NotConfigured;
    let secret_set = view.secret_set;
    let status = view.status;
    let status_line = status_text(i18n, &view);

    let save = Action::new(move |input: &PbxSettingsInput| {
        let input = input.clone();
        async move { save_pbx_connection(input).await }
    });
    let test = Action::new(move |_: &()| test_pbx_connection());
    let disconnect = Action::new(move |_: &()| disconnect_pbx());
    let sync = Action::new(move |_: &()| sync_pbx_extensions());
    let progress = poll_progress(sync.pending().into(), get_pbx_sync_progress);
    let progress_text = move || match progress.get() {
        Some(PbxSyncProgress {
            saving: true,
            total,
            ..
        }) => t_string!(i18n, pbx_sync_saving, total = thousands(total)).to_string(),
        Some(PbxSyncProgress { read, total, .. }) if total > 0 => t_string!(
            i18n,
            pbx_sync_progress,
            read = thousands(read),
            total = thousands(total)
        )
        .to_string(),
        _ => t_string!(i18n, syncing).to_string(),
    };
    let fraction = move || {
        progress.get().and_then(|p| {
            if p.saving {
                Some(100.0)
            } else {
                percent(p.read, Some(p.total))
            }
        })
    };
    let connected = status == PbxStatus::Connected;

    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        note.set(None);
        save.dispatch(PbxSettingsInput {
            base_url: base_url.get_untracked(),
            client_id: client_id.get_untracked(),
            client_secret: secret.get_untracked(),
            use_sandbox_secret: use_sandbox_secret.get_untracked(),
            webhook_secret: webhook_secret.get_untracked(),
            events_via: events_via.get_untracked(),
            auto_answer: auto_answer.get_untracked(),
        });
    };
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            secret.set(String::new());
            webhook_secret.set(String::new());
            note.set(Some(t_string!(i18n, pbx_saved).to_string()));
            reload();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        Some(Err(AppError::ServerFn(_))) => {
            note.set(Some(t_string!(i18n, err_network).to_string()))
        }
        Some(Err(_)) => note.set(Some(t_string!(i18n, err_internal).to_string())),
        None => {}
    });
    Effect::new(move |_| {
        if test.value().get().is_some() {
            reload();
        }
    });
    Effect::new(move |_| {
        if let Some(r) = disconnect.value().get() {
            if r.is_ok() {
                base_url.set(String::new());
                client_id.set(String::new());
                note.set(Some(t_string!(i18n, pbx_disconnected).to_string()));
            }
            reload();
        }
    });

    view! {
        <section class="card" aria-labelledby="pbx-status-label">
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
                <button type="button" id="pbx-test" class="primary"
                    disabled=move || !configured || test.pending().get()
                    on:click=move |_| { test.dispatch(()); }>
                    {move || if test.pending().get() { t_string!(i18n, testing) } else { t_string!(i18n, test_connection) }}
                </button>
                {connected.then(|| view! {
                    <button type="button" id="pbx-sync"
                        disabled=move || sync.pending().get()
                        on:click=move |_| { sync.dispatch(()); }>
                        {move || if sync.pending().get() { t_string!(i18n, syncing) } else { t_string!(i18n, sync_from_pbx) }}
                    </button>
                })}
                {configured.then(|| view! {
                    <button type="button" id="pbx-disconnect" class="danger"
                        disabled=move || disconnect.pending().get()
                        on:click=move |_| { disconnect.dispatch(()); }>
                        {t_string!(i18n, disconnect)}
                    </button>
                })}
            </div>
            <Show when=move || sync.pending().get()>
                <ProgressLine id="pbx-sync-progress" text=Signal::derive(progress_text) fraction=Signal::derive(fraction)/>
            </Show>
            {move || sync.value().get().filter(|_| !sync.pending().get()).map(|r| match r {
                Ok(report) => view! { <SyncReport report=report/> }.into_any(),
                Err(AppError::Pbx(words)) => view! { <p class="form-error" role="alert">{words}</p> }.into_any(),
                Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="pbx-form-title">
            <h2 id="pbx-form-title">{t_string!(i18n, pbx_connection_title)}</h2>
            {view.sandbox.clone().map(|s| {
                let fill = Callback::new(move |_: ()| {
                    base_url.set(s.base_url.clone());
                    client_id.set(s.client_id.clone());
                    secret.set(String::new());
                    webhook_secret.set(String::new());
                    use_sandbox_secret.set(true);
                    errors.set(vec![]);
                });
                view! {
                    <SandboxNote button_id="use-pbx-sandbox" on_fill=fill
                        hint=Signal::stored(t_string!(i18n, pbx_sandbox_hint).to_string())
                        label=Signal::stored(t_string!(i18n, use_pbx_sandbox).to_string())/>
                }
            })}
            <form id="pbx-form" on:submit=on_save novalidate>
                <FormField id="base-url" field="base_url" kind="url" value=base_url errors=errors
                    placeholder="https://pbx.example.com:8088"
                    label=Signal::stored(t_string!(i18n, pbx_address).to_string())/>
                <FormField id="client-id" field="client_id" value=client_id errors=errors
                    label=Signal::stored(t_string!(i18n, pbx_client_id).to_string())/>
                <SecretField value=secret use_sandbox=use_sandbox_secret secret_set=secret_set
                    errors=errors
                    label=Signal::stored(t_string!(i18n, pbx_client_secret).to_string())
                    sandbox_placeholder=Signal::stored(t_string!(i18n, pbx_secret_sandbox).to_string())/>
                <SecretField id="webhook-secret" field="webhook_secret" value=webhook_secret
                    use_sandbox=use_sandbox_secret secret_set=webhook_secret_set errors=errors
                    label=Signal::stored(t_string!(i18n, pbx_webhook_secret).to_string())
                    hint=Signal::stored(t_string!(i18n, pbx_webhook_hint, url = webhook_url.clone()).to_string())
                    sandbox_placeholder=Signal::stored(t_string!(i18n, pbx_secret_sandbox).to_string())/>
                <fieldset class="field">
                    <legend>{t_string!(i18n, pbx_events_via)}</legend>
                    <label class="inline"><input id="events-websocket" type="radio" name="events-via"
                        checked=events_via.get_untracked() == PbxEventsVia::WebSocket
                        prop:checked=move || events_via.get() == PbxEventsVia::WebSocket
                        on:change=move |_| events_via.set(PbxEventsVia::WebSocket)/>{t_string!(i18n, pbx_events_websocket)}</label>
                    <label class="inline"><input id="events-webhook" type="radio" name="events-via"
                        checked=events_via.get_untracked() == PbxEventsVia::Webhook
                        prop:checked=move || events_via.get() == PbxEventsVia::Webhook
                        on:change=move |_| events_via.set(PbxEventsVia::Webhook)/>{t_string!(i18n, pbx_events_webhook)}</label>
                </fieldset>
                <div class="field">
                    <label class="inline"><input type="checkbox" id="auto-answer" aria-describedby="auto-answer-hint"
                        checked=auto_answer.get_untracked() prop:checked=move || auto_answer.get()
                        on:change=move |ev| auto_answer.set(event_target_checked(&ev))/>{t_string!(i18n, pbx_auto_answer)}</label>
                    <p id="auto-answer-hint" class="hint">{t_string!(i18n, pbx_auto_answer_hint)}</p>
                </div>
                <Show when=move || note.get().is_some()>
                    <p class="note" role="status">{move || note.get()}</p>
                </Show>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { t_string!(i18n, saving) } else { t_string!(i18n, save) }}
                    </button>
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
