//! The Helpdesk Integration page: connection settings, the OAuth dance, the org choice.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    AuthOutcome, AutoBindReport, BindingChange, ConnectionView, OrgChoice, RefreshProgress,
    RefreshReport, RulesForm, RulesInput, RulesView, SettingsInput, UsersView,
};

/// How long a consent may take before its `state` is refused.
#[cfg(feature = "ssr")]
const STATE_LIFETIME_SECS: i64 = 10 * 60;

#[cfg(feature = "ssr")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    attempt: String,
    state: String,
    created_at: i64,
}

#[cfg(feature = "ssr")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Finished {
    attempt: String,
    outcome: AuthOutcome,
}

#[cfg(feature = "ssr")]
const SESSION_PENDING: &str = "oauth_pending";
#[cfg(feature = "ssr")]
const SESSION_FINISHED: &str = "oauth_finished";

#[server(endpoint = "helpdesk/connection")]
pub async fn get_connection() -> Result<ConnectionView, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.zoho.connection_view().await?)
}

/// What Save answers: the consent URL to open, and the attempt to wait for.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Authorization {
    pub consent_url: String,
    pub attempt: String,
}

/// Saves the Authorization Information and starts an authorization: a fresh single-use `state`
/// bound to this session, and the consent URL to open.
#[server(endpoint = "helpdesk/save")]
pub async fn save_settings(input: SettingsInput) -> Result<Authorization, AppError> {
    let (engine, session, _) = super::ssr::require_admin().await?;
    engine.zoho.save_settings(input).await?;
    let state = hex::encode(rand::random::<[u8; 24]>());
    let attempt = hex::encode(rand::random::<[u8; 8]>());
    let consent_url = engine.zoho.authorization_url(&state).await?;
    let pending = Pending {
        attempt: attempt.clone(),
        state,
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    session
        .insert(SESSION_PENDING, pending)
        .await
        .map_err(|_| AppError::Internal)?;
    Ok(Authorization {
        consent_url,
        attempt,
    })
}

/// The redirect's parameters, as the landing page read them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub location: Option<String>,
    pub accounts_server: Option<String>,
}

/// Completes the authorization for the landing page: checks the `state` against this session
/// (single use, short-lived), then exchanges the code.
#[server(endpoint = "helpdesk/complete")]
pub async fn complete_authorization(params: CallbackParams) -> Result<AuthOutcome, AppError> {
    let (engine, session, _) = super::ssr::require_admin().await?;
    // The pending consent is taken (single use) only by a callback that carries its `state`:
    // a forged callback (a cross-site GET with another state) cannot cancel it.
    let pending: Option<Pending> = session
        .get(SESSION_PENDING)
        .await
        .map_err(|_| AppError::Internal)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let matches = pending.as_ref().is_some_and(|p| {
        params.state.as_deref().is_some_and(|s| {
            use subtle_eq::eq;
            eq(s.as_bytes(), p.state.as_bytes())
        })
    });
    let fresh = pending
        .as_ref()
        .is_some_and(|p| now - p.created_at <= STATE_LIFETIME_SECS);
    if matches || (pending.is_some() && !fresh) {
        session
            .remove::<Pending>(SESSION_PENDING)
            .await
            .map_err(|_| AppError::Internal)?;
    }
    let outcome = match pending {
        Some(p) if matches && fresh => {
            let outcome = if params.error.is_some() {
                AuthOutcome::Failed(crate::model::AuthFailure::Denied)
            } else if let Some(code) = params.code.as_deref() {
                engine
                    .zoho
                    .complete_authorization(
                        code,
                        params.accounts_server.as_deref(),
                        params.location.as_deref(),
                    )
                    .await
            } else {
                AuthOutcome::Failed(crate::model::AuthFailure::Other)
            };
            let finished = Finished {
                attempt: p.attempt,
                outcome: outcome.clone(),
            };
            session
                .insert(SESSION_FINISHED, finished)
                .await
                .map_err(|_| AppError::Internal)?;
            outcome
        }
        _ => {
            tracing::warn!("OAuth callback with a missing, forged, expired or reused state");
            AuthOutcome::Failed(crate::model::AuthFailure::BadState)
        }
    };
    Ok(outcome)
}

