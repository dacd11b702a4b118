//! The Zoho Desk Users section of the Helpdesk Integration page: refresh from Zoho (with a
//! live count), Auto Bind, and an Extension drop-down per user, saved together. Built for
//! orgs of thousands of agents: the table is searched and paged by the server (`?q=&page=`),
//! and in a large org a row's drop-down holds its own choice until it is used, then every
//! extension, from one list in the page (the plain pages' script, `data-options`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::helpdesk::{AutoBind, RefreshUsers, SaveBindingsForm, BINDINGS_TYPED};
use crate::components::{percent, CancelButton, PlainDialog, ViewButton};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    AutoBindReport, BindingProblem, BindingRow, Extension, Flash, RefreshFailure, RefreshProgress,
    RefreshReport, UsersView, ZohoUser,
};
use crate::pages::helpdesk::HELPDESK;

/// Rows per page of the users table.
const PAGE_ROWS: usize = 100;

/// Up to this many options in the page's drop-downs, each row holds every extension (and
/// works with no script); beyond it, one list for all, offered by the script.
const INLINE_OPTIONS: usize = 5_000;

/// How often a running refresh is drawn again (ms).
const REFRESH_EVERY_MS: u32 = 500;

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

/// The section's views in the page's address: the search, the page (from 1), the Auto Bind
/// confirmation.
#[derive(Clone, Debug, Default)]
pub struct UsersQuery {
    pub search: String,
    pub page: usize,
    pub auto_bind: bool,
}

impl UsersQuery {
    /// The query a form of the section keeps (the search and the page).
    fn kept(&self) -> Vec<(&'static str, String)> {
        let mut k = vec![];
        if !self.search.is_empty() {
            k.push(("q", self.search.clone()));
        }
        if self.page > 1 {
            k.push(("page", self.page.to_string()));
        }
        k
    }
}

