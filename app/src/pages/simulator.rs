//! `/pbx/simulator`: place a call between an outside number and extensions, then answer, hang
//! up or let it ring out; or run a preset scenario. Everything goes through the public intake
//! (or, with the PBX sandbox connected, through the PBX sandbox).
//!
//! A plain page (no WASM): the form and each call's buttons are HTML forms the server answers
//! with this page again (`api::ssr::answer_plain_form`). The calls placed from the page are
//! kept in the admin's session, so the list is the server's: it survives a reload, and the
//! calls in progress and the PBX's console refresh by themselves (`data-live`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::calls::{pbx_console_calls, simulator_calls, PlaceCall, Simulate};
use crate::api::take_flash;
use crate::components::Frame;
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{FieldError, Flash, PbxConsoleCall, SimCall};
use crate::pages::helpdesk::{error_in, problem_text};

/// How often the calls and the PBX's console are drawn again (ms).
const SIM_LIVE_EVERY_MS: u32 = 1000;

/// The form's fields whose errors show beside them.
const FIELDS: [&str; 2] = ["external_number", "extensions"];

/// A refusal said above the calls (one not about a field of the form).
fn error_text(i18n: I18nContext, e: &AppError) -> Option<String> {
    Some(match e {
        AppError::Invalid(errs) => match errs.first() {
            Some(f) if FIELDS.contains(&f.field.as_str()) => return None,
            Some(f) => problem_text(i18n, f.problem),
            None => t_string!(i18n, err_internal).to_string(),
        },
        AppError::Intake(m) => m.clone(),
        AppError::NotFound => problem_text(i18n, crate::model::FieldProblem::CallEnded),
        AppError::Unauthorized => t_string!(i18n, fail_signed_out).to_string(),
        _ => t_string!(i18n, err_internal).to_string(),
    })
}

/// What the form shows: what was typed in a refused form, else what the last call placed was
/// given (kept in the address), else the demo's caller on 2005.
#[derive(Clone)]
struct Typed {
    inbound: bool,
    number: String,
    extensions: String,
}

#[component]
pub fn SimulatorPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let asked = move |k: &str| query.with_untracked(|q| q.get(k));
    let typed = Typed {
        inbound: asked("direction").as_deref() != Some("outbound"),
        number: asked("external_number").unwrap_or_else(|| crate::model::DEMO_CALLER.into()),
        extensions: asked("extensions").unwrap_or_else(|| "2005".into()),
    };
    let page = Suspend::new(async move {
        let flash = take_flash().await;
        let calls = simulator_calls().await;
        let console = pbx_console_calls().await.ok().flatten();
        let form = Flash::of(&flash, "place").or_else(|| Flash::of(&flash, "scenario"));
        let typed = match form.as_ref().filter(|f| f.error.is_some()) {
            Some(f) => Typed {
                inbound: f.typed("direction") != "outbound",
                number: f.typed("external_number"),
                extensions: f.typed("extensions"),
            },
            None => typed,
        };
        let errors = form.as_ref().map(Flash::field_errors).unwrap_or_default();
        // A refusal not about a field, or what a scenario did: said above the calls.
        let message = flash.as_ref().and_then(|f| match (&f.error, &f.done) {
            (Some(e), _) => error_text(i18n, e).map(|t| (false, t)),
            (None, Some(call)) if f.form == "scenario" => Some((
                true,
                t_string!(i18n, sim_scenario_done, call = call.clone()).to_string(),
            )),
            _ => None,
        });
        let on_pbx = console.is_some();
        view! {
            // Which way the calls go: through the public intake, or on the PBX sandbox.
            <p class="muted">{if on_pbx {
                t_string!(i18n, sim_intro_pbx).to_string()
            } else {
                t_string!(i18n, sim_intro).to_string()
            }}</p>
            <PlaceForm typed errors/>
            {message.map(|(ok, text)| view! {
                <p class=if ok { "note ok" } else { "form-error" } role="status">
                    {text}" "<a href="/integrations/helpdesk/log">{t_string!(i18n, sim_open_log)}</a>
                </p>
            })}
            {console.map(|calls| view! { <PbxConsole calls/> })}
            <SimCalls calls/>
            <Scenarios on_pbx/>
        }
    });
    view! {
        <Frame>
            <header class="page-head">
                <div class="title"><h1>{t_string!(i18n, sim_title)}</h1></div>
            </header>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
    }
}