/// The result of the attempt `attempt`, once the landing page has it (the admin page polls).
#[server(endpoint = "helpdesk/outcome")]
pub async fn authorization_outcome(attempt: String) -> Result<Option<AuthOutcome>, AppError> {
    let (_, session, _) = super::ssr::require_admin().await?;
    let finished: Option<Finished> = session
        .get(SESSION_FINISHED)
        .await
        .map_err(|_| AppError::Internal)?;
    Ok(finished.filter(|f| f.attempt == attempt).map(|f| f.outcome))
}

/// The organization the integration works in, when the Zoho account has several.
#[server(endpoint = "helpdesk/choose_org")]
pub async fn choose_org(org_id: String) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.zoho.choose_org(&org_id).await?)
    }
    .await;
    super::ssr::answer_plain_form(
        "org".into(),
        &[("org_id", org_id)],
        HELPDESK,
        &result,
        |_| None,
    )
    .await;
    result
}

#[server(endpoint = "helpdesk/organizations")]
pub async fn refresh_organizations() -> Result<Vec<OrgChoice>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.zoho.refresh_organizations().await?)
}

/// "Enable Zoho Desk integration": off records calls but does no Zoho work.
#[server(endpoint = "helpdesk/enable")]
pub async fn set_enabled(on: bool) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.zoho.set_enabled(on).await?)
    }
    .await;
    super::ssr::answer_plain_form("enable".into(), &[], HELPDESK, &result, |_| None).await;
    result
}

/// The Zoho Desk Users section: agents as last fetched, extensions, vanished agents.
#[server(endpoint = "helpdesk/users")]
pub async fn users() -> Result<UsersView, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.users_view().await?)
}

/// Fetches every agent from Zoho Desk (all pages).
#[server(endpoint = "helpdesk/users/refresh")]
pub async fn refresh_users() -> Result<RefreshReport, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.refresh_agents(&engine.zoho).await?)
}

/// How far the running refresh has got (`None` when none runs); the page polls it.
#[server(endpoint = "helpdesk/users/progress")]
pub async fn users_refresh_progress() -> Result<Option<RefreshProgress>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.users_refresh_progress())
}

#[server(endpoint = "helpdesk/users/auto_bind")]
pub async fn auto_bind() -> Result<AutoBindReport, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.auto_bind().await?)
}

#[server(endpoint = "helpdesk/users/save")]
pub async fn save_bindings(changes: Vec<BindingChange>) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.save_bindings(changes).await?)
}

/// The rules section: settings, departments, company contacts groups, the edition.
#[server(endpoint = "helpdesk/rules")]
pub async fn rules() -> Result<RulesView, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.rules.view(&engine.zoho, &engine.phonebook).await?)
}

#[server(endpoint = "helpdesk/rules/save")]
pub async fn save_rules(input: RulesInput) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine
        .rules
        .save(&engine.zoho, &engine.phonebook, input)
        .await?)
}

/// The rules' plain HTML form (the page's Save): what it sends over the rules as saved.
/// Answered with the page, which says "Rules saved." or why not, with what was chosen.
#[server(endpoint = "helpdesk/rules/form")]
pub async fn save_rules_form(rules: RulesForm) -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        let input = rules.input(&engine.rules.current());
        Ok(engine
            .rules
            .save(&engine.zoho, &engine.phonebook, input)
            .await?)
    }
    .await;
    // What was chosen comes back as one field: the form, as sent.
    let typed = [(
        RULES_TYPED,
        serde_json::to_string(&rules).unwrap_or_default(),
    )];
    super::ssr::answer_plain_form("rules".into(), &typed, HELPDESK, &result, |_| {
        Some("saved".into())
    })
    .await;
    result
}

/// The field of a refused rules form's flash that holds the form as sent (JSON).
pub const RULES_TYPED: &str = "rules";

/// The Helpdesk Integration page: where its plain forms come back to.
#[cfg(feature = "ssr")]
const HELPDESK: &str = "/integrations/helpdesk";

/// Disconnect: revoke, forget the authorization, bindings and rules, cancel pending work.
#[server(endpoint = "helpdesk/disconnect")]
pub async fn disconnect() -> Result<(), AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.disconnect().await?)
    }
    .await;
    super::ssr::answer_plain_form("disconnect".into(), &[], HELPDESK, &result, |_| None).await;
    result
}

#[cfg(feature = "ssr")]
mod subtle_eq {
    /// Constant-time comparison of two byte strings of the same length.
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// What every admin page shows at once: an expired authorization and the calls waiting.
#[server(endpoint = "helpdesk/attention")]
pub async fn attention() -> Result<crate::model::Attention, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.zoho.attention().await?)
}
