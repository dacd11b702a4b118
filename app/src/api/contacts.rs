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
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.create_phonebook_group(&name).await?)
}

#[server(endpoint = "pbx/contacts/groups/rename")]
pub async fn rename_contact_group(id: i64, name: String) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.rename_phonebook_group(id, &name).await?)
}

#[server(endpoint = "pbx/contacts/groups/delete")]
pub async fn delete_contact_group(id: i64) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.delete_phonebook_group(id).await?)
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
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine
        .phonebook
        .create_phonebook_contact(group_id, input)
        .await?)
}

#[server(endpoint = "pbx/contacts/update")]
pub async fn update_phonebook_contact(
    id: i64,
    input: PhonebookContactInput,
) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.update_phonebook_contact(id, input).await?)
}

#[server(endpoint = "pbx/contacts/delete")]
pub async fn delete_phonebook_contact(id: i64) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.phonebook.delete_phonebook_contact(id).await?)
}