/// The form that places a call; the scenarios' buttons belong to it too (`form="sim-form"`),
/// so that they run on the extensions typed here.
#[component]
fn PlaceForm(typed: Typed, errors: Vec<FieldError>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="place-title">
            <h2 id="place-title">{t_string!(i18n, sim_place_title)}</h2>
            <form id="sim-form" class="sim-form" method="post" action=PlaceCall::url() novalidate>
                <fieldset class="field">
                    <legend>{t_string!(i18n, sim_direction)}</legend>
                    <label class="inline"><input id="sim-inbound" type="radio" name="direction" value="inbound"
                        checked=typed.inbound/>{t_string!(i18n, sim_inbound)}</label>
                    <label class="inline"><input id="sim-outbound" type="radio" name="direction" value="outbound"
                        checked=!typed.inbound/>{t_string!(i18n, sim_outbound)}</label>
                </fieldset>
                <div class="field">
                    <label for="sim-number">{t_string!(i18n, sim_external_number)}</label>
                    <input id="sim-number" type="tel" name="external_number" value=typed.number autocomplete="off"/>
                    {error_in(&errors, "external_number", i18n)
                        .map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
                </div>
                <div class="field">
                    <label for="sim-extensions">{t_string!(i18n, extension)}</label>
                    <input id="sim-extensions" type="text" name="extensions" value=typed.extensions aria-describedby="sim-ext-hint"/>
                    <p class="hint" id="sim-ext-hint">{t_string!(i18n, sim_extensions_hint)}</p>
                    {error_in(&errors, "extensions", i18n)
                        .map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
                </div>
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, sim_place_call)}</button>
                </div>
            </form>
        </section>
    }
}

/// A button that posts one simulator action about a call.
#[component]
fn CallButton(
    /// The action, as its fields (`action[HangUp][call_id]`…).
    fields: Vec<(String, String)>,
    label: String,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=Simulate::url() class="row-view">
            {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
            <button type="submit" class=class>{label}</button>
        </form>
    }
}

/// The action `kind` on `call_id`, as a form's fields.
fn action(kind: &str, call_id: &str, extension: Option<&str>) -> Vec<(String, String)> {
    let mut f = vec![(format!("action[{kind}][call_id]"), call_id.to_string())];
    if let Some(x) = extension {
        f.push((format!("action[{kind}][extension]"), x.to_string()));
    }
    f
}

