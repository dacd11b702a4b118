//! `/pbx/extensions`: list, add, edit, delete and import PBX extensions.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use std::collections::HashMap;

use crate::api::pbx::{
    create_extension, delete_extension, extension_phones, import_extensions, list_extensions,
    set_web_password, update_extension,
};
use crate::components::{keep_typed, poll_every, Dialog, Frame};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{Extension, ExtensionInput, FieldError, PhoneStatus};
use crate::pages::helpdesk::{error_of, problem_text};

#[component]
pub fn ExtensionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let list = Resource::new(|| (), |_| list_extensions());
    let reload = move || list.refetch();
    // With a PBX connected, each phone's state as the PBX reports it, every two seconds.
    let phones: Phones = RwSignal::new(None);
    poll_every(2000, Signal::stored(true), extension_phones, move |p| {
        phones.set(p)
    });
    provide_context(phones);
    view! {
        <Frame>
            <header class="page-head"><div class="title"><h1>{t_string!(i18n, extensions_title)}</h1></div></header>
            <p class="muted">{t_string!(i18n, extensions_intro)}</p>
            <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
                {move || list.get().map(|r| match r {
                    Ok(items) => view! { <ExtensionTable items=items reload=reload/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/pbx/extensions"/> }.into_any(),
                    Err(_) => view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> }.into_any(),
                })}
            </Transition>
            <AddExtension reload=reload/>
            <ImportExtensions reload=reload/>
        </Frame>
    }
}

/// Each extension's phone (30008), when a PBX is connected.
type Phones = RwSignal<Option<HashMap<String, PhoneStatus>>>;

/// The phone's state beside its number: ringing, on a call, idle.
#[component]
fn PhoneBadge(number: String) -> impl IntoView {
    let i18n = use_i18n();
    let phones = use_context::<Phones>();
    move || {
        let status = phones?.with(|p| p.as_ref()?.get(&number).copied())?;
        let (class, words) = match status {
            PhoneStatus::Idle => ("phone-state idle", t_string!(i18n, phone_idle)),
            PhoneStatus::Ringing => ("phone-state ringing", t_string!(i18n, phone_ringing)),
            PhoneStatus::Busy => ("phone-state busy", t_string!(i18n, phone_busy)),
        };
        Some(view! { <span class=class data-phone=format!("{status:?}")>{words}</span> })
    }
}

#[component]
fn ExtensionTable(
    items: Vec<Extension>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    if items.is_empty() {
        return view! { <p class="empty card">{t_string!(i18n, extensions_empty)}</p> }.into_any();
    }
    let to_delete = RwSignal::new(None::<Extension>);
    let password_for = RwSignal::new(None::<Extension>);
    let remove = Action::new(move |id: &i64| {
        let id = *id;
        async move { delete_extension(id).await }
    });
    Effect::new(move |_| {
        if remove.value().get().is_some() {
            to_delete.set(None);
            reload();
        }
    });
    view! {
        <table class="table card-table" aria-label=t_string!(i18n, extensions_title)>
            <thead><tr>
                <th scope="col">{t_string!(i18n, extension_number)}</th>
                <th scope="col">{t_string!(i18n, extension_name)}</th>
                <th scope="col">{t_string!(i18n, extension_email)}</th>
                <th scope="col">{t_string!(i18n, web_client_password)}</th>
                <th scope="col">{t_string!(i18n, actions)}</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|e| view! { <ExtensionRow ext=e reload=reload to_delete=to_delete password_for=password_for/> }).collect_view()}
            </tbody>
        </table>
        {move || password_for.get().map(|e| view! { <PasswordDialog ext=e reload=reload close=move || password_for.set(None)/> })}
        {move || to_delete.get().map(|e| {
            let id = e.id;
            view! {
                <Dialog title_id="confirm-title" on_close=move || to_delete.set(None)>
                    <h2 id="confirm-title">{t_string!(i18n, delete_extension_confirm, number = e.number.clone(), name = e.name.clone())}</h2>
                    <div class="actions">
                        <button type="button" on:click=move |_| to_delete.set(None)>{t_string!(i18n, cancel)}</button>
                        <button type="button" class="primary danger" on:click=move |_| { remove.dispatch(id); }>{t_string!(i18n, ok)}</button>
                    </div>
                </Dialog>
            }
        })}
    }
    .into_any()
}