/// What the section says: the last refresh, Auto Bind, or the bindings' save.
fn message(
    i18n: I18nContext,
    flash: &Option<Flash>,
    last: &Option<Result<RefreshReport, RefreshFailure>>,
    running: bool,
) -> Option<(bool, String)> {
    if let Some(f) = Flash::of(flash, "auto_bind") {
        let report = f
            .done
            .as_deref()
            .and_then(|d| serde_json::from_str::<AutoBindReport>(d).ok());
        return Some(match report {
            Some(rep) => {
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
            None => (false, t_string!(i18n, err_internal).to_string()),
        });
    }
    if let Some(f) = Flash::of(flash, "bindings") {
        return Some(match f.error {
            None => (true, t_string!(i18n, bindings_saved).to_string()),
            Some(AppError::Binding(BindingProblem::ExtensionTaken {
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
            Some(AppError::Binding(BindingProblem::AgentDisabled { agent })) => (
                false,
                t_string!(i18n, err_agent_disabled, agent = agent).to_string(),
            ),
            Some(_) => (false, t_string!(i18n, err_binding).to_string()),
        });
    }
    if running {
        return None;
    }
    last.as_ref().map(|r| match r {
        Ok(rep) => (
            true,
            t_string!(i18n, fetched_users, count = thousands(rep.fetched)).to_string(),
        ),
        Err(RefreshFailure::AuthExpired) => {
            (false, t_string!(i18n, status_auth_expired).to_string())
        }
        Err(RefreshFailure::NotConnected) => {
            (false, t_string!(i18n, users_need_connection).to_string())
        }
        Err(RefreshFailure::Failed) => (false, t_string!(i18n, fail_network).to_string()),
    })
}

/// The section. Drawn again by the server every half second while a refresh runs (and from
/// the moment this tab's Refresh is sent), since the refresh changes all of it.
#[component]
pub fn ZohoUsers(
    users: Result<UsersView, AppError>,
    progress: Option<RefreshProgress>,
    last_refresh: Option<Result<RefreshReport, RefreshFailure>>,
    query: UsersQuery,
    connected: bool,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    let running = progress.is_some();
    let said = message(i18n, &flash, &last_refresh, running);
    let line = progress.map(|p| {
        let text = match p.total {
            Some(total) => t_string!(
                i18n,
                fetch_progress,
                fetched = thousands(p.fetched),
                total = thousands(total)
            )
            .to_string(),
            None => t_string!(i18n, fetch_progress_open, fetched = thousands(p.fetched))
                .to_string(),
        };
        let fraction = percent(p.fetched, p.total);
        // A `<progress>`: its bar needs no inline style (the page's CSP allows none).
        view! {
            <div id="users-progress" class="fetching" role="status">
                <progress class="plain-progress" max="100" value=fraction aria-label=text.clone()></progress>
                <span class="progress-text">{text}</span>
            </div>
        }
    });
    // A refused save comes back with the rows as they were chosen.
    let refused: Option<Vec<BindingRow>> = Flash::of(&flash, "bindings")
        .filter(|f| f.error.is_some())
        .and_then(|f| serde_json::from_str(&f.typed(BINDINGS_TYPED)).ok());
    let kept = query.kept();
    let table = match users {
        Ok(v) => view! { <UsersTable v query=query.clone() refused=refused.clone()/> }.into_any(),
        Err(_) => view! { <p class="form-error">{t_string!(i18n, err_internal)}</p> }.into_any(),
    };
    let changed = refused.is_some();
    view! {
        <section class="card" id="users" aria-labelledby="users-title" data-live=running.then_some(REFRESH_EVERY_MS)>
            <div class="card-head">
                <h2 id="users-title">{t_string!(i18n, zoho_users)}</h2>
                <div class="head-actions">
                    <form method="post" action=RefreshUsers::url() class="row-view" data-live-while="users">
                        <button type="submit" disabled=!connected || running>
                            {if running { t_string!(i18n, refreshing_users) } else { t_string!(i18n, refresh_users) }}
                        </button>
                    </form>
                    <ViewButton page=HELPDESK keep=kept.clone() view="auto_bind" id=1 disabled=!connected
                        label=t_string!(i18n, auto_bind).to_string()>
                        {t_string!(i18n, auto_bind)}
                    </ViewButton>
                </div>
            </div>
            <p class="muted">{t_string!(i18n, zoho_users_hint)}</p>
            {(!connected).then(|| view! { <p class="note">{t_string!(i18n, users_need_connection)}</p> })}
            {line}
            {said.map(|(ok, text)| view! {
                <p class=if ok { "note ok pre-line" } else { "form-error pre-line" } role="status">{text}</p>
            })}
            {table}
            <div class="actions">
                <span data-unsaved-note="" hidden=!changed>
                    <span class="unsaved" role="status">{t_string!(i18n, unsaved_changes)}</span>
                    " "
                    <form method="get" action=HELPDESK class="row-view" data-discard="">
                        {kept.iter().map(|(k, v)| view! { <input type="hidden" name=*k value=v.clone()/> }).collect_view()}
                        <button type="submit">{t_string!(i18n, discard_changes)}</button>
                    </form>
                </span>
                <button type="submit" form="bindings-form" class="primary" id="save-bindings">
                    {t_string!(i18n, save_bindings)}
                </button>
            </div>
        </section>
        {query.auto_bind.then(|| view! {
            <PlainDialog title_id="auto-title">
                <h2 id="auto-title">{t_string!(i18n, auto_bind)}</h2>
                <p>{t_string!(i18n, auto_bind_confirm)}</p>
                <div class="actions">
                    <CancelButton page=HELPDESK keep=kept.clone() label=t_string!(i18n, cancel).to_string()/>
                    <form method="post" action=AutoBind::url() class="row-view">
                        <button type="submit" class="primary" autofocus>{t_string!(i18n, ok)}</button>
                    </form>
                </div>
            </PlainDialog>
        })}
    }
}

/// The users the search keeps, one page of them, in the bindings form.
#[component]
fn UsersTable(v: UsersView, query: UsersQuery, refused: Option<Vec<BindingRow>>) -> impl IntoView {
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
    let q = query.search.trim().to_lowercase();
    let matching: Vec<&ZohoUser> = v
        .users
        .iter()
        .filter(|u| {
            q.is_empty()
                || u.name.to_lowercase().contains(&q)
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&q))
        })
        .collect();
    let n = matching.len();
    let pages = n.div_ceil(PAGE_ROWS).max(1);
    let page = query.page.min(pages);
    let first = (page - 1) * PAGE_ROWS;
    let shown: Vec<&ZohoUser> = matching
        .iter()
        .skip(first)
        .take(PAGE_ROWS)
        .copied()
        .collect();
    let range = t_string!(
        i18n,
        showing_rows,
        first = thousands(if n == 0 { 0 } else { first + 1 }),
        last = thousands((first + PAGE_ROWS).min(n)),
        count = thousands(n)
    )
    .to_string();
    // Every extension in each row while that stays small; else one list, offered on use.
    let inline = v.extensions.len() * shown.len() <= INLINE_OPTIONS;
    let extensions = std::sync::Arc::new(v.extensions);
    let template = (!inline).then(|| {
        let options = extensions
            .iter()
            .map(|e| view! { <option value=e.id.to_string()>{format!("{} {}", e.number, e.name)}</option> })
            .collect_view();
        view! { <template id="ext-options">{options}</template> }
    });
    let (at_first, at_last) = (page <= 1, page >= pages);
    let to_page = |p: usize| {
        let mut k = vec![];
        if !query.search.is_empty() {
            k.push(("q", query.search.clone()));
        }
        k.push(("page", p.to_string()));
        k
    };
    let rows = shown
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            let chosen = refused
                .as_ref()
                .and_then(|rows| rows.iter().find(|r| r.agent_id == u.agent_id))
                .map(|r| r.extension_id.trim().parse::<i64>().ok());
            view! { <UserRow i u=u.clone() extensions=extensions.clone() inline chosen/> }
        })
        .collect_view();
    view! {
        {vanished}
        {template}
        <div class="table-tools">
            <form method="get" action=HELPDESK class="field" role="search" data-autosubmit="">
                <label for="user-search">{t_string!(i18n, search_users)}</label>
                <input id="user-search" name="q" type="search" value=query.search.clone()/>
            </form>
            <nav class="pager" aria-label=t_string!(i18n, zoho_users)>
                <span class="muted" aria-live="polite">{range}</span>
                <PageButton keep=to_page(page.saturating_sub(1).max(1)) disabled=at_first
                    label=t_string!(i18n, previous_page).to_string()/>
                <PageButton keep=to_page(page + 1) disabled=at_last
                    label=t_string!(i18n, next_page).to_string()/>
            </nav>
        </div>
        <form id="bindings-form" method="post" action=SaveBindingsForm::url() data-unsaved=t_string!(i18n, unsaved_leave)>
            <table class="card-table" aria-labelledby="users-title">
                <thead><tr>
                    <th scope="col">{t_string!(i18n, user_name)}</th>
                    <th scope="col">{t_string!(i18n, user_email)}</th>
                    <th scope="col">{t_string!(i18n, user_status)}</th>
                    <th scope="col">{t_string!(i18n, extension)}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </form>
        {(n == 0).then(|| view! { <p class="empty">{t_string!(i18n, no_match)}</p> })}
    }
    .into_any()
}

