//! `/agent`: the agent web client (requirements §7, §8), standing in for the PBX's own web
//! client. An agent signs in with an extension and its web-client password, sees the
//! extension's state and calls, gets the caller's Zoho Desk page in a new tab while the phone
//! rings (screen pop), and dials numbers: from the dial box, from `tel:` links once this
//! client is the browser's handler for them, and with one click from Zoho Desk pages through
//! the browser extension (`extension/` in the repository).

use leptos::prelude::*;

use crate::api::agent::{
    claim_pop, control_call, current_agent, dial, my_calls, AgentSignIn, AgentSignOut,
};
use crate::components::{keep_typed, SignInFields};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    dial_string, AgentCall, AgentCallState, AgentCalls, AgentEvent, AgentMe, DialFailure, ScreenPop,
};
use crate::pages::helpdesk::problem_text;
use crate::pages::log::outcome_label;
use crate::pages::login::sign_in_error;

/// Where the live connection is served (server crate, `agent.rs`).
const EVENTS_URL: &str = "/api/agent/events";
/// What the browser extension posts into this page: `{type, number, from}`.
const EXTENSION_DIAL: &str = "helpdesk-dial";

/// The page: drawn by the server, the client in it an island of its own (the admin's app is
/// not loaded here: `is_island_page`).
#[component]
pub fn AgentPage() -> impl IntoView {
    view! {
        // The browser extension recognises the agent client by this.
        <leptos_meta::Meta name="pbx-agent-client" content="1"/>
        <AgentIsland/>
    }
}

/// The agent client, hydrated on its own with the islands bundle: its language context and
/// redraws are its own, and it marks the page interactive once it is.
#[island]
fn AgentIsland() -> impl IntoView {
    let i18n = use_context::<I18nContext>().unwrap_or_else(provide_i18n);
    // Made here, not in the redrawn part below: the island's resources are the ones the
    // server sends with the page (made later, they would be fetched again and the hydration
    // would not find what the server drew).
    let me = Resource::new(|| (), |_| current_agent());
    // The calls as the page is first drawn; later changes come over the live connection.
    let first_calls = Resource::new(|| (), |_| my_calls());
    crate::components::mark_hydrated();
    move || {
        i18n.track_redraws();
        untrack(move || view! { <AgentBody me=me first_calls=first_calls/> })
    }
}

#[component]
fn AgentBody(
    me: Resource<Result<Option<AgentMe>, AppError>>,
    first_calls: Resource<Result<AgentCalls, AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let notice = RwSignal::new(false);
    let signed_out = Callback::new(move |_: ()| {
        notice.set(true);
        me.refetch();
    });
    view! {
        <main class="agent-wrap">
            <Suspense fallback=|| ()>
                {move || me.get().map(|r| match r {
                    Ok(Some(a)) => {
                        let initial = first_calls.get().and_then(Result::ok).unwrap_or_default();
                        view! { <AgentClient me=a initial=initial signed_out=signed_out/> }.into_any()
                    }
                    Ok(None) => view! { <AgentSignInCard notice=notice on_done=Callback::new(move |_: ()| {
                        notice.set(false);
                        first_calls.refetch();
                        me.refetch();
                    })/> }.into_any(),
                    Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }.into_any(),
                })}
            </Suspense>
            <crate::components::LanguageSwitch/>
        </main>
    }
}

#[component]
fn AgentSignInCard(notice: RwSignal<bool>, on_done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<AgentSignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            on_done.run(());
        }
    });
    let error = move || {
        action.value().get().and_then(|r| r.err()).map(|e| {
            sign_in_error(i18n, e, || {
                t_string!(i18n, agent_bad_credentials).to_string()
            })
        })
    };
    view! {
        <section class="card login" aria-labelledby="agent-title">
            <h1 id="agent-title">{t_string!(i18n, agent_title)}</h1>
            <p class="muted">{t_string!(i18n, agent_intro)}</p>
            <Show when=move || notice.get()>
                <p class="note warn" role="status">{t_string!(i18n, agent_signed_out_notice)}</p>
            </Show>
            <ActionForm action=action>
                <SignInFields password_id="agent-password"
                    error=Signal::derive(error) pending=action.pending()>
                    <div class="field">
                        <label for="agent-extension">{t_string!(i18n, extension)}</label>
                        <input id="agent-extension" name="extension" type="text" inputmode="numeric"
                            autocomplete="username" required autofocus/>
                    </div>
                </SignInFields>
            </ActionForm>
        </section>
    }
}

