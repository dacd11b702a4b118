//! `/pbx/simulator`: place a call between an outside number and extensions, then answer, hang
//! up or let it ring out; or run a preset scenario. Everything goes through the public intake.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::calls::{call_log, pbx_console_calls, simulate};
use crate::components::{keep_picked, keep_typed, Frame};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{FieldProblem, LogFilter, PbxConsoleCall, SimAction};
use crate::pages::helpdesk::problem_text;

/// A call placed from this page, as the simulator last left it.
#[derive(Clone, Debug, PartialEq)]
struct SimCall {
    call_id: String,
    inbound: bool,
    number: String,
    extensions: Vec<String>,
    answered: Option<String>,
    ended: bool,
    /// Listed among the calls in progress at least once (so its absence later means it ended).
    seen_open: bool,
}

/// How often the page asks whether calls changed.
const SIM_LIVE_EVERY_MS: u64 = 1000;

fn error_text(i18n: I18nContext, e: &AppError) -> (Option<String>, String) {
    match e {
        AppError::Invalid(errs) if !errs.is_empty() => (
            Some(errs[0].field.clone()),
            problem_text(i18n, errs[0].problem),
        ),
        AppError::Intake(m) => (None, m.clone()),
        AppError::NotFound => (None, problem_text(i18n, FieldProblem::CallEnded)),
        AppError::Unauthorized => (None, t_string!(i18n, fail_signed_out).to_string()),
        _ => (None, t_string!(i18n, err_internal).to_string()),
    }
}

