//! `/pbx/contacts`: the PBX's company contacts groups and their contacts. The group bound to
//! Zoho Desk carries the Helpdesk tag and is shown read-only (the server refuses edits too).
//! The selected group is in the address (`?group=ID`), so a reload keeps it.
//!
//! A plain page (no WASM): every action is an HTML form the server answers with this page
//! again (`api::ssr::answer_plain_form`). Renaming a group, editing a contact and the delete
//! confirmations are views of the page (`?rename=`, `?edit=`, `?delete_group=`, `?delete=`);
//! a refused form comes back with what was typed and why, and a refusal that is not about a
//! field is said in a notice.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::contacts::{list_contact_groups, list_phonebook_contacts};
use crate::api::contacts::{
    CreateContactGroup, CreatePhonebookContact, DeleteContactGroup, DeletePhonebookContact,
    RenameContactGroup, UpdatePhonebookContact,
};
use crate::api::take_flash;
use crate::components::{CancelButton, Frame, PlainDialog, ViewButton};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{ContactGroup, FieldError, FieldProblem, Flash, PhonebookContact};
use crate::pages::helpdesk::problem_text;

type I18n = I18nContext;

const PAGE: &str = "/pbx/contacts";

/// A field's message: the phonebook's own words where the shared ones would mislead.
fn problem(i18n: I18n, field: &str, p: FieldProblem) -> String {
    match (field, p) {
        ("name", FieldProblem::Duplicate) => t_string!(i18n, field_duplicate_group).to_string(),
        ("phones", FieldProblem::Required) => t_string!(i18n, field_phone_required).to_string(),
        (_, FieldProblem::NotPhoneNumber) => t_string!(i18n, field_contact_phone).to_string(),
        (_, p) => problem_text(i18n, p),
    }
}

/// A refusal that is not about one field.
fn refusal(i18n: I18n, e: &AppError) -> String {
    match e {
        AppError::ReadOnly(_) => t_string!(i18n, err_group_read_only).to_string(),
        AppError::NotFound => t_string!(i18n, err_phonebook_gone).to_string(),
        AppError::GroupNotEmpty { group, contacts } => t_string!(
            i18n,
            err_group_not_empty,
            group = group.clone(),
            count = *contacts
        )
        .to_string(),
        AppError::ServerFn(_) => t_string!(i18n, err_network).to_string(),
        _ => t_string!(i18n, err_internal).to_string(),
    }
}

/// `field`'s error among `list`, in the phonebook's words.
fn error_in(list: &[FieldError], field: &str, i18n: I18n) -> Option<String> {
    list.iter()
        .find(|e| e.field == field)
        .map(|e| problem(i18n, &e.field, e.problem))
}

fn display_name(c: &PhonebookContact) -> String {
    match &c.first_name {
        Some(f) => format!("{f} {}", c.last_name),
        None => c.last_name.clone(),
    }
}

/// The page's views, from its address.
#[derive(Clone, Copy, Default)]
struct Views {
    group: Option<i64>,
    rename: Option<i64>,
    delete_group: Option<i64>,
    edit: Option<i64>,
    delete: Option<i64>,
}

impl Views {
    /// The query that keeps the selected group (what a Cancel goes back to).
    fn keep(&self) -> Vec<(&'static str, String)> {
        self.group
            .map(|g| ("group", g.to_string()))
            .into_iter()
            .collect()
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let id_of =
        move |name: &str| query.with_untracked(|q| q.get(name).and_then(|v| v.parse::<i64>().ok()));
    let views = Views {
        group: id_of("group"),
        rename: id_of("rename"),
        delete_group: id_of("delete_group"),
        edit: id_of("edit"),
        delete: id_of("delete"),
    };
    let page = Suspend::new(async move {
        let flash = take_flash().await;
        let groups = list_contact_groups().await;
        let contacts = match views.group {
            Some(id) => Some(list_phonebook_contacts(id).await),
            None => None,
        };
        // A refusal that is not about a field, whichever form it came from.
        let notice = flash
            .as_ref()
            .and_then(|f| f.error.clone())
            .filter(|e| !matches!(e, AppError::Invalid(_)));
        let groups = match groups {
            Ok(list) => list,
            Err(_) => {
                return view! {
                    <section class="card">
                        <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p>
                        <form method="get" class="row-view">
                            {views.keep().into_iter().map(|(n, v)| view! { <input type="hidden" name=n value=v/> }).collect_view()}
                            <button type="submit">{t_string!(i18n, retry)}</button>
                        </form>
                    </section>
                }
                .into_any();
            }
        };
        let group = views
            .group
            .and_then(|id| groups.iter().find(|g| g.id == id).cloned());
        let contacts_part = match (group, contacts) {
            (Some(g), Some(Ok(list))) => {
                view! { <GroupContacts group=g contacts=list views flash=flash.clone()/> }
                    .into_any()
            }
            (None, Some(_)) | (_, Some(Err(AppError::NotFound))) => view! {
                <p class="note warn" role="status">{t_string!(i18n, err_phonebook_gone)}</p>
            }
            .into_any(),
            (_, None) => {
                view! { <p class="muted">{t_string!(i18n, select_group_hint)}</p> }.into_any()
            }
            (_, Some(Err(_))) => view! {
                <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p>
            }
            .into_any(),
        };
        view! {
            <GroupTable groups views flash=flash.clone()/>
            <CreateGroup flash=Flash::of(&flash, "create-group")/>
            {contacts_part}
            {notice.map(|e| view! {
                <div class="toast bad" role="alert">
                    <span>{refusal(i18n, &e)}</span>
                    <CancelButton page=PAGE keep=views.keep() label="×".to_string()/>
                </div>
            })}
        }
        .into_any()
    });
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, contacts_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, contacts_intro)}</p>
            <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>{page}</Suspense>
        </Frame>
    }
}

