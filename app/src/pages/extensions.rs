//! `/pbx/extensions`: list, add, edit, delete and import PBX extensions.
//!
//! A plain page (no WASM): every action is an HTML form the server answers with this page
//! again (`api::ssr::answer_plain_form`). A row's edit form, password dialog and delete
//! confirmation are views of the page (`?edit=`, `?password=`, `?delete=` with the row's id);
//! a refused form comes back with what was typed and why. The phones' states refresh by
//! themselves (`data-live`, the plain pages' script).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use std::collections::HashMap;

use crate::api::pbx::{extension_phones, list_extensions};
use crate::api::pbx::{
    CreateExtension, DeleteExtension, ImportExtensions, SetWebPassword, UpdateExtension,
};
use crate::api::take_flash;
use crate::components::{CancelButton, Frame, PlainDialog, ViewButton};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{Extension, Flash, PhoneStatus};
use crate::pages::helpdesk::{error_in, problem_text};
use leptos::server_fn::ServerFn;

const PAGE: &str = "/pbx/extensions";

/// How often the phones' states are drawn again (ms).
const PHONES_EVERY_MS: u32 = 2000;

#[component]
pub fn ExtensionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let view_of =
        move |name: &str| query.with_untracked(|q| q.get(name).and_then(|v| v.parse::<i64>().ok()));
    let views = RowViews {
        edit: view_of("edit"),
        password: view_of("password"),
        delete: view_of("delete"),
    };
    let page = Suspend::new(async move {
        let list = list_extensions().await;
        let phones = extension_phones().await.ok().flatten();
        let flash = take_flash().await;
        let table = match list {
            Ok(items) => {
                view! { <ExtensionTable items phones views flash=flash.clone()/> }.into_any()
            }
            Err(_) => {
                view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }
                    .into_any()
            }
        };
        view! {
            {table}
            <AddExtension flash=Flash::of(&flash, "add")/>
            <ImportExtensions flash=Flash::of(&flash, "import")/>
        }
    });
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, extensions_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, extensions_intro)}</p>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
    }
}

/// Which row, if any, shows its edit form, its password dialog or its delete confirmation.
#[derive(Clone, Copy, Default)]
struct RowViews {
    edit: Option<i64>,
    password: Option<i64>,
    delete: Option<i64>,
}

/// The phone's state beside its number: ringing, on a call, idle. Drawn again every two
/// seconds by the page's script (`data-live`).
#[component]
fn PhoneBadge(number: String, status: Option<PhoneStatus>) -> impl IntoView {
    let i18n = use_i18n();
    let (class, words, state) = match status {
        Some(PhoneStatus::Idle) => ("phone-state idle", t_string!(i18n, phone_idle), "Idle"),
        Some(PhoneStatus::Ringing) => (
            "phone-state ringing",
            t_string!(i18n, phone_ringing),
            "Ringing",
        ),
        Some(PhoneStatus::Busy) => ("phone-state busy", t_string!(i18n, phone_busy), "Busy"),
        None => ("phone-state", "", ""),
    };
    view! {
        <span class=class id=format!("phone-{number}") data-live=PHONES_EVERY_MS
            data-phone=(!state.is_empty()).then_some(state)>{words}</span>
    }
}

#[component]
fn ExtensionTable(
    items: Vec<Extension>,
    phones: Option<HashMap<String, PhoneStatus>>,
    views: RowViews,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    if items.is_empty() {
        return view! { <p class="empty card">{t_string!(i18n, extensions_empty)}</p> }.into_any();
    }
    let password_for = views
        .password
        .and_then(|id| items.iter().find(|e| e.id == id).cloned());
    let to_delete = views
        .delete
        .and_then(|id| items.iter().find(|e| e.id == id).cloned());
    let rows = items
        .into_iter()
        .map(|e| {
            let editing = views.edit == Some(e.id);
            let flash = Flash::of(&flash, &format!("edit-{}", e.id));
            // With a PBX connected, each phone's state as the PBX reports it (30008).
            let phone = phones.as_ref().map(|p| p.get(&e.number).copied());
            view! { <ExtensionRow ext=e editing phone flash/> }
        })
        .collect_view();
    view! {
        <table class="table card-table" aria-label=t_string!(i18n, extensions_title)>
            <thead><tr>
                <th scope="col">{t_string!(i18n, extension_number)}</th>
                <th scope="col">{t_string!(i18n, extension_name)}</th>
                <th scope="col">{t_string!(i18n, extension_email)}</th>
                <th scope="col">{t_string!(i18n, web_client_password)}</th>
                <th scope="col">{t_string!(i18n, actions)}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {password_for.map(|e| {
            let flash = Flash::of(&flash, &format!("password-{}", e.id));
            view! { <PasswordDialog ext=e flash/> }
        })}
        {to_delete.map(|e| {
            let failed = Flash::of(&flash, &format!("delete-{}", e.id)).is_some();
            view! {
                <PlainDialog title_id="confirm-title">
                    <h2 id="confirm-title">{t_string!(i18n, delete_extension_confirm, number = e.number.clone(), name = e.name.clone())}</h2>
                    {failed.then(|| view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> })}
                    <div class="actions">
                        <CancelButton page=PAGE label=t_string!(i18n, cancel).to_string()/>
                        <form method="post" action=DeleteExtension::url() class="row-view">
                            <input type="hidden" name="id" value=e.id/>
                            <button type="submit" class="primary danger" autofocus>{t_string!(i18n, ok)}</button>
                        </form>
                    </div>
                </PlainDialog>
            }
        })}
    }
    .into_any()
}

