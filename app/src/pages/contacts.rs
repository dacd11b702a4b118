//! `/pbx/contacts`: the PBX's company contacts groups and their contacts. The group bound to
//! Zoho Desk carries the Helpdesk tag and is shown read-only (the server refuses edits too).
//! The selected group is in the address (`?group=ID`), so a reload keeps it.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::contacts::{
    create_contact_group, create_phonebook_contact, delete_contact_group, delete_phonebook_contact,
    list_contact_groups, list_phonebook_contacts, rename_contact_group, update_phonebook_contact,
};
use crate::components::{keep_typed, Dialog, Frame};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{
    ContactGroup, FieldError, FieldProblem, PhonebookContact, PhonebookContactInput,
};
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

/// A refusal from the server, shown by the page until dismissed or the next action. It
/// outlives the list it came from (which reloads to show the current state).
#[derive(Clone, Copy)]
struct Notice(RwSignal<Option<AppError>>);

fn error_of(
    errors: RwSignal<Vec<FieldError>>,
    field: &'static str,
    i18n: I18n,
) -> impl Fn() -> Option<String> + Copy + Send + Sync {
    crate::pages::helpdesk::field_message(errors, field, move |e| {
        problem(i18n, &e.field, e.problem)
    })
}

fn display_name(c: &PhonebookContact) -> String {
    match &c.first_name {
        Some(f) => format!("{f} {}", c.last_name),
        None => c.last_name.clone(),
    }
}