/// The calls placed from this page (and those in progress placed elsewhere), drawn again
/// every second.
#[component]
fn SimCalls(calls: Result<Vec<SimCall>, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let body = match calls {
        Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }
            .into_any(),
        Ok(calls) if calls.is_empty() => {
            view! { <p class="empty">{t_string!(i18n, sim_no_calls)}</p> }.into_any()
        }
        Ok(calls) => view! {
            <ul class="sim-calls">
                {calls.into_iter().map(|c| view! { <SimCallCard c/> }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <section class="card" id="sim-calls" aria-labelledby="calls-title" data-live=SIM_LIVE_EVERY_MS>
            <h2 id="calls-title">{t_string!(i18n, sim_calls_title)}</h2>
            {body}
        </section>
    }
}

#[component]
fn SimCallCard(c: SimCall) -> impl IntoView {
    let i18n = use_i18n();
    let state = if c.ended {
        t_string!(i18n, sim_state_ended).to_string()
    } else if let Some(x) = &c.answered {
        t_string!(i18n, sim_state_talking, extension = x.clone()).to_string()
    } else {
        t_string!(
            i18n,
            sim_state_ringing,
            extensions = c.extensions.join(", ")
        )
        .to_string()
    };
    let dir = if c.inbound {
        t_string!(i18n, sim_inbound)
    } else {
        t_string!(i18n, sim_outbound)
    };
    let ringing = !c.ended && c.answered.is_none();
    let id = c.call_id.clone();
    let answer_buttons = ringing.then(|| {
        c.extensions
            .iter()
            .map(|x| {
                let label = if c.extensions.len() > 1 {
                    t_string!(i18n, sim_answer_on, extension = x.clone()).to_string()
                } else {
                    t_string!(i18n, sim_answer).to_string()
                };
                view! { <CallButton fields=action("Answer", &id, Some(x)) label class="primary"/> }
            })
            .collect_view()
    });
    view! {
        <li class="sim-call" class:ended=c.ended>
            <div>
                <strong>{format!("{dir} · {}", c.number)}</strong>
                <span class="muted">" "{c.call_id.clone()}</span>
                <p class="sim-state" role="status">{state}</p>
            </div>
            <div class="actions left">
                {answer_buttons}
                {(!c.ended).then(|| view! {
                    <CallButton fields=action("HangUp", &id, None) label=t_string!(i18n, sim_hang_up).to_string()/>
                })}
                {ringing.then(|| view! {
                    <CallButton fields=action("RingOut", &id, None) label=t_string!(i18n, sim_ring_out).to_string()/>
                })}
            </div>
        </li>
    }
}

/// The preset scenarios: buttons of the place form, run on the extensions typed there.
#[component]
fn Scenarios(on_pbx: bool) -> impl IntoView {
    let i18n = use_i18n();
    let button = move |name: &'static str, label: &'static str| {
        view! { <button type="submit" form="sim-form" name="scenario" value=name>{label}</button> }
    };
    view! {
        <section class="card" aria-labelledby="scenarios-title">
            <h2 id="scenarios-title">{t_string!(i18n, sim_scenarios)}</h2>
            <p class="muted">{if on_pbx {
                t_string!(i18n, sim_scenarios_hint_pbx).to_string()
            } else {
                t_string!(i18n, sim_scenarios_hint).to_string()
            }}</p>
            <div class="actions left">
                {button("ring_group", t_string!(i18n, sim_ring_group))}
                {button("missed", t_string!(i18n, sim_missed))}
                {button("unknown_caller", t_string!(i18n, sim_unknown_caller))}
                {button("repeat_caller", t_string!(i18n, sim_repeat_caller))}
            </div>
        </section>
    }
}

/// The PBX sandbox's calls, party by party, with the hands a person has: pick up a ringing
/// phone, hang up. Drawn again every second.
#[component]
fn PbxConsole(calls: Vec<PbxConsoleCall>) -> impl IntoView {
    let i18n = use_i18n();
    let status_text = move |s: &str| match s {
        "RING" => t_string!(i18n, sim_member_ring).to_string(),
        "ALERT" => t_string!(i18n, sim_member_alert).to_string(),
        "ANSWER" | "ANSWERED" => t_string!(i18n, sim_member_talking).to_string(),
        "HOLD" => t_string!(i18n, sim_member_hold).to_string(),
        _ => t_string!(i18n, sim_member_gone).to_string(),
    };
    let empty = calls.is_empty();
    view! {
        <section class="card" id="pbx-console" aria-labelledby="pbx-console-title" data-live=SIM_LIVE_EVERY_MS>
            <h2 id="pbx-console-title">{t_string!(i18n, sim_pbx_title)}</h2>
            <p class="muted">{t_string!(i18n, sim_pbx_hint)}</p>
            {empty.then(|| view! { <p class="empty">{t_string!(i18n, sim_no_calls)}</p> })}
            <ul class="sim-calls">
                {calls.into_iter().map(|c| {
                    let id = c.call_id.clone();
                    view! {
                        <li class="sim-call pbx-call" data-call-id=id.clone()>
                            <div>
                                <span class="muted">{id.clone()}</span>
                                <ul class="members">
                                    {c.members.into_iter().map(|m| {
                                        let ringing = m.status == "RING";
                                        let who = if m.kind == "extension" {
                                            t_string!(i18n, sim_member_extension, number = m.number.clone()).to_string()
                                        } else {
                                            m.number.clone()
                                        };
                                        let pick_up = ringing.then(|| view! {
                                            <CallButton fields=action("Answer", &id, Some(&m.number))
                                                label=t_string!(i18n, sim_pick_up).to_string() class="primary small"/>
                                        });
                                        view! {
                                            <li data-number=m.number.clone() data-status=m.status.clone()>
                                                <strong>{who}</strong>" · "{status_text(&m.status)}{pick_up}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </div>
                            <div class="actions left">
                                <CallButton fields=action("HangUp", &id, None) label=t_string!(i18n, sim_hang_up).to_string()/>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