#[component]
fn ExtensionRow(
    ext: Extension,
    editing: bool,
    phone: Option<Option<PhoneStatus>>,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    let e = ext;
    if editing {
        let form = format!("edit-{}", e.id);
        let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
        let typed = |field: &str, saved: String| match &flash {
            Some(f) => f.typed(field),
            None => saved,
        };
        let number = typed("input[number]", e.number.clone());
        let name = typed("input[name]", e.name.clone());
        let email = typed("input[email]", e.email.clone().unwrap_or_default());
        return view! {
            <tr>
                <td>
                    <input type="text" inputmode="numeric" name="input[number]" form=form.clone() value=number
                        aria-label=t_string!(i18n, extension_number)/>
                    <p class="field-error">{error_in(&errors, "number", i18n)}</p>
                </td>
                <td>
                    <input type="text" name="input[name]" form=form.clone() value=name autofocus
                        aria-label=t_string!(i18n, extension_name)/>
                    <p class="field-error">{error_in(&errors, "name", i18n)}</p>
                </td>
                <td>
                    <input type="email" name="input[email]" form=form.clone() value=email
                        aria-label=t_string!(i18n, extension_email)/>
                    <p class="field-error">{error_in(&errors, "email", i18n)}</p>
                </td>
                <td></td>
                <td class="row-actions">
                    <form id=form method="post" action=UpdateExtension::url() novalidate class="row-view">
                        <input type="hidden" name="id" value=e.id/>
                        <button type="submit" class="primary" data-row=e.number.clone()>{t_string!(i18n, save)}</button>
                    </form>
                    <CancelButton page=PAGE label=t_string!(i18n, cancel_edit).to_string()/>
                </td>
            </tr>
        }
        .into_any();
    }
    let password_label = format!("{} {}", t_string!(i18n, web_client_password), e.number);
    let edit_label = format!("{} {}", t_string!(i18n, edit), e.number);
    let delete_label = format!("{} {}", t_string!(i18n, delete), e.number);
    view! {
        <tr>
            <td>
                <span class="mono">{e.number.clone()}</span>" "
                {phone.map(|status| view! { <PhoneBadge number=e.number.clone() status/> })}
            </td>
            <td>{e.name.clone()}</td>
            <td>{e.email.clone().unwrap_or_default()}</td>
            <td>
                <span class=if e.web_password_set { "pw-set" } else { "muted" }>
                    {if e.web_password_set { t_string!(i18n, web_password_set) } else { t_string!(i18n, web_password_none) }}
                </span>" "
                <ViewButton page=PAGE view="password" id=e.id label=password_label class="link-button inline">
                    {if e.web_password_set { t_string!(i18n, change) } else { t_string!(i18n, set_password) }}
                </ViewButton>
            </td>
            <td class="row-actions">
                <ViewButton page=PAGE view="edit" id=e.id label=edit_label>{t_string!(i18n, edit)}</ViewButton>
                <ViewButton page=PAGE view="delete" id=e.id label=delete_label class="danger">{t_string!(i18n, delete)}</ViewButton>
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn AddExtension(flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
    let typed = |field: &str| flash.as_ref().map(|f| f.typed(field)).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="add-title">
            <h2 id="add-title">{t_string!(i18n, add_extension)}</h2>
            <form method="post" action=CreateExtension::url() novalidate class="inline-form">
                <div class="field">
                    <label for="new-number">{t_string!(i18n, extension_number)}</label>
                    <input id="new-number" name="input[number]" type="text" inputmode="numeric" value=typed("input[number]")/>
                    <p class="field-error">{error_in(&errors, "number", i18n)}</p>
                </div>
                <div class="field">
                    <label for="new-name">{t_string!(i18n, extension_name)}</label>
                    <input id="new-name" name="input[name]" type="text" value=typed("input[name]")/>
                    <p class="field-error">{error_in(&errors, "name", i18n)}</p>
                </div>
                <div class="field">
                    <label for="new-email">{t_string!(i18n, extension_email)}</label>
                    <input id="new-email" name="input[email]" type="email" value=typed("input[email]")/>
                    <p class="field-error">{error_in(&errors, "email", i18n)}</p>
                </div>
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, add_extension)}</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn ImportExtensions(flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let message = flash.as_ref().and_then(|f| match (&f.done, &f.error) {
        (Some(n), _) => Some((
            true,
            t_string!(i18n, imported, count = n.clone()).to_string(),
        )),
        (None, Some(AppError::BadImport)) => {
            Some((false, t_string!(i18n, import_not_json).to_string()))
        }
        (None, Some(AppError::Invalid(list))) => Some((
            false,
            list.iter()
                .map(|e| {
                    let (row, field) = e.field.split_once('.').unwrap_or(("?", e.field.as_str()));
                    t_string!(
                        i18n,
                        import_row_error,
                        row = row.to_string(),
                        field = field.to_string(),
                        msg = problem_text(i18n, e.problem)
                    )
                    .to_string()
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        (None, Some(_)) => Some((false, t_string!(i18n, err_internal).to_string())),
        (None, None) => None,
    });
    // A refused import comes back as it was typed, to be mended.
    let json = flash.as_ref().map(|f| f.typed("json")).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">{t_string!(i18n, import_title)}</h2>
            <p class="muted">{t_string!(i18n, import_hint)}</p>
            <form method="post" action=ImportExtensions::url()>
                <div class="field wide">
                    <label for="import-json">{t_string!(i18n, import_json)}</label>
                    <textarea id="import-json" name="json" rows="5">{json}</textarea>
                </div>
                {message.map(|(ok, text)| view! {
                    <p class=if ok { "note ok pre-line" } else { "form-error pre-line" } role="status">{text}</p>
                })}
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, import)}</button>
                </div>
            </form>
        </section>
    }
}

/// Sets, replaces or removes an extension's web-client password (the agent client's sign-in).
#[component]
fn PasswordDialog(ext: Extension, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
    let error = error_in(&errors, "web_password", i18n);
    let other_error = flash
        .as_ref()
        .filter(|f| !matches!(f.error, Some(AppError::Invalid(_))))
        .map(|_| t_string!(i18n, err_internal));
    view! {
        <PlainDialog title_id="pw-title">
            <form id="password-form" method="post" action=SetWebPassword::url() novalidate>
                <h2 id="pw-title">{t_string!(i18n, web_password_title, number = ext.number.clone(), name = ext.name.clone())}</h2>
                <p class="muted">{t_string!(i18n, web_password_hint)}</p>
                <input type="hidden" name="id" value=ext.id/>
                <div class="field">
                    <label for="web-password">{t_string!(i18n, web_client_password)}</label>
                    <input id="web-password" name="password" type="password" autocomplete="new-password"
                        minlength="8" maxlength="128" autofocus
                        aria-invalid=error.is_some().to_string()/>
                    <p class="field-error">{error}</p>
                </div>
                {other_error.map(|t| view! { <p class="form-error" role="alert">{t}</p> })}
            </form>
            // Removing is setting an empty password: its own form, so no typed text goes with it.
            {ext.web_password_set.then(|| view! {
                <form id="remove-password" method="post" action=SetWebPassword::url() hidden>
                    <input type="hidden" name="id" value=ext.id/>
                    <input type="hidden" name="password" value=""/>
                </form>
            })}
            <div class="actions">
                {ext.web_password_set.then(|| view! {
                    <button type="submit" class="danger" form="remove-password">{t_string!(i18n, remove_password)}</button>
                })}
                <CancelButton page=PAGE label=t_string!(i18n, cancel).to_string()/>
                <button type="submit" class="primary" form="password-form">{t_string!(i18n, save)}</button>
            </div>
        </PlainDialog>
    }
}