/// Puts a changed call where it belongs: in progress first, or at the top of the recent ones.
fn apply_call(calls: &mut AgentCalls, c: AgentCall) {
    calls.active.retain(|x| x.call_id != c.call_id);
    calls.recent.retain(|x| x.call_id != c.call_id);
    if c.state == AgentCallState::Ended {
        calls.recent.insert(0, c);
        calls.recent.truncate(20);
    } else {
        calls.active.insert(0, c);
    }
}

/// What became of a pop in this tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PopStatus {
    Opened,
    /// The browser blocked the new tab.
    Blocked,
    /// Another tab of the agent claimed it.
    Elsewhere,
}

/// Opens a pop's page in a new tab; `false` when the browser blocked it.
fn open_tab(url: &str) -> bool {
    match window().open_with_url_and_target(url, "_blank") {
        Ok(Some(w)) => {
            // The opened page must not be able to navigate this one.
            let _ = w.set_opener(&wasm_bindgen::JsValue::NULL);
            true
        }
        _ => false,
    }
}

#[component]
fn AgentClient(me: AgentMe, initial: AgentCalls, signed_out: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let calls = RwSignal::new(initial);
    let answer_here = me.can_answer;
    // Re-reads the calls (after a reconnect, or missed events). Not a resource: the page must
    // not fall back to its loading state (and lose focus) while it reads.
    let reload = move || {
        leptos::task::spawn_local(async move {
            if let Ok(c) = my_calls().await {
                calls.set(c);
            }
        })
    };
    let live = RwSignal::new(false);
    // What became of the latest pop in this tab.
    let pop_status = RwSignal::new(None::<(PopStatus, ScreenPop)>);

    // Pops this tab has heard of (shown as a data attribute: tests read it after a later
    // event to know that no pop came before it).
    let heard = RwSignal::new(0_u32);
    // A pop: every tab of the agent hears it, the first to claim it opens the page.
    let on_pop = move |p: ScreenPop| {
        heard.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            let status = match claim_pop(p.call_id.clone()).await {
                Ok(true) if open_tab(&p.url) => PopStatus::Opened,
                Ok(true) => PopStatus::Blocked,
                // Another tab of this agent opened it.
                Ok(false) => PopStatus::Elsewhere,
                Err(_) => return,
            };
            pop_status.set(Some((status, p)));
        });
    };
    // The PBX's word that a call could not be placed (30015).
    let dial_failed = RwSignal::new(None::<DialFailure>);
    let on_event = move |ev: AgentEvent| match ev {
        AgentEvent::Call(c) => calls.update(|cs| apply_call(cs, c)),
        AgentEvent::Pop(p) => on_pop(p),
        AgentEvent::SignedOut => signed_out.run(()),
        AgentEvent::Resync => reload(),
        AgentEvent::DialFailed(f) => dial_failed.set(Some(f)),
    };

    // The live connection (in the browser only: effects do not run on the server).
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(es) = web_sys::EventSource::new(EVENTS_URL) else {
            return;
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(ev) = e
                    .data()
                    .as_string()
                    .and_then(|s| serde_json::from_str::<AgentEvent>(&s).ok())
                {
                    on_event(ev);
                }
            });
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            live.set(true);
            // Whatever happened while the connection was down.
            reload();
        });
        let es2 = es.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            live.set(false);
            // The browser reconnects by itself, except when the server refused the
            // connection (signed out): then ask who is signed in, a little later.
            if es2.ready_state() == web_sys::EventSource::CLOSED {
                set_timeout(
                    move || signed_out.run(()),
                    std::time::Duration::from_secs(2),
                );
            }
        });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let keep = send_wrapper::SendWrapper::new((es, on_message, on_open, on_error));
        on_cleanup(move || {
            let (es, ..) = keep.take();
            es.close();
        });
    });

    // Dialling.
    let number = RwSignal::new(String::new());
    let prefilled = RwSignal::new(false);
    let dial_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(d) = query_param("dial") {
            let n = dial_string(&d);
            if !n.is_empty() {
                number.set(n);
                prefilled.set(true);
            }
        }
    });
    // What is typed before the page is interactive is kept (over a phone link's number).
    keep_typed("agent-number", number);
    // A phone link's number waits for one press of Enter (or a click on Dial).
    Effect::new(move |_| {
        if let (Some(b), true) = (dial_button.get(), prefilled.get()) {
            // After the frame: the button may not be in the document yet.
            request_animation_frame(move || {
                let _ = b.focus();
            });
        }
    });
    let dial_act = Action::new(move |n: &String| {
        let n = n.clone();
        async move { (n.clone(), dial(n).await) }
    });
    let dial_now = move |n: String| {
        prefilled.set(false);
        number.set(n.clone());
        dial_act.dispatch(n);
    };
    // One click in Zoho Desk: the browser extension posts the number into this page, with the
    // origin of the page it was clicked on. A click on the connected Zoho Desk dials at once;
    // a number from anywhere else waits for the agent's confirmation.
    let confirm = RwSignal::new(None::<(String, String)>);
    let desk_origin = me.desk_origin.clone();
    Effect::new(move |_| {
        let desk_origin = desk_origin.clone();
        let h = window_event_listener(leptos::ev::message, move |e: web_sys::MessageEvent| {
            let ours = e.origin() == window().location().origin().unwrap_or_default()
                && e.source()
                    .is_some_and(|s| web_sys::js_sys::Object::is(&s, window().as_ref()));
            if !ours {
                return;
            }
            let data = e.data();
            let field = |name: &str| {
                web_sys::js_sys::Reflect::get(&data, &name.into())
                    .ok()
                    .and_then(|v| v.as_string())
            };
            if field("type").as_deref() != Some(EXTENSION_DIAL) {
                return;
            }
            let (Some(n), Some(from)) = (field("number"), field("from")) else {
                return;
            };
            let n = dial_string(&n);
            if n.is_empty() {
                return;
            }
            if desk_origin.as_deref() == Some(from.as_str()) {
                confirm.set(None);
                dial_now(n);
            } else {
                confirm.set(Some((n, from)));
            }
        });
        on_cleanup(move || h.remove());
    });
    let extension = me.extension.clone();
    let me_ext = move || extension.clone();
    let dial_message = move || {
        dial_act.value().get().map(|(n, r)| match r {
            Ok(call_id) => match dial_failed.get() {
                Some(f) if f.call_id == call_id => (false, dial_failure_text(i18n, &f.reason)),
                _ => (
                    true,
                    t_string!(i18n, agent_dialing, number = n, extension = me_ext()).to_string(),
                ),
            },
            Err(AppError::Pbx(words)) => (
                false,
                t_string!(i18n, agent_dial_pbx_error, error = words).to_string(),
            ),
            Err(AppError::Invalid(errs)) if !errs.is_empty() => {
                (false, problem_text(i18n, errs[0].problem))
            }
            Err(AppError::Unauthorized) => {
                (false, t_string!(i18n, agent_signed_out_notice).to_string())
            }
            Err(AppError::ServerFn(_)) => (false, t_string!(i18n, err_network).to_string()),
            Err(_) => (false, t_string!(i18n, err_internal).to_string()),
        })
    };
    // tel: links.
    let tel = RwSignal::new(None::<bool>);
    let register_tel = move |_| {
        let w = window();
        let origin = w.location().origin().unwrap_or_default();
        let ok = w
            .navigator()
            .register_protocol_handler(
                "tel",
                &format!("{origin}/agent?dial=%s"),
                "PBX agent client",
            )
            .is_ok();
        tel.set(Some(ok));
    };

    // Answer / Hang up from the client.
    let control = Action::new(move |(id, answer): &(String, bool)| {
        let (id, answer) = (id.clone(), *answer);
        async move { control_call(id, answer).await }
    });
    let control_error = move || {
        control
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| match e {
                AppError::Invalid(errs) if !errs.is_empty() => problem_text(i18n, errs[0].problem),
                AppError::Unauthorized => t_string!(i18n, agent_signed_out_notice).to_string(),
                AppError::ServerFn(_) => t_string!(i18n, err_network).to_string(),
                _ => t_string!(i18n, err_internal).to_string(),
            })
    };

    let sign_out = ServerAction::<AgentSignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            signed_out.run(());
        }
    });

    let state = move || {
        calls.with(|c| {
            if c.active.iter().any(|x| x.state == AgentCallState::Talking) {
                ("busy", t_string!(i18n, agent_state_talking).to_string())
            } else if c.active.iter().any(|x| x.state == AgentCallState::Ringing) {
                ("ringing", t_string!(i18n, agent_state_ringing).to_string())
            } else {
                ("idle", t_string!(i18n, agent_state_idle).to_string())
            }
        })
    };
    let site = move || window().location().origin().unwrap_or_default();
    let bound = me.agent_name.clone();
    let title = t_string!(
        i18n,
        agent_extension_title,
        extension = me.extension.clone(),
        name = me.name.clone()
    )
    .to_string();

    view! {
        <section class="card agent" aria-labelledby="agent-head" data-pops-heard=move || heard.get().to_string()>
            <header class="agent-head">
                <div>
                    <h1 id="agent-head">{title}</h1>
                    {match bound {
                        Some(name) => view! { <p class="muted">{t_string!(i18n, agent_bound, name = name)}</p> }.into_any(),
                        None => view! { <p class="note warn">{t_string!(i18n, agent_not_bound)}</p> }.into_any(),
                    }}
                </div>
                <div class="agent-status">
                    <span class=move || format!("agent-state {}", state().0) id="agent-state" role="status">{move || state().1}</span>
                    <span class=move || if live.get() { "conn live" } else { "conn" } id="agent-conn">
                        {move || if live.get() { t_string!(i18n, agent_live) } else { t_string!(i18n, agent_reconnecting) }}
                    </span>
                    <button type="button" on:click=move |_| { sign_out.dispatch(AgentSignOut {}); }>{t_string!(i18n, sign_out)}</button>
                </div>
            </header>

            {move || confirm.get().map(|(n, from)| {
                let call = n.clone();
                view! {
                    <div class="note warn dial-confirm" role="alertdialog" aria-labelledby="dial-confirm-title">
                        <strong id="dial-confirm-title">{t_string!(i18n, agent_confirm_title, number = n)}</strong>
                        <p>{t_string!(i18n, agent_confirm_from, site = from)}</p>
                        <div class="actions">
                            <button type="button" on:click=move |_| { confirm.set(None); dial_now(call.clone()); }>{t_string!(i18n, agent_confirm_call)}</button>
                            <button type="button" class="secondary" on:click=move |_| confirm.set(None)>{t_string!(i18n, agent_confirm_cancel)}</button>
                        </div>
                    </div>
                }
            })}
            {move || pop_status.get().map(|(status, p)| match status {
                PopStatus::Blocked => {
                let site = site();
                view! {
                    <div class="note warn pop-blocked" role="alert">
                        <strong>{t_string!(i18n, agent_blocked_title)}</strong>
                        <ol>
                            <li>{t_string!(i18n, agent_blocked_step1)}</li>
                            <li>{t_string!(i18n, agent_blocked_step2, site = site.clone())}</li>
                            <li>{t_string!(i18n, agent_blocked_step3, site = site)}</li>
                        </ol>
                        <a href=p.url.clone() target="_blank" rel="noopener noreferrer">{t_string!(i18n, agent_blocked_meanwhile, name = p.name.clone())}</a>
                    </div>
                }.into_any()
                }
                PopStatus::Opened => view! {
                    <p class="note ok" role="status">{t_string!(i18n, agent_popped, name = p.name.clone())}</p>
                }.into_any(),
                PopStatus::Elsewhere => view! {
                    <p class="note info" role="status">
                        {t_string!(i18n, agent_popped_elsewhere, name = p.name.clone())}" "
                        <a href=p.url.clone() target="_blank" rel="noopener noreferrer">{t_string!(i18n, agent_open_zoho)}</a>
                    </p>
                }.into_any(),
            })}

            <h2>{t_string!(i18n, agent_current)}</h2>
            <Show when=move || calls.with(|c| c.active.is_empty())>
                <p class="empty">{t_string!(i18n, agent_no_current)}</p>
            </Show>
            <ul class="agent-calls">
                <For each=move || calls.get().active key=|c| (c.call_id.clone(), c.state, c.caller.clone()) let:c>
                    <ActiveCall c=c control=control answer_here=answer_here/>
                </For>
            </ul>
            {move || control_error().map(|t| view! { <p class="form-error" role="alert">{t}</p> })}
        </section>

        <section class="card agent" aria-labelledby="dial-title">
            <h2 id="dial-title">{t_string!(i18n, agent_dial_title)}</h2>
            <form class="dial-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                dial_now(number.get_untracked());
            }>
                <div class="field">
                    <label for="agent-number">{t_string!(i18n, agent_number_to_dial)}</label>
                    <input id="agent-number" type="tel" value=number.get_untracked() bind:value=number autocomplete="off"/>
                </div>
                <button id="agent-dial-button" node_ref=dial_button type="submit" class="primary" disabled=move || dial_act.pending().get()>
                    {t_string!(i18n, agent_dial)}
                </button>
            </form>
            <Show when=move || prefilled.get()>
                <p class="note info" role="status">{t_string!(i18n, agent_dial_prefilled)}</p>
            </Show>
            {move || dial_message().map(|(ok, text)| view! {
                <p class=if ok { "note ok" } else { "form-error" } role="status">{text}</p>
            })}
            <div class="tel-handler">
                <button type="button" on:click=register_tel>{t_string!(i18n, agent_tel_handler)}</button>
                <p class="hint">{t_string!(i18n, agent_tel_hint)}</p>
                {move || tel.get().map(|ok| view! {
                    <p class=if ok { "note info" } else { "note warn" } role="status">
                        {if ok { t_string!(i18n, agent_tel_asked) } else { t_string!(i18n, agent_tel_unsupported) }}
                    </p>
                })}
            </div>
        </section>

        <section class="card agent" aria-labelledby="recent-title">
            <h2 id="recent-title">{t_string!(i18n, agent_recent)}</h2>
            <Show when=move || calls.with(|c| c.recent.is_empty())>
                <p class="empty">{t_string!(i18n, agent_no_calls)}</p>
            </Show>
            <Show when=move || calls.with(|c| !c.recent.is_empty())>
                <table class="card-table agent-recent">
                    <thead><tr>
                        <th scope="col">{t_string!(i18n, agent_col_time)}</th>
                        <th scope="col">{t_string!(i18n, agent_col_call)}</th>
                        <th scope="col">{t_string!(i18n, agent_col_caller)}</th>
                        <th scope="col">{t_string!(i18n, agent_col_result)}</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || calls.get().recent key=|c| (c.call_id.clone(), c.caller.clone()) let:c>
                            <RecentCall c=c/>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

