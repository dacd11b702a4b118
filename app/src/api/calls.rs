//! Server functions of the call pages: the integration log and the simulator.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CallDetail, CallSummary, LogFilter, PbxConsoleCall, SimAction, WebhookInfo};

/// Calls for the integration log, newest first, filtered.
#[server(endpoint = "calls/log")]
pub async fn call_log(filter: LogFilter) -> Result<Vec<CallSummary>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.intake.call_log(&engine.directory, &filter).await?)
}

/// One call's events and facts.
#[server(endpoint = "calls/detail")]
pub async fn get_call_detail(call_id: String) -> Result<CallDetail, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine
        .intake
        .call_detail(&engine.directory, &engine.zoho, &call_id)
        .await?)
}

/// "Retry now" on a failed job of the log.
#[server(endpoint = "calls/jobs/retry")]
pub async fn retry_job(job_id: i64) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.retry_job(job_id).await?)
    }
    .await;
    super::ssr::answer_plain_form(format!("retry-{job_id}"), &[], LOG, &result, |_| None).await;
    result
}

/// The integration log's page: where its plain forms come back to.
#[cfg(feature = "ssr")]
const LOG: &str = "/integrations/helpdesk/log";

/// Changes whenever a call changes: the log asks every few seconds and reloads on a change.
#[server(endpoint = "calls/version")]
pub async fn calls_version() -> Result<String, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.intake.calls_version())
}

/// Runs a simulator action through the public intake; returns the call id.
#[server(endpoint = "calls/simulate")]
pub async fn simulate(action: SimAction) -> Result<String, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(crate::engine::calls::simulator::simulate(&engine, action).await?)
}

/// The PBX sandbox's calls in progress, member by member (`None` unless the PBX connected is
/// the sandbox): the simulator shows the PBX's own view.
#[server(endpoint = "calls/console")]
pub async fn pbx_console_calls() -> Result<Option<Vec<PbxConsoleCall>>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(crate::engine::calls::simulator::pbx_console_calls(&engine).await?)
}

/// Where the PBX sends its events.
#[server(endpoint = "calls/webhook")]
pub async fn get_webhook_info() -> Result<WebhookInfo, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    let base = engine.public_url();
    Ok(WebhookInfo {
        native_url: format!("{base}/api/pbx/call-events"),
        yeastar_url: format!("{base}/api/pbx/yeastar-events"),
    })
}

/// The webhook secret, shown to the admin on request (to configure the PBX).
#[server(endpoint = "calls/webhook/secret")]
pub async fn reveal_webhook_secret() -> Result<String, AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        let s = engine
            .intake
            .webhook_secret()
            .ok_or(AppError::NotConfigured)?;
        Ok(s.expose().to_string())
    }
    .await;
    // The log page's plain form: the page drawn next asks for it again and shows it, once
    // (the secret itself is never kept in the session).
    super::ssr::answer_plain_form("webhook-secret".into(), &[], LOG, &result, |_| {
        Some("shown".into())
    })
    .await;
    result
}