/// Asks before something is deleted: Cancel and OK (a form posting `id` to `action`).
#[component]
fn ConfirmDelete(message: String, action: &'static str, id: i64, views: Views) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PlainDialog title_id="confirm-title">
            <h2 id="confirm-title">{message}</h2>
            <div class="actions">
                <CancelButton page=PAGE keep=views.keep() label=t_string!(i18n, cancel).to_string()/>
                <form method="post" action=action class="row-view">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="primary danger" autofocus>{t_string!(i18n, ok)}</button>
                </form>
            </div>
        </PlainDialog>
    }
}

#[component]
fn HelpdeskTag() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class="tag-helpdesk" title=t_string!(i18n, helpdesk_tag_hint)>
            {t_string!(i18n, helpdesk_tag)}
        </span>
    }
}

#[component]
fn GroupTable(groups: Vec<ContactGroup>, views: Views, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    if groups.is_empty() {
        return view! { <p class="empty card">{t_string!(i18n, groups_empty)}</p> }.into_any();
    }
    let to_delete = views
        .delete_group
        .and_then(|id| groups.iter().find(|g| g.id == id).cloned());
    view! {
        <table class="table card-table groups-table" aria-label=t_string!(i18n, contact_groups)>
            <thead><tr>
                <th scope="col">{t_string!(i18n, group_name_column)}</th>
                <th scope="col" class="num">{t_string!(i18n, group_contacts)}</th>
                <th scope="col" class="actions-col">{t_string!(i18n, actions)}</th>
            </tr></thead>
            <tbody>
                {groups.into_iter().map(|g| {
                    let flash = Flash::of(&flash, &format!("rename-{}", g.id));
                    view! { <GroupRow group=g views flash/> }
                }).collect_view()}
            </tbody>
        </table>
        {to_delete.map(|g| {
            let message = if g.contacts == 0 {
                t_string!(i18n, delete_empty_group_confirm, name = g.name.clone()).to_string()
            } else {
                t_string!(i18n, delete_group_confirm, name = g.name.clone(), count = g.contacts).to_string()
            };
            view! { <ConfirmDelete message action=DeleteContactGroup::url() id=g.id views/> }
        })}
    }
    .into_any()
}

#[component]
fn GroupRow(group: ContactGroup, views: Views, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let g = group;
    let current = views.group == Some(g.id);
    if views.rename == Some(g.id) && !g.helpdesk {
        let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
        let name = flash
            .as_ref()
            .map(|f| f.typed("name"))
            .unwrap_or_else(|| g.name.clone());
        let form = format!("rename-{}", g.id);
        return view! {
            <tr class:selected=current>
                <td>
                    <input type="text" name="name" form=form.clone() value=name maxlength="64" autofocus
                        aria-label=t_string!(i18n, group_name)/>
                    <p class="field-error">{error_in(&errors, "name", i18n)}</p>
                </td>
                <td class="num mono">{g.contacts}</td>
                <td class="actions-cell"><div class="row-actions">
                    <form id=form method="post" action=RenameContactGroup::url() novalidate class="row-view">
                        <input type="hidden" name="id" value=g.id/>
                        <button type="submit" class="primary">{t_string!(i18n, save)}</button>
                    </form>
                    <CancelButton page=PAGE keep=views.keep() label=t_string!(i18n, cancel_edit).to_string()/>
                </div></td>
            </tr>
        }
        .into_any();
    }
    let read_only = g.helpdesk;
    let why = read_only.then(|| t_string!(i18n, err_group_read_only).to_string());
    let href = format!("{PAGE}?group={}", g.id);
    view! {
        <tr class:selected=current>
            <td>
                <a href=href class="group-link" aria-current=current.then_some("true")>{g.name.clone()}</a>
                {read_only.then(|| view! { " " <HelpdeskTag/> })}
            </td>
            <td class="num mono">{g.contacts}</td>
            <td class="actions-cell"><div class="row-actions">
                <ViewButton page=PAGE keep=views.keep() view="rename" id=g.id disabled=read_only title=why.clone()
                    label=format!("{} {}", t_string!(i18n, rename), g.name)>{t_string!(i18n, rename)}</ViewButton>
                <ViewButton page=PAGE keep=views.keep() view="delete_group" id=g.id class="danger" disabled=read_only title=why
                    label=format!("{} {}", t_string!(i18n, delete), g.name)>{t_string!(i18n, delete)}</ViewButton>
            </div></td>
        </tr>
    }
    .into_any()
}

