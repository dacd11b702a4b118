//! `/integrations/helpdesk/log`: every call with its events and the facts derived from them,
//! filterable by number, extension and outcome, updating live while calls are in progress.
//!
//! A plain page (no WASM): the filters are a GET form (`?number=&extension=&outcome=`, sent
//! as one is changed), a call's detail is a view of the page (`?call=<id>`), older calls a
//! page of it (`?before=<ms>`); "Retry now" and "Show the webhook secret" are forms the server
//! answers with the page again. The calls' table is drawn again by the server every two
//! seconds (`data-live`, the plain pages' script): new calls, states and jobs appear by
//! themselves.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::calls::{call_log, get_call_detail, get_webhook_info, reveal_webhook_secret};
use crate::api::calls::{RetryJob, RevealWebhookSecret};
use crate::api::take_flash;
use crate::components::{CopyField, Frame};
use crate::i18n::*;
use crate::model::{
    AttemptOutcome, CallDetail, CallSummary, Flash, JobKind, JobNote, JobState, JobView, LogFilter,
    Missing, SyncNote, ZohoModule,
};

/// How often the calls' table is drawn again (ms).
const LIVE_EVERY_MS: u32 = 2000;

/// A page of the log holds this many calls (the server's page size).
const PAGE_SIZE: usize = 50;

#[component]
pub fn LogPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let q = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let filter = LogFilter {
        number: q("number"),
        extension: q("extension"),
        outcome: q("outcome"),
        before_ms: q("before").parse().ok(),
    };
    let selected = Some(q("call")).filter(|c| !c.is_empty());

    let outcomes = [
        ("", "log_all"),
        ("open", "log_open"),
        ("Inbound Answered", "Inbound Answered"),
        ("Inbound Missed", "Inbound Missed"),
        ("Outbound Answered", "Outbound Answered"),
        ("Outbound Unanswered", "Outbound Unanswered"),
        ("internal", "log_internal"),
    ];
    let chosen = filter.outcome.clone();
    let filters = view! {
        <form method="get" class="filters" data-autosubmit="">
            <div class="field">
                <label for="f-number">{t_string!(i18n, log_number)}</label>
                <input id="f-number" name="number" type="search" value=filter.number.clone()/>
            </div>
            <div class="field">
                <label for="f-extension">{t_string!(i18n, extension)}</label>
                <input id="f-extension" name="extension" type="search" value=filter.extension.clone()/>
            </div>
            <div class="field">
                <label for="f-outcome">{t_string!(i18n, log_outcome)}</label>
                <select id="f-outcome" name="outcome">
                    {outcomes.into_iter().map(|(v, key)| {
                        let text = outcome_label(i18n, key);
                        view! { <option value=v selected=chosen == v>{text}</option> }
                    }).collect_view()}
                </select>
            </div>
            // The filters apply as they change (the plain pages' script), or by this button
            // (and Enter in a field) when there is no script.
            <button type="submit">{t_string!(i18n, log_apply)}</button>
        </form>
    };
    let page = Suspend::new(async move {
        let flash = take_flash().await;
        let webhook = get_webhook_info().await.ok();
        let calls = call_log(filter.clone()).await;
        let detail = match &selected {
            Some(id) => get_call_detail(id.clone()).await.ok(),
            None => None,
        };
        // Asked for by its form: shown in the page that answers it.
        let secret = match Flash::of(&flash, "webhook-secret").and_then(|f| f.done) {
            Some(_) => reveal_webhook_secret().await.ok(),
            None => None,
        };
        let table = match calls {
            Ok(list) => view! { <CallTable list filter selected detail flash/> }.into_any(),
            Err(_) => {
                view! { <p class="form-error">{t_string!(i18n, err_internal)}</p> }.into_any()
            }
        };
        view! {
            {webhook.map(|w| view! { <WebhookCard native=w.native_url yeastar=w.yeastar_url secret/> })}
            <section class="card" aria-labelledby="calls-title">
                <h2 id="calls-title">{t_string!(i18n, log_calls)}</h2>
                {filters}
                <div id="calls" data-live=LIVE_EVERY_MS>{table}</div>
            </section>
        }
    });
    view! {
        <Frame>
            <header class="page-head">
                <div class="title"><h1>{t_string!(i18n, log_title)}</h1></div>
            </header>
            <p class="muted">{t_string!(i18n, log_intro)}</p>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
    }
}

