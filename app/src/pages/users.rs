//! The Zoho Desk Users section of the Helpdesk Integration page: refresh from Zoho, Auto Bind,
//! and an Extension drop-down per user, saved together.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::helpdesk::{auto_bind, refresh_users, save_bindings, users};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{BindingChange, BindingProblem, UsersView};

#[component]
pub fn ZohoUsers(connected: bool) -> impl IntoView {
    let i18n = use_i18n();
    let view_res = Resource::new(|| (), |_| users());
    let refresh = Action::new(|_: &()| refresh_users());
    let auto = Action::new(|_: &()| auto_bind());
    let confirm_auto = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    // Choices not saved yet: agent id → extension id.
    let pending = RwSignal::new(HashMap::<String, Option<i64>>::new());
    let search = RwSignal::new(String::new());
    let save = Action::new(move |changes: &Vec<BindingChange>| {
        let changes = changes.clone();
        async move { save_bindings(changes).await }
    });

    Effect::new(move |_| {
        if let Some(r) = refresh.value().get() {
            message.set(Some(match r {
                Ok(rep) => (
                    true,
                    t_string!(i18n, fetched_users, count = rep.fetched).to_string(),
                ),
                Err(_) => (false, t_string!(i18n, fail_network).to_string()),
            }));
            view_res.refetch();
        }
    });
    Effect::new(move |_| {
        if let Some(r) = auto.value().get() {
            message.set(Some(match r {
                Ok(rep) => {
                    let mut text = t_string!(i18n, auto_bind_done, count = rep.bound).to_string();
                    if !rep.unmatched.is_empty() {
                        let shown: Vec<String> = rep.unmatched.iter().take(20).cloned().collect();
                        let more = rep.unmatched.len().saturating_sub(20);
                        let names = if more > 0 {
                            format!("{} (+{more})", shown.join(", "))
                        } else {
                            shown.join(", ")
                        };
                        text = format!(
                            "{text}\n{}",
                            t_string!(i18n, auto_bind_unmatched, names = names)
                        );
                    }
                    (true, text)
                }
                Err(_) => (false, t_string!(i18n, err_internal).to_string()),
            }));
            view_res.refetch();
        }
    });
    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
            message.set(Some(match r {
                Ok(()) => {
                    pending.set(HashMap::new());
                    (true, t_string!(i18n, bindings_saved).to_string())
                }
                Err(AppError::Binding(BindingProblem::ExtensionTaken {
                    extension,
                    other_agent,
                })) => (
                    false,
                    t_string!(
                        i18n,
                        err_extension_taken,
                        extension = extension,
                        agent = other_agent
                    )
                    .to_string(),
                ),
                Err(AppError::Binding(BindingProblem::AgentDisabled { agent })) => (
                    false,
                    t_string!(i18n, err_agent_disabled, agent = agent).to_string(),
                ),
                Err(_) => (false, t_string!(i18n, err_binding).to_string()),
            }));
            view_res.refetch();
        }
    });

    let on_save = move |_| {
        let changes: Vec<BindingChange> = pending
            .get_untracked()
            .into_iter()
            .map(|(agent_id, extension_id)| BindingChange {
                agent_id,
                extension_id,
            })
            .collect();
        save.dispatch(changes);
    };

    view! {
        <section class="card" aria-labelledby="users-title">
            <div class="card-head">
                <h2 id="users-title">{t!(i18n, zoho_users)}</h2>
                <div class="head-actions">
                    <button type="button" disabled=move || !connected || refresh.pending().get()
                        on:click=move |_| { message.set(None); refresh.dispatch(()); }>
                        {move || if refresh.pending().get() { t_string!(i18n, refreshing_users) } else { t_string!(i18n, refresh_users) }}
                    </button>
                    <button type="button" disabled=move || !connected on:click=move |_| confirm_auto.set(true)>
                        {t!(i18n, auto_bind)}
                    </button>
                </div>
            </div>
            <p class="muted">{t!(i18n, zoho_users_hint)}</p>
            {(!connected).then(|| view! { <p class="note">{t!(i18n, users_need_connection)}</p> })}
            <Show when=move || refresh.pending().get()>
                <div class="progress" role="progressbar" aria-busy="true" aria-label=move || t_string!(i18n, refreshing_users).to_string()><div></div></div>
            </Show>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note ok" } else { "form-error" } role="status" style="white-space: pre-line">{text}</p>
            })}
            <Transition fallback=|| view! { <div class="skeleton-row"></div> }>
                {move || view_res.get().map(|r| match r {
                    Ok(v) => view! { <UsersTable v=v pending=pending search=search/> }.into_any(),
                    Err(_) => view! { <p class="form-error">{t!(i18n, err_internal)}</p> }.into_any(),
                })}
            </Transition>
            <div class="actions">
                <Show when=move || !pending.get().is_empty()>
                    <span class="unsaved" role="status">{t!(i18n, unsaved_changes)}</span>
                </Show>
                <button type="button" class="primary" id="save-bindings"
                    disabled=move || pending.get().is_empty() || save.pending().get() on:click=on_save>
                    {t!(i18n, save_bindings)}
                </button>
            </div>
        </section>
        <Show when=move || confirm_auto.get()>
            <div class="backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="auto-title"
                    on:keydown=move |ev| if ev.key() == "Escape" { confirm_auto.set(false) }>
                    <h2 id="auto-title">{t!(i18n, auto_bind)}</h2>
                    <p>{t!(i18n, auto_bind_confirm)}</p>
                    <div class="actions">
                        <button type="button" on:click=move |_| confirm_auto.set(false)>{t!(i18n, cancel)}</button>
                        <button type="button" class="primary" on:click=move |_| { confirm_auto.set(false); message.set(None); auto.dispatch(()); }>{t!(i18n, ok)}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