/// Moves the keyboard focus to the element with this id (the first field to fix).
fn focus_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let selected = Memo::new(move |_| {
        query
            .read()
            .get("group")
            .and_then(|g| g.parse::<i64>().ok())
    });
    // Every resource of the page is created here, outside `<Transition>` (see the helpdesk
    // page).
    let groups = Resource::new(|| (), |_| list_contact_groups());
    let contacts = Resource::new(
        move || selected.get(),
        |group| async move {
            match group {
                Some(id) => list_phonebook_contacts(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let reload = move || {
        groups.refetch();
        contacts.refetch();
    };
    let notice = RwSignal::new(None::<AppError>);
    provide_context(Notice(notice));
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, contacts_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, contacts_intro)}</p>
            <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
                {move || groups.get().map(|r| match r {
                    Ok(list) => view! { <GroupTable groups=list selected=selected.get() reload=reload/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/pbx/contacts"/> }.into_any(),
                    Err(_) => view! {
                        <section class="card">
                            <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p>
                            <button type="button" on:click=move |_| reload()>{t_string!(i18n, retry)}</button>
                        </section>
                    }.into_any(),
                })}
            </Transition>
            <CreateGroup reload=reload/>
            <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
                {move || {
                    let group = selected.get().and_then(|id| {
                        groups.get()?.ok()?.into_iter().find(|g| g.id == id)
                    });
                    match (group, contacts.get()) {
                        (Some(g), Some(Ok(Some(list)))) => view! {
                            <GroupContacts group=g contacts=list reload=reload/>
                        }.into_any(),
                        (None, _) if selected.get().is_some() && groups.get().is_some_and(|r| r.is_ok()) => view! {
                            <p class="note warn" role="status">{t_string!(i18n, err_phonebook_gone)}</p>
                        }.into_any(),
                        (None, _) if selected.get().is_none() => view! {
                            <p class="muted">{t_string!(i18n, select_group_hint)}</p>
                        }.into_any(),
                        (_, Some(Err(AppError::NotFound))) => view! {
                            <p class="note warn" role="status">{t_string!(i18n, err_phonebook_gone)}</p>
                        }.into_any(),
                        (_, Some(Err(AppError::Unauthorized))) => ().into_any(),
                        (_, Some(Err(_))) => view! {
                            <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                }}
            </Transition>
            {move || notice.get().map(|e| view! {
                <div class="toast bad" role="alert">
                    <span>{refusal(i18n, &e)}</span>
                    <button type="button" class="link-button" on:click=move |_| notice.set(None)
                        aria-label=t_string!(i18n, dismiss)>"×"</button>
                </div>
            })}
        </Frame>
    }
}

/// A dialog that asks before something is deleted: Cancel (focused) and OK; Escape cancels.
#[component]
fn ConfirmDelete(
    message: String,
    on_ok: impl Fn() + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let cancel = crate::components::focus_when_drawn::<leptos::html::Button>();
    view! {
        <Dialog title_id="confirm-title" on_close=on_cancel>
            <h2 id="confirm-title">{message}</h2>
            <div class="actions">
                <button type="button" node_ref=cancel on:click=move |_| on_cancel()>{t_string!(i18n, cancel)}</button>
                <button type="button" class="primary danger" on:click=move |_| on_ok()>{t_string!(i18n, ok)}</button>
            </div>
        </Dialog>
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
fn GroupTable(
    groups: Vec<ContactGroup>,
    selected: Option<i64>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    if groups.is_empty() {
        return view! { <p class="empty card">{t_string!(i18n, groups_empty)}</p> }.into_any();
    }
    let to_delete = RwSignal::new(None::<ContactGroup>);
    let Notice(failure) = expect_context::<Notice>();
    let navigate = use_navigate();
    let remove = Action::new(move |id: &i64| {
        let id = *id;
        async move { delete_contact_group(id).await.map(|_| id) }
    });
    Effect::new(move |_| {
        let Some(r) = remove.value().get() else {
            return;
        };
        to_delete.set(None);
        match r {
            Ok(id) => {
                if selected == Some(id) {
                    navigate(PAGE, NavigateOptions::default());
                }
            }
            Err(e) => failure.set(Some(e)),
        }
        reload();
    });
    view! {
        <table class="table card-table groups-table" aria-label=t_string!(i18n, contact_groups)>
            <thead><tr>
                <th scope="col">{t_string!(i18n, group_name_column)}</th>
                <th scope="col" class="num">{t_string!(i18n, group_contacts)}</th>
                <th scope="col" class="actions-col">{t_string!(i18n, actions)}</th>
            </tr></thead>
            <tbody>
                {groups.into_iter().map(|g| {
                    let current = selected == Some(g.id);
                    view! { <GroupRow group=g current=current reload=reload to_delete=to_delete failure=failure/> }
                }).collect_view()}
            </tbody>
        </table>
        {move || to_delete.get().map(|g| {
            let id = g.id;
            let message = if g.contacts == 0 {
                t_string!(i18n, delete_empty_group_confirm, name = g.name.clone()).to_string()
            } else {
                t_string!(i18n, delete_group_confirm, name = g.name.clone(), count = g.contacts).to_string()
            };
            view! {
                <ConfirmDelete message=message
                    on_ok=move || { failure.set(None); remove.dispatch(id); }
                    on_cancel=move || to_delete.set(None)/>
            }
        })}
    }
    .into_any()
}

#[component]
fn GroupRow(
    group: ContactGroup,
    current: bool,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    to_delete: RwSignal<Option<ContactGroup>>,
    failure: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let editing = RwSignal::new(false);
    let name = RwSignal::new(group.name.clone());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let id = group.id;
    let rename = Action::new(move |name: &String| {
        let name = name.clone();
        async move { rename_contact_group(id, name).await }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(())) => {
            editing.set(false);
            reload();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        Some(Err(e)) => {
            editing.set(false);
            failure.set(Some(e));
            reload();
        }
        None => {}
    });
    // Rename: the field takes the focus.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (true, Some(i)) = (editing.get(), input.get()) {
            let _ = i.focus();
        }
    });
    let submit = move || {
        errors.set(vec![]);
        failure.set(None);
        rename.dispatch(name.get_untracked());
    };
    let href = format!("{PAGE}?group={id}");
    let g = group.clone();
    view! {
        <tr class:selected=current>
            <Show when=move || editing.get() fallback={
                let g = g.clone();
                let href = href.clone();
                move || {
                    let g2 = g.clone();
                    let original = g.name.clone();
                    let read_only = g.helpdesk;
                    let why = read_only.then(|| t_string!(i18n, err_group_read_only).to_string());
                    view! {
                        <td>
                            // A plain link: the router's <A> ignores the query when it marks the
                            // current page, so it would mark every group.
                            <a href=href.clone() class="group-link" aria-current=if current { Some("true") } else { None }>
                                {g.name.clone()}
                            </a>
                            {read_only.then(|| view! { " " <HelpdeskTag/> })}
                        </td>
                        <td class="num mono">{g.contacts}</td>
                        <td class="actions-cell"><div class="row-actions">
                            <button type="button" disabled=read_only title=why.clone()
                                on:click=move |_| { errors.set(vec![]); name.set(original.clone()); editing.set(true); }
                                aria-label=format!("{} {}", t_string!(i18n, rename), g.name)>{t_string!(i18n, rename)}</button>
                            <button type="button" class="danger" disabled=read_only title=why
                                on:click=move |_| to_delete.set(Some(g2.clone()))
                                aria-label=format!("{} {}", t_string!(i18n, delete), g.name)>{t_string!(i18n, delete)}</button>
                        </div></td>
                    }
                }
            }>
                <td>
                    <input type="text" bind:value=name maxlength="64" node_ref=input
                        aria-label=t_string!(i18n, group_name)
                        on:keydown=move |ev| match ev.key().as_str() {
                            "Enter" => submit(),
                            "Escape" => editing.set(false),
                            _ => {}
                        }/>
                    <p class="field-error">{error_of(errors, "name", i18n)}</p>
                </td>
                <td class="num mono">{group.contacts}</td>
                <td class="actions-cell"><div class="row-actions">
                    <button type="button" class="primary" on:click=move |_| submit()>{t_string!(i18n, save)}</button>
                    <button type="button" on:click=move |_| editing.set(false)>{t_string!(i18n, cancel_edit)}</button>
                </div></td>
            </Show>
        </tr>
    }
}

#[component]
fn CreateGroup(reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    keep_typed("new-group-name", name);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let Notice(failure) = expect_context::<Notice>();
    let navigate = use_navigate();
    let create = Action::new(move |name: &String| {
        let name = name.clone();
        async move { create_contact_group(name).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(id)) => {
            name.set(String::new());
            // The new group is the one the admin works on next.
            navigate(&format!("{PAGE}?group={id}"), NavigateOptions::default());
            reload();
        }
        Some(Err(AppError::Invalid(list))) => {
            errors.set(list);
            focus_id("new-group-name");
        }
        Some(Err(e)) => failure.set(Some(e)),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        failure.set(None);
        create.dispatch(name.get_untracked());
    };
    let name_error = error_of(errors, "name", i18n);
    view! {
        <section class="card" aria-labelledby="create-group-title">
            <h2 id="create-group-title">{t_string!(i18n, create_group)}</h2>
            <form on:submit=on_submit novalidate class="inline-form group-form">
                <div class="field">
                    <label for="new-group-name">{t_string!(i18n, group_name)}</label>
                    <input id="new-group-name" type="text" maxlength="64"
                        value=name.get_untracked() bind:value=name
                        aria-invalid=move || name_error().is_some().to_string()/>
                    <p class="field-error" id="new-group-name-error">{name_error}</p>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>{t_string!(i18n, create_group)}</button>
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
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let read_only = group.helpdesk;
    let editing = RwSignal::new(None::<PhonebookContact>);
    let to_delete = RwSignal::new(None::<PhonebookContact>);
    let Notice(failure) = expect_context::<Notice>();
    let remove = Action::new(move |id: &i64| {
        let id = *id;
        async move { delete_phonebook_contact(id).await }
    });
    Effect::new(move |_| {
        let Some(r) = remove.value().get() else {
            return;
        };
        to_delete.set(None);
        if let Err(e) = r {
            failure.set(Some(e));
        }
        reload();
    });
    let title = t_string!(i18n, group_contacts_title, name = group.name.clone()).to_string();
    let table_label = title.clone();
    let empty = contacts.is_empty();
    let rows = contacts
        .into_iter()
        .map(|c| {
            let c2 = c.clone();
            let c3 = c.clone();
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
                            <button type="button" aria-label=edit_label
                                on:click=move |_| editing.set(Some(c2.clone()))>{t_string!(i18n, edit)}</button>
                            <button type="button" class="danger" aria-label=delete_label
                                on:click=move |_| to_delete.set(Some(c3.clone()))>{t_string!(i18n, delete)}</button>
                        </div></td>
                    })}
                </tr>
            }
        })
        .collect_view();
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
        {(!read_only).then(|| view! { <ContactForm group_id=group.id editing=editing reload=reload/> })}
        {move || to_delete.get().map(|c| {
            let id = c.id;
            let message = t_string!(i18n, delete_contact_confirm, name = display_name(&c)).to_string();
            view! {
                <ConfirmDelete message=message
                    on_ok=move || { failure.set(None); remove.dispatch(id); }
                    on_cancel=move || to_delete.set(None)/>
            }
        })}
    }
}

