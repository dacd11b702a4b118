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
    typed: &[(&str, String)],
    result: &Result<T, AppError>,
    done: impl FnOnce(&T) -> Option<String>,
) {
    super::ssr::answer_plain_form(form, typed, "/pbx/extensions", result, done).await;
}

/// An extension form's fields as they were typed, by the form's field names.
#[cfg(feature = "ssr")]
fn extension_typed(input: &ExtensionInput) -> Vec<(&'static str, String)> {
    vec![
        ("input[number]", input.number.clone()),
        ("input[name]", input.name.clone()),
        ("input[email]", input.email.clone().unwrap_or_default()),
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
        vec![("json", json)]
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
    // What was typed, for a refused form: never the secrets.
    let typed = [
        ("input[base_url]", input.base_url.clone()),
        ("input[client_id]", input.client_id.clone()),
        ("input[events_via]", format!("{:?}", input.events_via)),
        ("input[auto_answer]", input.auto_answer.to_string()),
        (
            "input[use_sandbox_secret]",
            input.use_sandbox_secret.to_string(),
        ),
    ];
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.pbx_connection.save(input).await?)
    }
    .await;
    connection_answer("save", &typed, &result, |_| Some("saved".into())).await;
    result
}

/// A plain form's answer on the PBX connection page (`super::ssr::answer_plain_form`).
#[cfg(feature = "ssr")]
async fn connection_answer<T>(
    form: &str,
    typed: &[(&str, String)],
    result: &Result<T, AppError>,
    done: impl FnOnce(&T) -> Option<String>,
) {
    super::ssr::answer_plain_form(form.into(), typed, "/pbx/connection", result, done).await;
}

/// Test connection: a token and the extension count, or the PBX's errcode and words.
#[server(endpoint = "pbx/connection/test")]
pub async fn test_pbx_connection() -> Result<PbxConnectionView, AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.pbx_connection.test().await?)
    }
    .await;
    // The page shows what the test found in its status line.
    connection_answer("test", &[], &result, |_| None).await;
    result
}

#[server(endpoint = "pbx/connection/disconnect")]
pub async fn disconnect_pbx() -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.pbx_connection.disconnect().await?)
    }
    .await;
    connection_answer("disconnect", &[], &result, |_| Some("done".into())).await;
    result
}

/// Sync extensions from the PBX: adds, updates and removes to match it.
#[server(endpoint = "pbx/connection/sync")]
pub async fn sync_pbx_extensions() -> Result<PbxSyncReport, AppError> {
    let engine = match super::ssr::require_admin().await {
        Ok((engine, _, _)) => engine,
        Err(e) => {
            let refused: Result<(), AppError> = Err(e.clone());
            connection_answer("sync", &[], &refused, |_| None).await;
            return Err(e);
        }
    };
    if super::ssr::from_plain_form() {
        // The page's form: the sync goes on in the background, and the page (live while it
        // runs) shows its progress, then what it did. The answer waits until it has begun (or
        // ended), so that the page drawn next sees it.
        let mut progress = engine.directory.watch_sync_progress();
        let e = engine.clone();
        let mut sync =
            tokio::spawn(async move { e.directory.sync_from_pbx(&e.pbx_connection).await });
        tokio::select! {
            _ = progress.wait_for(|p| p.is_some()) => {}
            _ = &mut sync => {}
        }
        let begun: Result<(), AppError> = Ok(());
        connection_answer("sync", &[], &begun, |_| None).await;
        return Ok(PbxSyncReport::default());
    }
    Ok(engine
        .directory
        .sync_from_pbx(&engine.pbx_connection)
        .await?)
}

/// What the last sync from the PBX did, or the PBX's words when it failed (empty: another
/// failure); `None` before the first one.
#[server(endpoint = "pbx/connection/sync/last")]
pub async fn get_pbx_last_sync() -> Result<Option<Result<PbxSyncReport, String>>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.last_sync())
}

/// How far the running sync is (`None`: none runs), for the page's progress bar.
#[server(endpoint = "pbx/connection/sync/progress")]
pub async fn get_pbx_sync_progress() -> Result<Option<PbxSyncProgress>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.sync_progress())
}