#[component]
fn UsersTable(
    v: UsersView,
    pending: RwSignal<HashMap<String, Option<i64>>>,
    search: RwSignal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    if v.users.is_empty() {
        return view! { <p class="empty">{t!(i18n, users_empty)}</p> }.into_any();
    }
    let vanished = (!v.vanished.is_empty()).then(|| {
        let names = v
            .vanished
            .iter()
            .map(|(n, e)| match e {
                Some(e) => format!("{n} ({e})"),
                None => n.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        view! { <p class="note warn">{t!(i18n, vanished_users, names = names)}</p> }
    });
    let extensions = v.extensions.clone();
    let users = v.users.clone();
    let rows = move || {
        let q = search.get().trim().to_lowercase();
        users
            .iter()
            .filter(|u| {
                q.is_empty()
                    || u.name.to_lowercase().contains(&q)
                    || u.email.as_deref().is_some_and(|e| e.to_lowercase().contains(&q))
            })
            .take(200)
            .map(|u| {
                let exts = extensions.clone();
                let id = u.agent_id.clone();
                let id2 = id.clone();
                let saved = u.extension_id;
                let current = Memo::new(move |_| pending.get().get(&id).copied().unwrap_or(saved));
                let changed = {
                    let id = u.agent_id.clone();
                    move || pending.get().contains_key(&id)
                };
                let on_change = move |ev: leptos::ev::Event| {
                    let val = event_target_value(&ev).parse::<i64>().ok();
                    pending.update(|p| {
                        if val == saved {
                            p.remove(&id2);
                        } else {
                            p.insert(id2.clone(), val);
                        }
                    });
                };
                let label = format!("{} {}", t_string!(i18n, extension), u.name);
                view! {
                    <tr class:changed=changed>
                        <td>{u.name.clone()}</td>
                        <td>{u.email.clone().unwrap_or_default()}</td>
                        <td>{if u.active { t_string!(i18n, user_active) } else { t_string!(i18n, user_disabled) }}</td>
                        <td>
                            <select aria-label=label on:change=on_change disabled=!u.active && saved.is_none()>
                                <option value="" selected=move || current.get().is_none()>{t!(i18n, no_extension)}</option>
                                {exts.into_iter().map(|e| {
                                    let eid = e.id;
                                    view! { <option value=e.id.to_string() selected=move || current.get() == Some(eid)>{format!("{} {}", e.number, e.name)}</option> }
                                }).collect_view()}
                            </select>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        {vanished}
        <div class="field">
            <label for="user-search">{t!(i18n, search_users)}</label>
            <input id="user-search" type="text" bind:value=search/>
        </div>
        <table class="card-table" aria-labelledby="users-title">
            <thead><tr>
                <th scope="col">{t!(i18n, user_name)}</th>
                <th scope="col">{t!(i18n, user_email)}</th>
                <th scope="col">{t!(i18n, user_status)}</th>
                <th scope="col">{t!(i18n, extension)}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
