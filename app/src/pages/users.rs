//! The Zoho Desk Users section of the Helpdesk Integration page: refresh from Zoho (with a
//! live count), Auto Bind, and an Extension drop-down per user, saved together. Built for
//! orgs of thousands of agents: the table is paged and searchable, and a row's drop-down
//! holds every extension only once it is used.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

use crate::api::helpdesk::{auto_bind, refresh_users, save_bindings, users_refresh_progress};
use crate::components::{keep_typed, percent, poll_progress, Dialog, ProgressLine, UnsavedChanges};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    BindingChange, BindingProblem, Extension, RefreshProgress, UsersView, ZohoUser,
};

/// Rows per page of the users table.
const PAGE_ROWS: usize = 100;

/// The users resource; created by the page (resources are created outside `<Suspense>`).
pub type UsersResource = Resource<Result<UsersView, AppError>>;

/// Choices not saved yet: agent id → extension id (`None` = no extension).
type Pending = RwSignal<HashMap<String, Option<i64>>>;

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn ZohoUsers(users: UsersResource, connected: bool) -> impl IntoView {
    let i18n = use_i18n();
    let refresh = Action::new(|_: &()| refresh_users());
    let auto = Action::new(|_: &()| auto_bind());
    let confirm_auto = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let pending: Pending = RwSignal::new(HashMap::new());
    let save = Action::new(move |changes: &Vec<BindingChange>| {
        let changes = changes.clone();
        async move { save_bindings(changes).await }
    });

    // While a refresh runs, the server says how far it has got.
    let progress = poll_progress(refresh.pending().into(), users_refresh_progress);
    Effect::new(move |_| {
        if let Some(r) = refresh.value().get() {
            message.set(Some(match r {
                Ok(rep) => (
                    true,
                    t_string!(i18n, fetched_users, count = thousands(rep.fetched)).to_string(),
                ),
                Err(AppError::AuthExpired) => {
                    (false, t_string!(i18n, status_auth_expired).to_string())
                }
                Err(_) => (false, t_string!(i18n, fail_network).to_string()),
            }));
            users.refetch();
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
            users.refetch();
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
            users.refetch();
        }
    });
    // Leaving with unsaved choices asks first (see `Frame`).
    if let Some(UnsavedChanges(unsaved)) = use_context::<UnsavedChanges>() {
        Effect::new(move |_| unsaved.set(!pending.get().is_empty()));
        // The frame may be going away with this section (the page redrawn in another
        // language): then there is nothing left to tell.
        on_cleanup(move || {
            unsaved.try_set(false);
        });
    }

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
    let progress_text = move || match progress.get() {
        Some(RefreshProgress {
            fetched,
            total: Some(total),
        }) => t_string!(
            i18n,
            fetch_progress,
            fetched = thousands(fetched),
            total = thousands(total)
        )
        .to_string(),
        Some(RefreshProgress { fetched, .. }) => {
            t_string!(i18n, fetch_progress_open, fetched = thousands(fetched)).to_string()
        }
        None => t_string!(i18n, refreshing_users).to_string(),
    };
    let fraction = move || progress.get().and_then(|p| percent(p.fetched, p.total));

    view! {
        <section class="card" aria-labelledby="users-title">
            <div class="card-head">
                <h2 id="users-title">{t_string!(i18n, zoho_users)}</h2>
                <div class="head-actions">
                    <button type="button" disabled=move || !connected || refresh.pending().get()
                        on:click=move |_| { message.set(None); refresh.dispatch(()); }>
                        {move || if refresh.pending().get() { t_string!(i18n, refreshing_users) } else { t_string!(i18n, refresh_users) }}
                    </button>
                    <button type="button" disabled=move || !connected on:click=move |_| confirm_auto.set(true)>
                        {t_string!(i18n, auto_bind)}
                    </button>
                </div>
            </div>
            <p class="muted">{t_string!(i18n, zoho_users_hint)}</p>
            {(!connected).then(|| view! { <p class="note">{t_string!(i18n, users_need_connection)}</p> })}
            <Show when=move || refresh.pending().get()>
                <ProgressLine id="users-progress" text=Signal::derive(progress_text) fraction=Signal::derive(fraction)/>
            </Show>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note ok pre-line" } else { "form-error pre-line" } role="status">{text}</p>
            })}
            <Transition fallback=|| view! { <div class="skeleton-row"></div> }>
                {move || users.get().map(|r| match r {
                    Ok(v) => view! { <UsersTable v=v pending=pending/> }.into_any(),
                    Err(_) => view! { <p class="form-error">{t_string!(i18n, err_internal)}</p> }.into_any(),
                })}
            </Transition>
            <div class="actions">
                <Show when=move || !pending.get().is_empty()>
                    <span class="unsaved" role="status">{t_string!(i18n, unsaved_changes)}</span>
                    <button type="button" on:click=move |_| pending.set(HashMap::new())>{t_string!(i18n, discard_changes)}</button>
                </Show>
                <button type="button" class="primary" id="save-bindings"
                    disabled=move || pending.get().is_empty() || save.pending().get() on:click=on_save>
                    {t_string!(i18n, save_bindings)}
                </button>
            </div>
        </section>
        <Show when=move || confirm_auto.get()>
            <Dialog title_id="auto-title" on_close=move || confirm_auto.set(false)>
                <h2 id="auto-title">{t_string!(i18n, auto_bind)}</h2>
                <p>{t_string!(i18n, auto_bind_confirm)}</p>
                <div class="actions">
                    <button type="button" on:click=move |_| confirm_auto.set(false)>{t_string!(i18n, cancel)}</button>
                    <button type="button" class="primary" on:click=move |_| { confirm_auto.set(false); message.set(None); auto.dispatch(()); }>{t_string!(i18n, ok)}</button>
                </div>
            </Dialog>
        </Show>
    }
}