fn call_words(i18n: I18nContext, c: &AgentCall) -> String {
    match c.direction.as_str() {
        "outbound" => t_string!(i18n, agent_call_to, number = c.number.clone()).to_string(),
        _ => t_string!(i18n, agent_call_from, number = c.number.clone()).to_string(),
    }
}

fn caller_cell(i18n: I18nContext, c: &AgentCall) -> AnyView {
    match &c.caller {
        Some(r) => match &r.url {
            Some(u) => view! {
                <a href=u.clone() target="_blank" rel="noopener noreferrer">{r.name.clone()}</a>
            }
            .into_any(),
            None => view! { <span>{r.name.clone()}</span> }.into_any(),
        },
        None => view! { <span class="muted">{t_string!(i18n, agent_no_record)}</span> }.into_any(),
    }
}

#[component]
fn ActiveCall(
    c: AgentCall,
    control: Action<(String, bool), Result<(), AppError>>,
    /// The client can answer (no PBX, or the PBX sandbox); on a real PBX the phone does.
    answer_here: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let can_answer = answer_here && c.state == AgentCallState::Ringing && c.direction == "inbound";
    let can_hang_up = c.state == AgentCallState::Talking
        || c.state == AgentCallState::Ringing && c.direction == "outbound";
    let (id1, id2) = (c.call_id.clone(), c.call_id.clone());
    let buttons = view! {
        <div class="agent-call-actions">
            {can_answer.then(|| view! {
                <button type="button" class="primary" disabled=move || control.pending().get()
                    on:click=move |_| { control.dispatch((id1.clone(), true)); }>{t_string!(i18n, sim_answer)}</button>
            })}
            {can_hang_up.then(|| view! {
                <button type="button" class="danger" disabled=move || control.pending().get()
                    on:click=move |_| { control.dispatch((id2.clone(), false)); }>{t_string!(i18n, sim_hang_up)}</button>
            })}
        </div>
    };
    let state = match c.state {
        AgentCallState::Ringing => t_string!(i18n, agent_state_ringing),
        AgentCallState::Talking => t_string!(i18n, agent_state_talking),
        AgentCallState::Ended => t_string!(i18n, agent_state_idle),
    };
    let class = match c.state {
        AgentCallState::Ringing => "agent-call ringing",
        _ => "agent-call",
    };
    view! {
        <li class=class data-call=c.call_id.clone()>
            <div>
                <strong>{call_words(i18n, &c)}</strong>
                <p class="muted">{c.started.clone()}</p>
            </div>
            <div class="agent-caller">{caller_cell(i18n, &c)}</div>
            <span class="badge neutral">{state}</span>
            {buttons}
        </li>
    }
}