/// A pager's button: a GET form to another page of the users.
#[component]
fn PageButton(keep: Vec<(&'static str, String)>, disabled: bool, label: String) -> impl IntoView {
    view! {
        <form method="get" action=HELPDESK class="row-view">
            {keep.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <button type="submit" disabled=disabled>{label}</button>
        </form>
    }
}

/// One user's row: its agent, and its drop-down (`rows[i][…]`). `chosen` is a refused save's
/// choice for it, drawn instead of what is saved.
#[component]
fn UserRow(
    i: usize,
    u: ZohoUser,
    extensions: std::sync::Arc<Vec<Extension>>,
    inline: bool,
    chosen: Option<Option<i64>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let saved = u.extension_id;
    let current = chosen.unwrap_or(saved);
    let changed = chosen.is_some_and(|c| c != saved);
    let label = format!("{} {}", t_string!(i18n, extension), u.name);
    let options = extensions
        .iter()
        .filter(|e| inline || Some(e.id) == current)
        .map(|e| {
            view! {
                <option value=e.id.to_string() selected=Some(e.id) == current>
                    {format!("{} {}", e.number, e.name)}
                </option>
            }
        })
        .collect_view();
    view! {
        <tr class:changed=changed>
            <td>{u.name.clone()}</td>
            <td>{u.email.clone().unwrap_or_default()}</td>
            <td>{if u.active { t_string!(i18n, user_active) } else { t_string!(i18n, user_disabled) }}</td>
            <td>
                <input type="hidden" name=format!("rows[{i}][agent_id]") value=u.agent_id.clone()/>
                <select name=format!("rows[{i}][extension_id]") aria-label=label
                    data-options=(!inline).then_some("ext-options")
                    disabled=!u.active && saved.is_none()>
                    <option value="" selected=current.is_none()>{t_string!(i18n, no_extension)}</option>
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