#[component]
fn UsersTable(v: UsersView, pending: Pending) -> impl IntoView {
    let i18n = use_i18n();
    if v.users.is_empty() {
        return view! { <p class="empty">{t_string!(i18n, users_empty)}</p> }.into_any();
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
        view! { <p class="note warn">{t_string!(i18n, vanished_users, names = names)}</p> }
    });
    let extensions: Arc<Vec<Extension>> = Arc::new(v.extensions);
    let users: Arc<Vec<ZohoUser>> = Arc::new(v.users);
    let search = RwSignal::new(String::new());
    keep_typed("user-search", search);
    let page = RwSignal::new(0usize);
    // Indexes of the users the search keeps.
    let matching = {
        let users = users.clone();
        Memo::new(move |_| {
            let q = search.get().trim().to_lowercase();
            users
                .iter()
                .enumerate()
                .filter(|(_, u)| {
                    q.is_empty()
                        || u.name.to_lowercase().contains(&q)
                        || u.email
                            .as_deref()
                            .is_some_and(|e| e.to_lowercase().contains(&q))
                })
                .map(|(i, _)| i)
                .collect::<Vec<usize>>()
        })
    };
    let pages = move || matching.with(|m: &Vec<usize>| m.len().div_ceil(PAGE_ROWS).max(1));
    let rows = {
        let users = users.clone();
        move || {
            let start = page.get() * PAGE_ROWS;
            matching.with(|m| {
                m.iter()
                    .skip(start)
                    .take(PAGE_ROWS)
                    .map(|&i| {
                        view! { <UserRow u=users[i].clone() extensions=extensions.clone() pending=pending/> }
                    })
                    .collect_view()
            })
        }
    };
    let range = move || {
        let n = matching.with(Vec::len);
        let first = (page.get() * PAGE_ROWS).min(n);
        let last = (first + PAGE_ROWS).min(n);
        t_string!(
            i18n,
            showing_rows,
            first = thousands(if n == 0 { 0 } else { first + 1 }),
            last = thousands(last),
            count = thousands(n)
        )
        .to_string()
    };
    view! {
        {vanished}
        <div class="table-tools">
            <div class="field">
                <label for="user-search">{t_string!(i18n, search_users)}</label>
                <input id="user-search" type="search" value=search.get_untracked() bind:value=search on:input=move |_| page.set(0)/>
            </div>
            <nav class="pager" aria-label=t_string!(i18n, zoho_users)>
                <span class="muted" aria-live="polite">{range}</span>
                <button type="button" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>{t_string!(i18n, previous_page)}</button>
                <button type="button" disabled=move || { page.get() + 1 >= pages() }
                    on:click=move |_| page.update(|p| *p += 1)>{t_string!(i18n, next_page)}</button>
            </nav>
        </div>
        <table class="card-table" aria-labelledby="users-title">
            <thead><tr>
                <th scope="col">{t_string!(i18n, user_name)}</th>
                <th scope="col">{t_string!(i18n, user_email)}</th>
                <th scope="col">{t_string!(i18n, user_status)}</th>
                <th scope="col">{t_string!(i18n, extension)}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <Show when=move || matching.with(Vec::is_empty)>
            <p class="empty">{t_string!(i18n, no_match)}</p>
        </Show>
    }
    .into_any()
}

/// One user. The drop-down starts with its current choice only and receives every extension
/// when it is first used (focus or pointer), so a page of 100 rows in an org of thousands of
/// extensions stays light.
#[component]
fn UserRow(u: ZohoUser, extensions: Arc<Vec<Extension>>, pending: Pending) -> impl IntoView {
    let i18n = use_i18n();
    let saved = u.extension_id;
    let id = u.agent_id.clone();
    let current = {
        let id = id.clone();
        Memo::new(move |_| pending.with(|p| p.get(&id).copied().unwrap_or(saved)))
    };
    let changed = {
        let id = id.clone();
        move || pending.with(|p| p.contains_key(&id))
    };
    let on_change = move |ev: leptos::ev::Event| {
        let val = event_target_value(&ev).parse::<i64>().ok();
        pending.update(|p| {
            if val == saved {
                p.remove(&id);
            } else {
                p.insert(id.clone(), val);
            }
        });
    };
    let expanded = RwSignal::new(false);
    let label = format!("{} {}", t_string!(i18n, extension), u.name);
    let options = move || {
        let chosen = current.get_untracked();
        let shown: Vec<&Extension> = if expanded.get() {
            extensions.iter().collect()
        } else {
            extensions.iter().filter(|e| Some(e.id) == chosen).collect()
        };
        shown
            .into_iter()
            .map(|e| {
                view! {
                    <option value=e.id.to_string() selected=Some(e.id) == chosen>
                        {format!("{} {}", e.number, e.name)}
                    </option>
                }
            })
            .collect_view()
    };
    let value = move || current.get().map(|i| i.to_string()).unwrap_or_default();
    view! {
        <tr class:changed=changed>
            <td>{u.name.clone()}</td>
            <td>{u.email.clone().unwrap_or_default()}</td>
            <td>{if u.active { t_string!(i18n, user_active) } else { t_string!(i18n, user_disabled) }}</td>
            <td>
                <select aria-label=label on:change=on_change prop:value=value
                    on:focus=move |_| expanded.set(true)
                    on:pointerdown=move |_| expanded.set(true)
                    disabled=!u.active && saved.is_none()>
                    <option value="" selected=saved.is_none()>{t_string!(i18n, no_extension)}</option>
                    {options}
                </select>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2000), "2,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