#[component]
fn RecentCall(c: AgentCall) -> impl IntoView {
    let i18n = use_i18n();
    let result = if c.answered_elsewhere {
        t_string!(i18n, agent_answered_elsewhere).to_string()
    } else {
        match &c.call_type {
            Some(t) => outcome_label(i18n, t),
            None => t_string!(i18n, agent_in_progress).to_string(),
        }
    };
    view! {
        <tr>
            <td>{c.started.clone()}</td>
            <td>{call_words(i18n, &c)}</td>
            <td>{caller_cell(i18n, &c)}</td>
            <td>{result}</td>
        </tr>
    }
}

/// The PBX's 30015 reason in plain words (the reason itself follows, verbatim).
fn dial_failure_text(i18n: I18nContext, reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    let why = if has(&["permission", "restric"]) {
        t_string!(i18n, agent_dial_why_permission)
    } else if has(&["busy", "dnd", "486"]) {
        t_string!(i18n, agent_dial_why_busy)
    } else if has(&["603", "declined"]) {
        t_string!(i18n, agent_dial_why_declined)
    } else if has(&[
        "unreachable",
        "congestion",
        "404",
        "410",
        "408",
        "480",
        "484",
    ]) {
        t_string!(i18n, agent_dial_why_unreachable)
    } else {
        t_string!(i18n, agent_dial_why_other)
    };
    t_string!(
        i18n,
        agent_dial_failed,
        why = why,
        reason = reason.to_string()
    )
    .to_string()
}

/// A parameter of the page's address, as the browser has it (the island has no router).
fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}
