//! The PBX pages' server functions: extensions, and the PBX connection.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    Extension, ExtensionInput, PbxConnectionView, PbxSettingsInput, PbxSyncProgress, PbxSyncReport,
    PhoneStatus,
};

#[server(endpoint = "pbx/extensions")]
pub async fn list_extensions() -> Result<Vec<Extension>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.extensions().await?)
}

/// Each extension's phone as the PBX last reported it (30008); `None` while no PBX is
/// connected and none has reported (the page then shows no phone states). A PBX that only
/// pushes its events to the webhook reports them too.
#[server(endpoint = "pbx/extensions/phones")]
pub async fn extension_phones() -> Result<Option<HashMap<String, PhoneStatus>>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    let phones = engine.pbx_connection.phones();
    if phones.is_empty() && !engine.pbx_connection.is_connected().await? {
        return Ok(None);
    }
    Ok(Some(phones))
}

#[server(endpoint = "pbx/extensions/create")]
pub async fn create_extension(input: ExtensionInput) -> Result<i64, AppError> {
    let typed = extension_typed(&input);
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.directory.create_extension(input).await?)
    }
    .await;
    answer("add".into(), &typed, &result, |_| None).await;
    result
}

/// A plain form's answer on the extensions page (`super::ssr::answer_plain_form`).
#[cfg(feature = "ssr")]
async fn answer<T>(
    form: String,
    typed: &[(String, String)],
    result: &Result<T, AppError>,
    done: impl FnOnce(&T) -> Option<String>,
) {
    let typed: Vec<(&str, &str)> = typed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    super::ssr::answer_plain_form(form, &typed, "/pbx/extensions", result, done).await;
}

/// An extension form's fields as they were typed, by the form's field names.
#[cfg(feature = "ssr")]
fn extension_typed(input: &ExtensionInput) -> Vec<(String, String)> {
    vec![
        ("input[number]".into(), input.number.clone()),
        ("input[name]".into(), input.name.clone()),
        (
            "input[email]".into(),
            input.email.clone().unwrap_or_default(),
        ),
    ]
}

#[server(endpoint = "pbx/extensions/update")]
pub async fn update_extension(id: i64, input: ExtensionInput) -> Result<(), AppError> {
    let typed = extension_typed(&input);
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.directory.update_extension(id, input).await?)
    }
    .await;
    answer(format!("edit-{id}"), &typed, &result, |_| None).await;
    result
}

#[server(endpoint = "pbx/extensions/delete")]
pub async fn delete_extension(id: i64) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.directory.delete_extension(id).await?)
    }
    .await;
    answer(format!("delete-{id}"), &[], &result, |_| None).await;
    result
}

/// Sets an extension's web-client password (an empty one removes it). Write-only: the page
/// only ever learns whether one is set.
#[server(endpoint = "pbx/extensions/password")]
pub async fn set_web_password(id: i64, password: String) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.directory.set_web_password(id, &password).await?)
    }
    .await;
    // What was typed is a password: never kept.
    answer(format!("password-{id}"), &[], &result, |_| None).await;
    result
}

/// Imports a JSON array of `{"number", "name", "email"?}`: all rows or none.
#[server(endpoint = "pbx/extensions/import")]
pub async fn import_extensions(json: String) -> Result<usize, AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        if json.len() > 1 << 20 {
            return Err(AppError::BadImport);
        }
        let items: Vec<ExtensionInput> =
            serde_json::from_str(&json).map_err(|_| AppError::BadImport)?;
        Ok(engine.directory.import_extensions(items).await?)
    }
    .await;
    // A refused import keeps its text (up to the 1 MiB an import may be) for the admin to mend.
    let typed = if json.len() <= 1 << 20 {
        vec![("json".to_string(), json)]
    } else {
        vec![]
    };
    answer("import".into(), &typed, &result, |n| Some(n.to_string())).await;
    result
}

#[server(endpoint = "pbx/connection")]
pub async fn get_pbx_connection() -> Result<PbxConnectionView, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.pbx_connection.view().await?)
}

/// Saves the PBX address and the API application's Client ID and Secret.
#[server(endpoint = "pbx/connection/save")]
pub async fn save_pbx_connection(input: PbxSettingsInput) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.pbx_connection.save(input).await?)
}

/// Test connection: a token and the extension count, or the PBX's errcode and words.
#[server(endpoint = "pbx/connection/test")]
pub async fn test_pbx_connection() -> Result<PbxConnectionView, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.pbx_connection.test().await?)
}

#[server(endpoint = "pbx/connection/disconnect")]
pub async fn disconnect_pbx() -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.pbx_connection.disconnect().await?)
}

/// Sync extensions from the PBX: adds, updates and removes to match it.
#[server(endpoint = "pbx/connection/sync")]
pub async fn sync_pbx_extensions() -> Result<PbxSyncReport, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine
        .directory
        .sync_from_pbx(&engine.pbx_connection)
        .await?)
}

/// How far the running sync is (`None`: none runs), for the page's progress bar.
#[server(endpoint = "pbx/connection/sync/progress")]
pub async fn get_pbx_sync_progress() -> Result<Option<PbxSyncProgress>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.sync_progress())
}