#[component]
pub fn SimulatorPage() -> impl IntoView {
    let i18n = use_i18n();
    let inbound = RwSignal::new(true);
    let number = RwSignal::new(crate::model::DEMO_CALLER.to_string());
    let extensions = RwSignal::new("2005".to_string());
    // What is typed or picked before the page is interactive is kept.
    keep_picked("sim-inbound", inbound, true);
    keep_picked("sim-outbound", inbound, false);
    keep_typed("sim-number", number);
    keep_typed("sim-extensions", extensions);
    let calls = RwSignal::new(Vec::<SimCall>::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let field_error = RwSignal::new(None::<(String, String)>);

    let act = Action::new(move |a: &SimAction| {
        let a = a.clone();
        async move { (a.clone(), simulate(a).await) }
    });
    Effect::new(move |_| {
        let Some((action, result)) = act.value().get() else {
            return;
        };
        match result {
            Err(e) => {
                let (field, text) = error_text(i18n, &e);
                match field {
                    Some(f) => field_error.set(Some((f, text))),
                    None => message.set(Some((false, text))),
                }
            }
            Ok(call_id) => {
                field_error.set(None);
                match action {
                    SimAction::Place {
                        inbound,
                        external_number,
                        extensions,
                    } => {
                        let exts = extensions
                            .split([',', ' '])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect();
                        calls.update(|c| {
                            // The live list may have brought it in already.
                            c.retain(|x| x.call_id != call_id);
                            c.insert(
                                0,
                                SimCall {
                                    call_id: call_id.clone(),
                                    inbound,
                                    number: external_number.trim().to_string(),
                                    extensions: exts,
                                    answered: None,
                                    ended: false,
                                    seen_open: false,
                                },
                            )
                        });
                        message.set(None);
                    }
                    SimAction::Answer { call_id, extension } => calls.update(|c| {
                        if let Some(x) = c.iter_mut().find(|x| x.call_id == call_id) {
                            x.answered = Some(extension);
                        }
                    }),
                    SimAction::HangUp { call_id } | SimAction::RingOut { call_id } => {
                        calls.update(|c| {
                            if let Some(x) = c.iter_mut().find(|x| x.call_id == call_id) {
                                x.ended = true;
                            }
                        })
                    }
                    SimAction::Scenario { .. } => message.set(Some((
                        true,
                        t_string!(i18n, sim_scenario_done, call = call_id).to_string(),
                    ))),
                }
            }
        }
    });

    // Calls placed elsewhere (an agent's click to call, a real PBX) join the list while they
    // are in progress, so that they can be answered and hung up here too.
    let version = crate::components::watch_calls(SIM_LIVE_EVERY_MS);
    let open = Resource::new(
        move || version.get(),
        |_| {
            call_log(LogFilter {
                outcome: "open".into(),
                ..Default::default()
            })
        },
    );
    Effect::new(move |_| {
        let Some(Ok(list)) = open.get() else {
            return;
        };
        calls.update(|c| {
            // Calls answered or ended elsewhere (an agent's client, a real PBX) follow.
            for x in c.iter_mut().filter(|x| !x.ended) {
                match list.iter().find(|s| s.call_id == x.call_id) {
                    Some(s) => {
                        x.seen_open = true;
                        x.answered = s.answered_by.clone();
                    }
                    None if x.seen_open => x.ended = true,
                    None => {}
                }
            }
            for s in list.iter().rev() {
                if s.direction == "internal" || c.iter().any(|x| x.call_id == s.call_id) {
                    continue;
                }
                c.insert(
                    0,
                    SimCall {
                        call_id: s.call_id.clone(),
                        inbound: s.direction == "inbound",
                        number: s.external_number.clone().unwrap_or_default(),
                        extensions: s.extensions.clone(),
                        answered: s.answered_by.clone(),
                        ended: false,
                        seen_open: true,
                    },
                );
            }
        })
    });

    // With the PBX sandbox connected, its own view of the calls (the dialling agent's phone
    // rings before any call is in the log), asked every second.
    let console = RwSignal::new(None::<Vec<PbxConsoleCall>>);
    Effect::new(move |_| {
        let ask = move || {
            leptos::task::spawn_local(async move {
                if let Ok(c) = pbx_console_calls().await {
                    if console.get_untracked() != c {
                        console.set(c);
                    }
                }
            })
        };
        ask();
        if let Ok(h) =
            set_interval_with_handle(ask, std::time::Duration::from_millis(SIM_LIVE_EVERY_MS))
        {
            on_cleanup(move || h.clear());
        }
    });
    Effect::new(move |_| {
        // What the console did shows at once.
        if act.value().get().is_some() {
            leptos::task::spawn_local(async move {
                if let Ok(c) = pbx_console_calls().await {
                    console.set(c);
                }
            })
        }
    });

    let place = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        act.dispatch(SimAction::Place {
            inbound: inbound.get_untracked(),
            external_number: number.get_untracked(),
            extensions: extensions.get_untracked(),
        });
    };
    let scenario = move |name: &'static str| {
        move |_| {
            message.set(None);
            act.dispatch(SimAction::Scenario {
                name: name.to_string(),
                extension: extensions.get_untracked(),
            });
        }
    };
    let err_for = move |f: &'static str| {
        move || {
            field_error
                .get()
                .filter(|(field, _)| field == f)
                .map(|(_, t)| view! { <p class="field-error" role="alert">{t}</p> })
        }
    };

    view! {
        <Frame>
            <header class="page-head">
                <div class="title"><h1>{t_string!(i18n, sim_title)}</h1></div>
            </header>
            // Which way the calls go: through the public intake, or on the PBX sandbox.
            <p class="muted">{move || if console.with(Option::is_some) {
                t_string!(i18n, sim_intro_pbx).to_string()
            } else {
                t_string!(i18n, sim_intro).to_string()
            }}</p>
            <section class="card" aria-labelledby="place-title">
                <h2 id="place-title">{t_string!(i18n, sim_place_title)}</h2>
                <form class="sim-form" on:submit=place novalidate>
                    <fieldset class="field">
                        <legend>{t_string!(i18n, sim_direction)}</legend>
                        <label class="inline"><input id="sim-inbound" type="radio" name="direction"
                            checked=inbound.get_untracked() prop:checked=move || inbound.get()
                            on:change=move |_| inbound.set(true)/>{t_string!(i18n, sim_inbound)}</label>
                        <label class="inline"><input id="sim-outbound" type="radio" name="direction"
                            checked=!inbound.get_untracked() prop:checked=move || !inbound.get()
                            on:change=move |_| inbound.set(false)/>{t_string!(i18n, sim_outbound)}</label>
                    </fieldset>
                    <div class="field">
                        <label for="sim-number">{t_string!(i18n, sim_external_number)}</label>
                        <input id="sim-number" type="tel" value=number.get_untracked() bind:value=number autocomplete="off"/>
                        {err_for("external_number")}
                    </div>
                    <div class="field">
                        <label for="sim-extensions">{t_string!(i18n, extension)}</label>
                        <input id="sim-extensions" type="text" value=extensions.get_untracked() bind:value=extensions aria-describedby="sim-ext-hint"/>
                        <p class="hint" id="sim-ext-hint">{t_string!(i18n, sim_extensions_hint)}</p>
                        {err_for("extensions")}
                    </div>
                    <div class="actions">
                        <button type="submit" class="primary" disabled=move || act.pending().get()>{t_string!(i18n, sim_place_call)}</button>
                    </div>
                </form>
            </section>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note ok" } else { "form-error" } role="status">
                    {text}" "<A href="/integrations/helpdesk/log">{t_string!(i18n, sim_open_log)}</A>
                </p>
            })}
            {move || console.get().map(|calls| view! { <PbxConsole calls=calls act=act/> })}
            <section class="card" aria-labelledby="calls-title">
                <h2 id="calls-title">{t_string!(i18n, sim_calls_title)}</h2>
                <Show when=move || calls.with(Vec::is_empty)>
                    <p class="empty">{t_string!(i18n, sim_no_calls)}</p>
                </Show>
                <ul class="sim-calls">
                    <For each=move || calls.get() key=|c| (c.call_id.clone(), c.answered.clone(), c.ended) let:c>
                        <SimCallCard c=c act=act/>
                    </For>
                </ul>
            </section>
            <section class="card" aria-labelledby="scenarios-title">
                <h2 id="scenarios-title">{t_string!(i18n, sim_scenarios)}</h2>
                <p class="muted">{move || if console.with(Option::is_some) {
                    t_string!(i18n, sim_scenarios_hint_pbx).to_string()
                } else {
                    t_string!(i18n, sim_scenarios_hint).to_string()
                }}</p>
                <div class="actions left">
                    <button type="button" on:click=scenario("ring_group")>{t_string!(i18n, sim_ring_group)}</button>
                    <button type="button" on:click=scenario("missed")>{t_string!(i18n, sim_missed)}</button>
                    <button type="button" on:click=scenario("unknown_caller")>{t_string!(i18n, sim_unknown_caller)}</button>
                    <button type="button" on:click=scenario("repeat_caller")>{t_string!(i18n, sim_repeat_caller)}</button>
                </div>
            </section>
        </Frame>
    }
}