/// Words for the outcome filter and column: Zoho's call types are translated.
pub(crate) fn outcome_label(i18n: I18nContext, key: &str) -> String {
    match key {
        "log_all" => t_string!(i18n, log_all).to_string(),
        "log_open" => t_string!(i18n, log_open).to_string(),
        "log_internal" => t_string!(i18n, log_internal).to_string(),
        "Inbound Answered" => t_string!(i18n, type_inbound_answered).to_string(),
        "Inbound Missed" => t_string!(i18n, type_inbound_missed).to_string(),
        "Outbound Answered" => t_string!(i18n, type_outbound_answered).to_string(),
        "Outbound Unanswered" => t_string!(i18n, type_outbound_unanswered).to_string(),
        other => other.to_string(),
    }
}

fn summary_outcome(i18n: I18nContext, c: &CallSummary) -> String {
    match (&c.call_type, c.open, c.direction.as_str()) {
        (_, true, _) => outcome_label(i18n, "log_open"),
        (Some(t), _, _) => outcome_label(i18n, t),
        (None, _, "internal") => outcome_label(i18n, "log_internal"),
        _ => "—".to_string(),
    }
}

/// The webhook's addresses, and its secret once the admin asked to see it (a form: the
/// server's answer shows it once).
#[component]
fn WebhookCard(native: String, yeastar: String, secret: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="webhook-title">
            <h2 id="webhook-title">{t_string!(i18n, webhook_title)}</h2>
            <p class="muted">{t_string!(i18n, webhook_hint)}</p>
            <CopyField id="webhook-native" label=t_string!(i18n, webhook_native).to_string() value=native/>
            <CopyField id="webhook-yeastar" label=t_string!(i18n, webhook_yeastar).to_string() value=yeastar/>
            {match secret {
                Some(s) => view! { <CopyField id="webhook-secret" label=t_string!(i18n, webhook_secret).to_string() value=s/> }.into_any(),
                None => view! {
                    <form method="post" action=RevealWebhookSecret::url()>
                        <button type="submit">{t_string!(i18n, webhook_show_secret)}</button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

/// The page's current filters as hidden fields: a button that opens a call or another page
/// of the log keeps them.
fn kept_filters(f: &LogFilter) -> impl IntoView {
    [
        ("number", f.number.clone()),
        ("extension", f.extension.clone()),
        ("outcome", f.outcome.clone()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
    .collect_view()
}

#[component]
fn CallTable(
    list: Vec<CallSummary>,
    filter: LogFilter,
    selected: Option<String>,
    detail: Option<CallDetail>,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        return view! { <p class="empty">{t_string!(i18n, log_empty)}</p> }.into_any();
    }
    let oldest = list.last().map(|c| c.started_ms);
    let full = list.len() >= PAGE_SIZE;
    let mut detail = detail;
    let rows = list
        .into_iter()
        .map(|c| {
            let is_open = selected.as_deref() == Some(c.call_id.as_str());
            let outcome = summary_outcome(i18n, &c);
            let dir = match c.direction.as_str() {
                "inbound" => t_string!(i18n, sim_inbound).to_string(),
                "outbound" => t_string!(i18n, sim_outbound).to_string(),
                _ => t_string!(i18n, log_internal).to_string(),
            };
            // Opens the call's detail, or closes it when it is the one open.
            let toggle = view! {
                <form method="get" class="row-view">
                    {kept_filters(&filter)}
                    {filter.before_ms.map(|b| view! { <input type="hidden" name="before" value=b/> })}
                    {(!is_open).then(|| view! { <input type="hidden" name="call" value=c.call_id.clone()/> })}
                    <button type="submit" class="link-button" aria-expanded=is_open.to_string()>{c.started.clone()}</button>
                </form>
            };
            let shown = if is_open { detail.take() } else { None };
            let flash = flash.clone();
            view! {
                <tr class:live=c.open class:selected=is_open>
                    <td>{toggle}</td>
                    <td>{dir}</td>
                    <td>{c.external_number.clone().unwrap_or_default()}</td>
                    <td>{c.extension.clone().unwrap_or_else(|| c.extensions.join(", "))}</td>
                    <td><span class=if c.open { "badge warn" } else { "badge neutral" }>{outcome}</span></td>
                    <td>{c.agent.clone().unwrap_or_else(|| "—".to_string())}</td>
                </tr>
                {shown.map(|d| view! {
                    <tr class="detail-row"><td colspan="6"><CallDetailView d flash/></td></tr>
                })}
            }
        })
        .collect_view();
    view! {
        <table class="card-table log-table" aria-labelledby="calls-title">
            <thead><tr>
                <th scope="col">{t_string!(i18n, log_started)}</th>
                <th scope="col">{t_string!(i18n, sim_direction)}</th>
                <th scope="col">{t_string!(i18n, log_number)}</th>
                <th scope="col">{t_string!(i18n, extension)}</th>
                <th scope="col">{t_string!(i18n, log_outcome)}</th>
                <th scope="col">{t_string!(i18n, log_agent)}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <div class="actions left">
            {filter.before_ms.is_some().then(|| view! {
                <form method="get">
                    {kept_filters(&filter)}
                    <button type="submit">{t_string!(i18n, log_newest)}</button>
                </form>
            })}
            {full.then(|| view! {
                <form method="get">
                    {kept_filters(&filter)}
                    <input type="hidden" name="before" value=oldest/>
                    <button type="submit">{t_string!(i18n, log_older)}</button>
                </form>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn CallDetailView(d: CallDetail, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let facts = d
        .facts
        .into_iter()
        .map(|f| {
            let what = match (f.kind.as_str(), &f.call_type) {
                ("ringing", _) => t_string!(
                    i18n,
                    fact_ringing,
                    extension = f.extension.clone().unwrap_or_default()
                )
                .to_string(),
                (_, Some(t)) => t_string!(
                    i18n,
                    fact_ended,
                    call_type = outcome_label(i18n, t),
                    extension = f.extension.clone().unwrap_or_else(|| "—".into()),
                    ring = f.ring_secs.unwrap_or(0),
                    talk = f.talk_secs.unwrap_or(0)
                )
                .to_string(),
                _ => f.kind.clone(),
            };
            let zoho = match f.skip.as_deref() {
                None => t_string!(i18n, fact_for_zoho).to_string(),
                Some("disabled") => t_string!(i18n, fact_disabled).to_string(),
                Some("not_connected") => t_string!(i18n, fact_not_connected).to_string(),
                Some(_) => t_string!(i18n, fact_unbound).to_string(),
            };
            let for_zoho = f.skip.is_none();
            view! {
                <li>
                    <span class="when">{f.at}</span>" "{what}
                    {f.timed_out.then(|| view! { " "<em>{t_string!(i18n, fact_timed_out)}</em> })}
                    " — "<span class=if for_zoho { "ok-text" } else { "muted" }>{zoho}</span>
                </li>
            }
        })
        .collect_view();
    let events = d
        .events
        .into_iter()
        .map(|e| {
            view! {
                <li>
                    <span class="when">{e.at}</span>" "<code>{e.kind}</code>" "{e.extension.unwrap_or_default()}
                    " "<span class="muted">{format!("({} · {})", e.source, e.event_id)}</span>
                </li>
            }
        })
        .collect_view();
    let has_jobs = !d.jobs.is_empty();
    let jobs = d
        .jobs
        .into_iter()
        .map(|j| {
            let refused = Flash::of(&flash, &format!("retry-{}", j.job_id)).is_some();
            view! { <JobItem j refused/> }
        })
        .collect_view();
    let recording = d.recording.clone();
    view! {
        {recording.map(|src| view! {
            <div class="call-recording">
                <h3>{t_string!(i18n, log_recording)}</h3>
                <audio controls preload="none" src=src></audio>
            </div>
        })}
        <div class="call-detail">
            <div>
                <h3>{t_string!(i18n, log_facts)}</h3>
                <ul class="plain">{facts}</ul>
            </div>
            <div>
                <h3>{t_string!(i18n, log_events)}</h3>
                <ul class="plain">{events}</ul>
            </div>
        </div>
        <div class="call-jobs">
            <h3>{t_string!(i18n, log_jobs)}</h3>
            {if has_jobs {
                view! { <ul class="jobs">{jobs}</ul> }.into_any()
            } else {
                view! { <p class="muted">{t_string!(i18n, jobs_none)}</p> }.into_any()
            }}
        </div>
    }
}

/// One piece of Zoho work: what it is, its state, what it did, each attempt; "Retry now" when
/// it failed.
#[component]
fn JobItem(j: JobView, refused: bool) -> impl IntoView {
    let i18n = use_i18n();
    let kind = match j.kind {
        JobKind::Contact => t_string!(i18n, job_contact),
        JobKind::Create => t_string!(i18n, job_create),
        JobKind::Ticket => t_string!(i18n, job_ticket),
        JobKind::CallLog => t_string!(i18n, job_call_log),
    }
    .to_string();
    let state = match j.state {
        JobState::Queued => t_string!(i18n, job_state_queued),
        JobState::Running => t_string!(i18n, job_state_running),
        JobState::Done => t_string!(i18n, job_state_done),
        JobState::Failed => t_string!(i18n, job_state_failed),
        JobState::Cancelled => t_string!(i18n, job_state_cancelled),
    }
    .to_string();
    let failed = j.state == JobState::Failed;
    let id = j.job_id;
    // A job done at the first attempt: its summary says it all.
    let plain = j.history.len() == 1 && j.history[0].outcome == AttemptOutcome::Done;
    let history = j
        .history
        .into_iter()
        .map(|a| {
            view! {
                <li><span class="when">{a.at}</span>" "<code>{a.outcome.as_str()}</code>
                    {a.detail.map(|d| view! { " "{d} })}</li>
            }
        })
        .collect_view();
    view! {
        <li class="job" data-kind=j.kind.as_str() data-state=j.state.as_str()>
            <div class="job-head">
                <strong>{kind}</strong>
                <span class=format!("job-state {}", j.state.as_str())>{state}</span>
                {(j.attempts > 1).then(|| view! { <span class="muted">{t_string!(i18n, job_attempts, count = j.attempts)}</span> })}
                {j.next_attempt.map(|at| view! { <span class="muted">{t_string!(i18n, job_next, at = at.clone())}</span> })}
                {j.link.map(|href| view! { <a href=href target="_blank" rel="noopener">{t_string!(i18n, job_open)}</a> })}
                {failed.then(|| view! {
                    <form method="post" action=RetryJob::url()>
                        <input type="hidden" name="job_id" value=id/>
                        <button type="submit">{t_string!(i18n, job_retry)}</button>
                    </form>
                })}
            </div>
            {refused.then(|| view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> })}
            {j.note.as_ref().map(|n| note_text(i18n, j.kind, n)).or(j.summary).map(|s| view! { <p class="job-summary">{s}</p> })}
            {j.last_error.filter(|_| failed || j.state == JobState::Queued).map(|e| view! { <p class="job-error">{e}</p> })}
            {(!plain).then(|| view! { <ul class="job-history">{history}</ul> })}
        </li>
    }
}

/// A job's note in the reader's language (jobs stored before notes existed show their English
/// summary).
fn note_text(i18n: I18nContext, kind: JobKind, n: &JobNote) -> String {
    let ticket = kind == JobKind::Ticket;
    let contact = |m: &ZohoModule| *m == ZohoModule::Contacts;
    match n {
        JobNote::Matched {
            number,
            module,
            name,
            created,
            sync,
            others,
        } => {
            let number = number.clone();
            // A record without a name (the manual's first sync failure) is still said plainly.
            let name = if name.trim().is_empty() {
                t_string!(i18n, record_without_name).to_string()
            } else {
                name.clone()
            };
            let first = match (contact(module), created) {
                (true, false) => t_string!(i18n, note_matched_contact, number, name).to_string(),
                (true, true) => {
                    t_string!(i18n, note_matched_contact_created, number, name).to_string()
                }
                (false, false) => t_string!(i18n, note_matched_account, number, name).to_string(),
                (false, true) => {
                    t_string!(i18n, note_matched_account_created, number, name).to_string()
                }
            };
            let first = if *others > 0 {
                let count = *others;
                format!("{first} {}", t_string!(i18n, note_others, count))
            } else {
                first
            };
            match sync {
                Some(s) => format!("{first} {}", sync_text(i18n, s)),
                None => first,
            }
        }
        JobNote::NoMatch {
            number,
            creation_off: false,
        } => t_string!(i18n, note_no_match, number = number.clone()).to_string(),
        JobNote::NoMatch { number, .. } => {
            t_string!(i18n, note_no_match_off, number = number.clone()).to_string()
        }
        JobNote::CreationFailed { number, error } => t_string!(
            i18n,
            note_creation_failed,
            number = number.clone(),
            error = error.clone()
        )
        .to_string(),
        JobNote::Created { module, name } if contact(module) => {
            t_string!(i18n, note_created_contact, name = name.clone()).to_string()
        }
        JobNote::Created { name, .. } => {
            t_string!(i18n, note_created_account, name = name.clone()).to_string()
        }
        JobNote::CreatedEarlier { module, name } if contact(module) => {
            t_string!(i18n, note_created_earlier_contact, name = name.clone()).to_string()
        }
        JobNote::CreatedEarlier { name, .. } => {
            t_string!(i18n, note_created_earlier_account, name = name.clone()).to_string()
        }
        JobNote::NotEnded if ticket => t_string!(i18n, note_ticket_not_ended).to_string(),
        JobNote::NotEnded => t_string!(i18n, note_log_not_ended).to_string(),
        JobNote::NoContact { number } if ticket => {
            t_string!(i18n, note_ticket_no_contact, number = number.clone()).to_string()
        }
        JobNote::NoContact { number } => {
            t_string!(i18n, note_log_no_contact, number = number.clone()).to_string()
        }
        JobNote::IsAccount { number, name } if ticket => t_string!(
            i18n,
            note_ticket_account,
            number = number.clone(),
            name = name.clone()
        )
        .to_string(),
        JobNote::IsAccount { number, name } => t_string!(
            i18n,
            note_log_account,
            number = number.clone(),
            name = name.clone()
        )
        .to_string(),
        JobNote::EditionWithoutCalls { edition } => {
            t_string!(i18n, note_edition, edition = edition.clone()).to_string()
        }
        JobNote::LicenseLimited => t_string!(i18n, note_license).to_string(),
        JobNote::Ticket {
            number,
            subject,
            found_earlier,
            unassigned,
            instead,
        } => {
            let (number, subject) = (number.clone(), subject.clone());
            let made = match (found_earlier, unassigned) {
                (true, _) => t_string!(i18n, note_ticket_found, number, subject).to_string(),
                (false, true) => {
                    t_string!(i18n, note_ticket_unassigned, number, subject).to_string()
                }
                (false, false) => t_string!(i18n, note_ticket_created, number, subject).to_string(),
            };
            made + &instead_text(i18n, instead)
        }
        JobNote::CallActivity {
            subject,
            status,
            found_earlier,
            instead,
        } => {
            let (subject, status) = (subject.clone(), status.clone());
            let logged = if *found_earlier {
                t_string!(i18n, note_call_found, subject, status).to_string()
            } else {
                t_string!(i18n, note_call_logged, subject, status).to_string()
            };
            logged + &instead_text(i18n, instead)
        }
    }
}

/// The sentence added when a ticket or call activity went to another contact than the
/// lookup's (gone from Zoho Desk by then).
fn instead_text(i18n: I18nContext, instead: &Option<String>) -> String {
    match instead {
        Some(name) => {
            let name = name.clone();
            t_string!(i18n, note_contact_gone, name).to_string()
        }
        None => String::new(),
    }
}

fn sync_text(i18n: I18nContext, s: &SyncNote) -> String {
    match s {
        SyncNote::Added => t_string!(i18n, sync_added).to_string(),
        SyncNote::Updated => t_string!(i18n, sync_updated).to_string(),
        SyncNote::Unchanged => t_string!(i18n, sync_unchanged).to_string(),
        SyncNote::Incomplete { missing } => match missing {
            Missing::FirstName => t_string!(i18n, sync_missing_first_name),
            Missing::LastName => t_string!(i18n, sync_missing_last_name),
            Missing::Name => t_string!(i18n, sync_missing_name),
            Missing::Phone => t_string!(i18n, sync_missing_phone),
            Missing::NameAndPhone => t_string!(i18n, sync_missing_name_phone),
        }
        .to_string(),
        SyncNote::GroupReleased => t_string!(i18n, sync_group_released).to_string(),
        SyncNote::ModuleMismatch { record, .. } if *record == ZohoModule::Contacts => {
            t_string!(i18n, sync_mismatch_contact).to_string()
        }
        SyncNote::ModuleMismatch { .. } => t_string!(i18n, sync_mismatch_account).to_string(),
        SyncNote::Refused { fields } => {
            let fields = fields
                .iter()
                .map(|f| f.replace('_', " "))
                .collect::<Vec<_>>()
                .join(", ");
            t_string!(i18n, sync_refused, fields).to_string()
        }
    }
}