#[component]
fn CreateGroup(flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
    let name_error = error_in(&errors, "name", i18n);
    let name = flash.as_ref().map(|f| f.typed("name")).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="create-group-title">
            <h2 id="create-group-title">{t_string!(i18n, create_group)}</h2>
            <form method="post" action=CreateContactGroup::url() novalidate class="inline-form group-form">
                <div class="field">
                    <label for="new-group-name">{t_string!(i18n, group_name)}</label>
                    <input id="new-group-name" name="name" type="text" maxlength="64" value=name
                        autofocus=name_error.is_some()
                        aria-invalid=name_error.is_some().to_string()/>
                    <p class="field-error" id="new-group-name-error">{name_error.clone()}</p>
                </div>
                <div class="actions">
                    <button type="submit" class="primary">{t_string!(i18n, create_group)}</button>
                </div>
            </form>
        </section>
    }
}

/// The selected group: its contacts, and (unless it carries the Helpdesk tag) the form that
/// adds or edits one.
#[component]
fn GroupContacts(
    group: ContactGroup,
    contacts: Vec<PhonebookContact>,
    views: Views,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    let read_only = group.helpdesk;
    let editing = views
        .edit
        .and_then(|id| contacts.iter().find(|c| c.id == id).cloned());
    let to_delete = views
        .delete
        .and_then(|id| contacts.iter().find(|c| c.id == id).cloned());
    let title = t_string!(i18n, group_contacts_title, name = group.name.clone()).to_string();
    let table_label = title.clone();
    let empty = contacts.is_empty();
    let rows = contacts
        .into_iter()
        .map(|c| {
            let name = display_name(&c);
            let edit_label = format!("{} {}", t_string!(i18n, edit), name);
            let delete_label = format!("{} {}", t_string!(i18n, delete), name);
            view! {
                <tr>
                    <td>{name.clone()}</td>
                    <td>{c.company.clone().unwrap_or_default()}</td>
                    <td class="email">{c.email.clone().unwrap_or_default()}</td>
                    <td class="phone">{c.business_phone.clone().unwrap_or_default()}</td>
                    <td class="phone">{c.mobile_phone.clone().unwrap_or_default()}</td>
                    <td class="phone">{c.home_phone.clone().unwrap_or_default()}</td>
                    {(!read_only).then(|| view! {
                        <td class="actions-cell"><div class="row-actions">
                            <ViewButton page=PAGE keep=views.keep() view="edit" id=c.id label=edit_label>{t_string!(i18n, edit)}</ViewButton>
                            <ViewButton page=PAGE keep=views.keep() view="delete" id=c.id class="danger" label=delete_label>{t_string!(i18n, delete)}</ViewButton>
                        </div></td>
                    })}
                </tr>
            }
        })
        .collect_view();
    let form_flash = match &editing {
        Some(c) => Flash::of(&flash, &format!("contact-{}", c.id)),
        None => Flash::of(&flash, "add-contact"),
    };
    view! {
        <section class="group-contacts" aria-labelledby="contacts-title">
            <div class="section-head">
                <h2 id="contacts-title">{title}</h2>
                {read_only.then(|| view! { <HelpdeskTag/> })}
            </div>
            {read_only.then(|| view! {
                <p class="note info" role="note">{t_string!(i18n, err_group_read_only)}</p>
            })}
            {if empty {
                view! {
                    <p class="empty card">
                        {if read_only { t_string!(i18n, contacts_empty_helpdesk) } else { t_string!(i18n, contacts_empty) }}
                    </p>
                }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                    <table class="table card-table contacts-table" aria-label=table_label>
                        <thead><tr>
                            <th scope="col">{t_string!(i18n, contact_name)}</th>
                            <th scope="col">{t_string!(i18n, company)}</th>
                            <th scope="col">{t_string!(i18n, extension_email)}</th>
                            <th scope="col">{t_string!(i18n, business_phone)}</th>
                            <th scope="col">{t_string!(i18n, mobile_phone)}</th>
                            <th scope="col">{t_string!(i18n, home_phone)}</th>
                            {(!read_only).then(|| view! { <th scope="col" class="actions-col">{t_string!(i18n, actions)}</th> })}
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
        {(!read_only).then(|| view! { <ContactForm group_id=group.id editing views flash=form_flash/> })}
        {to_delete.map(|c| {
            let message = t_string!(i18n, delete_contact_confirm, name = display_name(&c)).to_string();
            view! { <ConfirmDelete message action=DeletePhonebookContact::url() id=c.id views/> }
        })}
    }
}

/// Adds a contact to the group, or edits the one being edited (`?edit=`).
#[component]
fn ContactForm(
    group_id: i64,
    editing: Option<PhonebookContact>,
    views: Views,
    flash: Option<Flash>,
) -> impl IntoView {
    let i18n = use_i18n();
    let errors = flash.as_ref().map(Flash::field_errors).unwrap_or_default();
    // The first field to fix takes the focus; else, when editing, the first field.
    let first_error = errors.first().map(|e| {
        if e.field == "phones" {
            "business_phone".to_string()
        } else {
            e.field.clone()
        }
    });
    let is_edit = editing.is_some();
    let saved = |f: fn(&PhonebookContact) -> Option<String>| editing.as_ref().and_then(f);
    let field = |id: &'static str,
                 name: &'static str,
                 label: String,
                 kind: &'static str,
                 saved: Option<String>| {
        let value = match &flash {
            Some(f) => f.typed(&format!("input[{name}]")),
            None => saved.unwrap_or_default(),
        };
        let message = error_in(&errors, name, i18n);
        let focus = match &first_error {
            Some(f) => f == name,
            None => is_edit && name == "first_name",
        };
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=format!("input[{name}]") type=kind value=value autofocus=focus
                    aria-invalid=message.is_some().to_string()/>
                <p class="field-error">{message}</p>
            </div>
        }
    };
    let phones_error = error_in(&errors, "phones", i18n);
    let (action, id_field) = match &editing {
        Some(c) => (
            UpdatePhonebookContact::url(),
            view! { <input type="hidden" name="id" value=c.id/> }.into_any(),
        ),
        None => (
            CreatePhonebookContact::url(),
            view! { <input type="hidden" name="group_id" value=group_id/> }.into_any(),
        ),
    };
    view! {
        <section class="card" aria-labelledby="contact-form-title">
            <h2 id="contact-form-title">
                {if is_edit { t_string!(i18n, edit_contact) } else { t_string!(i18n, add_contact) }}
            </h2>
            <form id="contact-form" method="post" action=action novalidate class="contact-form">
                {id_field}
                {field("contact-first-name", "first_name", t_string!(i18n, first_name).to_string(), "text", saved(|c| c.first_name.clone()))}
                {field("contact-last-name", "last_name", t_string!(i18n, last_name).to_string(), "text", editing.as_ref().map(|c| c.last_name.clone()))}
                {field("contact-company", "company", t_string!(i18n, company).to_string(), "text", saved(|c| c.company.clone()))}
                {field("contact-email", "email", t_string!(i18n, extension_email).to_string(), "email", saved(|c| c.email.clone()))}
                {field("contact-business-phone", "business_phone", t_string!(i18n, business_phone).to_string(), "tel", saved(|c| c.business_phone.clone()))}
                {field("contact-mobile-phone", "mobile_phone", t_string!(i18n, mobile_phone).to_string(), "tel", saved(|c| c.mobile_phone.clone()))}
                {field("contact-home-phone", "home_phone", t_string!(i18n, home_phone).to_string(), "tel", saved(|c| c.home_phone.clone()))}
                <p class="field-error phones-error" id="contact-phones-error">{phones_error}</p>
            </form>
            <div class="actions contact-actions">
                {is_edit.then(|| view! { <CancelButton page=PAGE keep=views.keep() label=t_string!(i18n, cancel_edit).to_string()/> })}
                <button type="submit" class="primary" form="contact-form">
                    {if is_edit { t_string!(i18n, save) } else { t_string!(i18n, add_contact) }}
                </button>
            </div>
        </section>
    }
}