#[component]
fn ExtensionRow(
    ext: Extension,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    to_delete: RwSignal<Option<Extension>>,
    password_for: RwSignal<Option<Extension>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let editing = RwSignal::new(false);
    let number = RwSignal::new(ext.number.clone());
    let name = RwSignal::new(ext.name.clone());
    let email = RwSignal::new(ext.email.clone().unwrap_or_default());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let id = ext.id;
    let save = Action::new(move |input: &ExtensionInput| {
        let input = input.clone();
        async move { update_extension(id, input).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            editing.set(false);
            reload();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        _ => {}
    });
    let ext2 = ext.clone();
    let row_label = ext.number.clone();
    view! {
        <tr>
            <Show when=move || editing.get() fallback={
                let ext = ext2.clone();
                move || {
                    let e = ext.clone();
                    let e2 = ext.clone();
                    let delete_label = format!("{} {}", t_string!(i18n, delete), e.number);
                    view! {
                        <td><span class="mono">{e.number.clone()}</span>" "<PhoneBadge number=e.number.clone()/></td>
                        <td>{e.name.clone()}</td>
                        <td>{e.email.clone().unwrap_or_default()}</td>
                        <td>
                            <span class=if e.web_password_set { "pw-set" } else { "muted" }>
                                {if e.web_password_set { t_string!(i18n, web_password_set).to_string() } else { t_string!(i18n, web_password_none).to_string() }}
                            </span>" "
                            <button type="button" class="link-button inline"
                                aria-label=format!("{} {}", t_string!(i18n, web_client_password), e.number)
                                on:click={ let e3 = e.clone(); move |_| password_for.set(Some(e3.clone())) }>
                                {if e.web_password_set { t_string!(i18n, change) } else { t_string!(i18n, set_password) }}
                            </button>
                        </td>
                        <td class="row-actions">
                            <button type="button" on:click=move |_| editing.set(true)
                                aria-label=format!("{} {}", t_string!(i18n, edit), e.number)>{t_string!(i18n, edit)}</button>
                            <button type="button" class="danger" on:click=move |_| to_delete.set(Some(e2.clone()))
                                aria-label=delete_label>{t_string!(i18n, delete)}</button>
                        </td>
                    }
                }
            }>
                <td>
                    <input type="text" inputmode="numeric" bind:value=number aria-label=t_string!(i18n, extension_number)/>
                    <p class="field-error">{error_of(errors, "number", i18n)}</p>
                </td>
                <td>
                    <input type="text" bind:value=name aria-label=t_string!(i18n, extension_name)/>
                    <p class="field-error">{error_of(errors, "name", i18n)}</p>
                </td>
                <td>
                    <input type="email" bind:value=email aria-label=t_string!(i18n, extension_email)/>
                    <p class="field-error">{error_of(errors, "email", i18n)}</p>
                </td>
                <td></td>
                <td class="row-actions">
                    <button type="button" class="primary" data-row=row_label.clone() on:click=move |_| {
                        errors.set(vec![]);
                        save.dispatch(ExtensionInput { number: number.get(), name: name.get(), email: Some(email.get()) });
                    }>{t_string!(i18n, save)}</button>
                    <button type="button" on:click=move |_| editing.set(false)>{t_string!(i18n, cancel_edit)}</button>
                </td>
            </Show>
        </tr>
    }
}

#[component]
fn AddExtension(reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let number = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    keep_typed("new-number", number);
    keep_typed("new-name", name);
    keep_typed("new-email", email);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let add = Action::new(move |input: &ExtensionInput| {
        let input = input.clone();
        async move { create_extension(input).await }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(_)) => {
            number.set(String::new());
            name.set(String::new());
            email.set(String::new());
            reload();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        _ => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        add.dispatch(ExtensionInput {
            number: number.get_untracked(),
            name: name.get_untracked(),
            email: Some(email.get_untracked()),
        });
    };
    view! {
        <section class="card" aria-labelledby="add-title">
            <h2 id="add-title">{t_string!(i18n, add_extension)}</h2>
            <form on:submit=on_submit novalidate class="inline-form">
                <div class="field">
                    <label for="new-number">{t_string!(i18n, extension_number)}</label>
                    <input id="new-number" type="text" inputmode="numeric" value=number.get_untracked() bind:value=number/>
                    <p class="field-error">{error_of(errors, "number", i18n)}</p>
                </div>
                <div class="field">
                    <label for="new-name">{t_string!(i18n, extension_name)}</label>
                    <input id="new-name" type="text" value=name.get_untracked() bind:value=name/>
                    <p class="field-error">{error_of(errors, "name", i18n)}</p>
                </div>
                <div class="field">
                    <label for="new-email">{t_string!(i18n, extension_email)}</label>
                    <input id="new-email" type="email" value=email.get_untracked() bind:value=email/>
                    <p class="field-error">{error_of(errors, "email", i18n)}</p>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || add.pending().get()>{t_string!(i18n, add_extension)}</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn ImportExtensions(reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let json = RwSignal::new(String::new());
    keep_typed("import-json", json);
    let import = Action::new(move |j: &String| {
        let j = j.clone();
        async move { import_extensions(j).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = import.value().get() {
            json.set(String::new());
            reload();
        }
    });
    let message = move || {
        import.value().get().map(|r| match r {
            Ok(n) => (true, t_string!(i18n, imported, count = n).to_string()),
            Err(AppError::BadImport) => (false, t_string!(i18n, import_not_json).to_string()),
            Err(AppError::Invalid(list)) => (
                false,
                list.iter()
                    .map(|e| {
                        let (row, field) =
                            e.field.split_once('.').unwrap_or(("?", e.field.as_str()));
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
            ),
            Err(_) => (false, t_string!(i18n, err_internal).to_string()),
        })
    };
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">{t_string!(i18n, import_title)}</h2>
            <p class="muted">{t_string!(i18n, import_hint)}</p>
            <div class="field wide">
                <label for="import-json">{t_string!(i18n, import_json)}</label>
                <textarea id="import-json" rows="5" bind:value=json></textarea>
            </div>
            {move || message().map(|(ok, text)| view! {
                <p class=if ok { "note ok pre-line" } else { "form-error pre-line" } role="status">{text}</p>
            })}
            <div class="actions">
                <button type="button" class="primary" on:click=move |_| { import.dispatch(json.get()); }>{t_string!(i18n, import)}</button>
            </div>
        </section>
    }
}

/// Sets, replaces or removes an extension's web-client password (the agent client's sign-in).
#[component]
fn PasswordDialog(
    ext: Extension,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let id = ext.id;
    let save = Action::new(move |pw: &String| {
        let pw = pw.clone();
        async move { set_web_password(id, pw).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            close();
            reload();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        _ => {}
    });
    let field = crate::components::focus_when_drawn::<leptos::html::Input>();
    view! {
        <Dialog title_id="pw-title" on_close=close>
            <form on:submit=move |ev| { ev.prevent_default(); errors.set(vec![]); save.dispatch(password.get_untracked()); }>
                <h2 id="pw-title">{t_string!(i18n, web_password_title, number = ext.number.clone(), name = ext.name.clone())}</h2>
                <p class="muted">{t_string!(i18n, web_password_hint)}</p>
                <div class="field">
                    <label for="web-password">{t_string!(i18n, web_client_password)}</label>
                    <input id="web-password" type="password" autocomplete="new-password" minlength="8" maxlength="128"
                        node_ref=field bind:value=password
                        aria-invalid=move || error_of(errors, "web_password", i18n)().is_some().to_string()/>
                    <p class="field-error">{error_of(errors, "web_password", i18n)}</p>
                </div>
                <div class="actions">
                    {ext.web_password_set.then(|| view! {
                        <button type="button" class="danger" on:click=move |_| { save.dispatch(String::new()); }>{t_string!(i18n, remove_password)}</button>
                    })}
                    <button type="button" on:click=move |_| close()>{t_string!(i18n, cancel)}</button>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>{t_string!(i18n, save)}</button>
                </div>
            </form>
        </Dialog>
    }
}
