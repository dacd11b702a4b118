//! The company contacts page's server functions: groups and their contacts. A group with the
//! Helpdesk tag is refused by the engine (`AppError::ReadOnly`), whatever the caller.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ContactGroup, PhonebookContact, PhonebookContactInput};

#[server(endpoint = "pbx/contacts/groups")]
pub async fn list_contact_groups() -> Result<Vec<ContactGroup>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.phonebook_groups().await?)
}

#[server(endpoint = "pbx/contacts/groups/create")]
pub async fn create_contact_group(name: String) -> Result<i64, AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.phonebook.create_phonebook_group(&name).await?)
    }
    .await;
    // The new group is the one the admin works on next.
    let select = |id: &i64, q: &mut Vec<(String, String)>| {
        q.retain(|(k, _)| k != "group");
        q.push(("group".into(), id.to_string()));
    };
    answer_then(
        "create-group".into(),
        &[("name", name.clone())],
        &result,
        select,
    )
    .await;
    result
}

/// A plain form's answer on the contacts page (`super::ssr::answer_plain_form_then`).
#[cfg(feature = "ssr")]
async fn answer_then<T>(
    form: String,
    typed: &[(&str, String)],
    result: &Result<T, AppError>,
    then: impl FnOnce(&T, &mut Vec<(String, String)>),
) {
    super::ssr::answer_plain_form_then(form, typed, "/pbx/contacts", result, |_| None, then).await;
}

/// [`answer_then`] that leaves the page's query as it is.
#[cfg(feature = "ssr")]
async fn answer<T>(form: String, typed: &[(&str, String)], result: &Result<T, AppError>) {
    answer_then(form, typed, result, |_, _| {}).await;
}

/// A contact form's fields as they were typed, by the form's field names.
#[cfg(feature = "ssr")]
fn contact_typed(input: &PhonebookContactInput) -> Vec<(&'static str, String)> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("input[first_name]", o(&input.first_name)),
        ("input[last_name]", input.last_name.clone()),
        ("input[company]", o(&input.company)),
        ("input[email]", o(&input.email)),
        ("input[business_phone]", o(&input.business_phone)),
        ("input[mobile_phone]", o(&input.mobile_phone)),
        ("input[home_phone]", o(&input.home_phone)),
    ]
}

#[server(endpoint = "pbx/contacts/groups/rename")]
pub async fn rename_contact_group(id: i64, name: String) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.phonebook.rename_phonebook_group(id, &name).await?)
    }
    .await;
    answer(format!("rename-{id}"), &[("name", name.clone())], &result).await;
    result
}

#[server(endpoint = "pbx/contacts/groups/delete")]
pub async fn delete_contact_group(id: i64) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.phonebook.delete_phonebook_group(id).await?)
    }
    .await;
    // A deleted group is no longer the selected one.
    let unselect = |_: &(), q: &mut Vec<(String, String)>| {
        q.retain(|(k, v)| !(k == "group" && *v == id.to_string()));
    };
    answer_then(format!("delete-group-{id}"), &[], &result, unselect).await;
    result
}

#[server(endpoint = "pbx/contacts")]
pub async fn list_phonebook_contacts(group_id: i64) -> Result<Vec<PhonebookContact>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.phonebook_contacts(group_id).await?)
}

#[server(endpoint = "pbx/contacts/create")]
pub async fn create_phonebook_contact(
    group_id: i64,
    input: PhonebookContactInput,
) -> Result<i64, AppError> {
    let typed = contact_typed(&input);
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine
            .phonebook
            .create_phonebook_contact(group_id, input)
            .await?)
    }
    .await;
    answer("add-contact".into(), &typed, &result).await;
    result
}

#[server(endpoint = "pbx/contacts/update")]
pub async fn update_phonebook_contact(
    id: i64,
    input: PhonebookContactInput,
) -> Result<(), AppError> {
    let typed = contact_typed(&input);
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.phonebook.update_phonebook_contact(id, input).await?)
    }
    .await;
    answer(format!("contact-{id}"), &typed, &result).await;
    result
}

#[server(endpoint = "pbx/contacts/delete")]
pub async fn delete_phonebook_contact(id: i64) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.phonebook.delete_phonebook_contact(id).await?)
    }
    .await;
    answer(format!("delete-contact-{id}"), &[], &result).await;
    result
}
