//! The agent web client's server functions (issue 7): sign-in with an extension and its
//! web-client password, who is signed in, sign-out. Separate from the admin's session key: an
//! agent's session grants nothing of the admin's.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AgentCalls, AgentMe};

/// Signs an agent in with an extension number and its web-client password.
#[server(endpoint = "agent/sign_in")]
pub async fn agent_sign_in(extension: String, password: String) -> Result<AgentMe, AppError> {
    use super::ssr::*;
    use crate::engine::auth::SignInError;
    use axum::http::StatusCode;

    let engine = engine()?;
    let session = session().await?;
    let addr = client_addr().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match engine
        .directory
        .agent_sign_in(&engine.sign_in_gate, &extension, &password, &addr, now)
        .await
    {
        Ok(ext) => {
            let record = engine
                .directory
                .agent_session(&ext.number)
                .await?
                .ok_or(AppError::Internal)?;
            session.cycle_id().await.map_err(|_| AppError::Internal)?;
            session
                .insert(SESSION_AGENT, record)
                .await
                .map_err(|_| AppError::Internal)?;
            tracing::info!(extension = %ext.number, %addr, "agent signed in");
            me_of(&engine, ext).await
        }
        Err(SignInError::Invalid) => {
            tracing::warn!(%addr, "failed agent sign-in");
            status(StatusCode::UNAUTHORIZED);
            Err(AppError::BadCredentials)
        }
        Err(SignInError::TooMany { retry_after_secs }) => {
            status(StatusCode::TOO_MANY_REQUESTS);
            Err(AppError::TooManyAttempts(retry_after_secs))
        }
        Err(SignInError::Internal) => Err(AppError::Internal),
    }
}

#[cfg(feature = "ssr")]
async fn me_of(
    engine: &crate::engine::SharedEngine,
    ext: crate::model::Extension,
) -> Result<AgentMe, AppError> {
    let can_answer = crate::engine::agent::agent_can_answer(engine).await?;
    let bound = engine.directory.bound_agent(&ext.number);
    Ok(AgentMe {
        can_answer,
        extension: ext.number,
        name: ext.name,
        agent_name: bound.map(|b| b.agent_name.clone()),
        desk_origin: engine.zoho.desk_origin(),
    })
}

/// The signed-in agent (`None` when nobody is).
#[server(endpoint = "agent/me")]
pub async fn current_agent() -> Result<Option<AgentMe>, AppError> {
    use super::ssr::*;
    let engine = engine()?;
    match signed_in_agent(&engine).await? {
        Some(e) => me_of(&engine, e).await.map(Some),
        None => Ok(None),
    }
}

/// Ends the agent's sign-in (the admin's, if any in the same browser, stays).
#[server(endpoint = "agent/sign_out")]
pub async fn agent_sign_out() -> Result<(), AppError> {
    use super::ssr::*;
    let session = session().await?;
    let _ = session
        .remove::<crate::engine::directory::extensions::AgentSession>(SESSION_AGENT)
        .await;
    // Stored now, not when the answer leaves: the agent's live connections check the stored
    // session when told, and end.
    session.save().await.map_err(|_| AppError::Internal)?;
    engine()?.directory.access_changed();
    Ok(())
}

/// The agent's calls: in progress, and the latest ended ones.
#[server(endpoint = "agent/calls")]
pub async fn my_calls() -> Result<AgentCalls, AppError> {
    let (engine, ext) = super::ssr::require_agent().await?;
    Ok(crate::engine::agent::agent_calls(&engine, &ext.number).await?)
}

/// Claims a screen pop for this tab: `true` for the first of the agent's tabs to ask, so that
/// one call opens one page however many tabs the agent has open.
#[server(endpoint = "agent/pop")]
pub async fn claim_pop(call_id: String) -> Result<bool, AppError> {
    let (engine, ext) = super::ssr::require_agent().await?;
    Ok(crate::engine::agent::claim_pop(&engine, &ext.number, &call_id).await?)
}

/// Click to call: the PBX calls `number` from the agent's own extension. Returns the call's id.
#[server(endpoint = "agent/dial")]
pub async fn dial(number: String) -> Result<String, AppError> {
    let (engine, ext) = super::ssr::require_agent().await?;
    let call_id = crate::engine::agent::agent_dial(&engine, &ext.number, &number).await?;
    tracing::info!(extension = %ext.number, %call_id, "agent dialled");
    Ok(call_id)
}

/// Answers the agent's ringing inbound call (`answer`), or hangs up the call it is on or is
/// dialling: what the PBX's own client offers.
#[server(endpoint = "agent/call")]
pub async fn control_call(call_id: String, answer: bool) -> Result<(), AppError> {
    let (engine, ext) = super::ssr::require_agent().await?;
    Ok(crate::engine::agent::agent_call_control(&engine, &ext.number, &call_id, answer).await?)
}