/// Adds a contact to the group, or edits the one `editing` holds.
#[component]
fn ContactForm(
    group_id: i64,
    editing: RwSignal<Option<PhonebookContact>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let business_phone = RwSignal::new(String::new());
    let mobile_phone = RwSignal::new(String::new());
    let home_phone = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let Notice(failure) = expect_context::<Notice>();
    let fill = move |c: Option<&PhonebookContact>| {
        let v = |f: fn(&PhonebookContact) -> Option<String>| c.and_then(f).unwrap_or_default();
        first_name.set(v(|c| c.first_name.clone()));
        last_name.set(c.map(|c| c.last_name.clone()).unwrap_or_default());
        company.set(v(|c| c.company.clone()));
        email.set(v(|c| c.email.clone()));
        business_phone.set(v(|c| c.business_phone.clone()));
        mobile_phone.set(v(|c| c.mobile_phone.clone()));
        home_phone.set(v(|c| c.home_phone.clone()));
        errors.set(vec![]);
        failure.set(None);
    };
    // Edit: the form takes the contact's values and the focus.
    Effect::new(move |prev: Option<Option<i64>>| {
        let current = editing.get();
        let id = current.as_ref().map(|c| c.id);
        if prev.is_some_and(|p| p != id) || (prev.is_none() && id.is_some()) {
            fill(current.as_ref());
            if id.is_some() {
                focus_id("contact-first-name");
            }
        }
        id
    });
    let save = Action::new(move |(id, input): &(Option<i64>, PhonebookContactInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            match id {
                Some(id) => update_phonebook_contact(id, input).await,
                None => create_phonebook_contact(group_id, input).await.map(|_| ()),
            }
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            editing.set(None);
            fill(None);
            reload();
        }
        Some(Err(AppError::Invalid(list))) => {
            let first = list.first().map(|e| e.field.clone());
            errors.set(list);
            if let Some(f) = first {
                let id = if f == "phones" {
                    "contact-business-phone".to_string()
                } else {
                    format!("contact-{}", f.replace('_', "-"))
                };
                focus_id(&id);
            }
        }
        Some(Err(e)) => {
            failure.set(Some(e));
            reload();
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        failure.set(None);
        let some = |s: RwSignal<String>| Some(s.get_untracked());
        save.dispatch((
            editing.get_untracked().map(|c| c.id),
            PhonebookContactInput {
                first_name: some(first_name),
                last_name: last_name.get_untracked(),
                company: some(company),
                email: some(email),
                business_phone: some(business_phone),
                mobile_phone: some(mobile_phone),
                home_phone: some(home_phone),
            },
        ));
    };
    let field = move |id: &'static str,
                      label: String,
                      kind: &'static str,
                      value: RwSignal<String>,
                      error: &'static str| {
        let message = error_of(errors, error, i18n);
        keep_typed(id, value);
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind value=value.get_untracked() bind:value=value
                    aria-invalid=move || message().is_some().to_string()/>
                <p class="field-error">{message}</p>
            </div>
        }
    };
    let is_edit = move || editing.get().is_some();
    let phones_error = error_of(errors, "phones", i18n);
    view! {
        <section class="card" aria-labelledby="contact-form-title">
            <h2 id="contact-form-title">
                {move || if is_edit() { t_string!(i18n, edit_contact) } else { t_string!(i18n, add_contact) }}
            </h2>
            <form on:submit=on_submit novalidate class="contact-form">
                {field("contact-first-name", t_string!(i18n, first_name).to_string(), "text", first_name, "first_name")}
                {field("contact-last-name", t_string!(i18n, last_name).to_string(), "text", last_name, "last_name")}
                {field("contact-company", t_string!(i18n, company).to_string(), "text", company, "company")}
                {field("contact-email", t_string!(i18n, extension_email).to_string(), "email", email, "email")}
                {field("contact-business-phone", t_string!(i18n, business_phone).to_string(), "tel", business_phone, "business_phone")}
                {field("contact-mobile-phone", t_string!(i18n, mobile_phone).to_string(), "tel", mobile_phone, "mobile_phone")}
                {field("contact-home-phone", t_string!(i18n, home_phone).to_string(), "tel", home_phone, "home_phone")}
                <p class="field-error phones-error" id="contact-phones-error">{phones_error}</p>
                <div class="actions">
                    {move || is_edit().then(|| view! {
                        <button type="button" on:click=move |_| editing.set(None)>{t_string!(i18n, cancel_edit)}</button>
                    })}
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {move || if is_edit() { t_string!(i18n, save) } else { t_string!(i18n, add_contact) }}
                    </button>
                </div>
            </form>
        </section>
    }
}