#[component]
fn SimCallCard(
    c: SimCall,
    act: Action<SimAction, (SimAction, Result<String, AppError>)>,
) -> impl IntoView {
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
    let id = c.call_id.clone();
    let answer_buttons = (!c.ended && c.answered.is_none()).then(|| {
        c.extensions
            .iter()
            .map(|x| {
                let (id, x) = (id.clone(), x.clone());
                let label = if c.extensions.len() > 1 {
                    t_string!(i18n, sim_answer_on, extension = x.clone()).to_string()
                } else {
                    t_string!(i18n, sim_answer).to_string()
                };
                view! {
                    <button type="button" class="primary" disabled=move || act.pending().get()
                        on:click=move |_| { act.dispatch(SimAction::Answer { call_id: id.clone(), extension: x.clone() }); }>
                        {label}
                    </button>
                }
            })
            .collect_view()
    });
    let (id1, id2) = (id.clone(), id.clone());
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
                    <button type="button" disabled=move || act.pending().get()
                        on:click=move |_| { act.dispatch(SimAction::HangUp { call_id: id1.clone() }); }>{t_string!(i18n, sim_hang_up)}</button>
                })}
                {(!c.ended && c.answered.is_none()).then(|| view! {
                    <button type="button" disabled=move || act.pending().get()
                        on:click=move |_| { act.dispatch(SimAction::RingOut { call_id: id2.clone() }); }>{t_string!(i18n, sim_ring_out)}</button>
                })}
            </div>
        </li>
    }
}

/// The PBX sandbox's calls, party by party, with the hands a person has: pick up a ringing
/// phone, hang up.
#[component]
fn PbxConsole(
    calls: Vec<PbxConsoleCall>,
    act: Action<SimAction, (SimAction, Result<String, AppError>)>,
) -> impl IntoView {
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
        <section class="card" id="pbx-console" aria-labelledby="pbx-console-title">
            <h2 id="pbx-console-title">{t_string!(i18n, sim_pbx_title)}</h2>
            <p class="muted">{t_string!(i18n, sim_pbx_hint)}</p>
            {empty.then(|| view! { <p class="empty">{t_string!(i18n, sim_no_calls)}</p> })}
            <ul class="sim-calls">
                {calls.into_iter().map(|c| {
                    let id = c.call_id.clone();
                    let hang = id.clone();
                    view! {
                        <li class="sim-call pbx-call" data-call-id=id.clone()>
                            <div>
                                <span class="muted">{id.clone()}</span>
                                <ul class="members">
                                    {c.members.into_iter().map(|m| {
                                        let (id, number) = (id.clone(), m.number.clone());
                                        let ringing = m.status == "RING";
                                        let who = if m.kind == "extension" {
                                            t_string!(i18n, sim_member_extension, number = m.number.clone()).to_string()
                                        } else {
                                            m.number.clone()
                                        };
                                        view! {
                                            <li data-number=m.number.clone() data-status=m.status.clone()>
                                                <strong>{who}</strong>" · "{status_text(&m.status)}
                                                {ringing.then(|| view! {
                                                    <button type="button" class="primary small" disabled=move || act.pending().get()
                                                        on:click=move |_| { act.dispatch(SimAction::Answer { call_id: id.clone(), extension: number.clone() }); }>
                                                        {t_string!(i18n, sim_pick_up)}
                                                    </button>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </div>
                            <div class="actions left">
                                <button type="button" disabled=move || act.pending().get()
                                    on:click=move |_| { act.dispatch(SimAction::HangUp { call_id: hang.clone() }); }>{t_string!(i18n, sim_hang_up)}</button>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
