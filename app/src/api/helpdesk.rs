//! The Helpdesk Integration page: connection settings, the OAuth dance, the org choice.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    AuthAttempt, AuthOutcome, AutoBindReport, BindingChange, BindingRow, ConnectionView, OrgChoice,
    RefreshFailure, RefreshProgress, RefreshReport, RulesForm, RulesInput, RulesView,
    SettingsInput, UsersView,
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
    /// Where the admin consents (for the page that waits: its link to open it again).
    #[serde(default)]
    consent_url: String,
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
/// bound to this session, and the consent URL to open. A plain form's answer is the page
/// waiting for the attempt (`?attempt=`), with the consent page's link; refused, the page
/// with what was typed (never the secret) and why.
#[server(endpoint = "helpdesk/save")]
pub async fn save_settings(input: SettingsInput) -> Result<Authorization, AppError> {
    let typed = [
        ("input[accounts_url]", input.accounts_url.clone()),
        ("input[desk_url]", input.desk_url.clone()),
        ("input[client_id]", input.client_id.clone()),
        (
            "input[use_sandbox_secret]",
            input.use_sandbox_secret.to_string(),
        ),
    ];
    let result = start_authorization(input).await;
    super::ssr::answer_plain_form_then(
        "auth".into(),
        &typed,
        HELPDESK,
        &result,
        |_| None,
        |auth, query| {
            query.retain(|(k, _)| k != "attempt");
            query.push(("attempt".into(), auth.attempt.clone()));
        },
    )
    .await;
    result
}

#[cfg(feature = "ssr")]
async fn start_authorization(input: SettingsInput) -> Result<Authorization, AppError> {
    let (engine, session, _) = super::ssr::require_admin().await?;
    engine.zoho.save_settings(input).await?;
    let state = hex::encode(rand::random::<[u8; 24]>());
    let attempt = hex::encode(rand::random::<[u8; 8]>());
    let consent_url = engine.zoho.authorization_url(&state).await?;
    let pending = Pending {
        attempt: attempt.clone(),
        state,
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        consent_url: consent_url.clone(),
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

/// Where the attempt `attempt` stands, for the page that waits for it (live).
#[server(endpoint = "helpdesk/attempt")]
pub async fn authorization_attempt(attempt: String) -> Result<AuthAttempt, AppError> {
    let (_, session, _) = super::ssr::require_admin().await?;
    let finished: Option<Finished> = session
        .get(SESSION_FINISHED)
        .await
        .map_err(|_| AppError::Internal)?;
    if let Some(f) = finished.filter(|f| f.attempt == attempt) {
        return Ok(AuthAttempt::Finished(f.outcome));
    }
    let pending: Option<Pending> = session
        .get(SESSION_PENDING)
        .await
        .map_err(|_| AppError::Internal)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(match pending {
        Some(p) if p.attempt == attempt && now - p.created_at <= STATE_LIFETIME_SECS => {
            AuthAttempt::Waiting {
                consent_url: p.consent_url,
            }
        }
        _ => AuthAttempt::Gone,
    })
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

/// Fetches every agent from Zoho Desk (all pages). From the page's form, the refresh goes on
/// in the background: the answer waits until it has begun (or ended), and the page, live
/// while it runs, shows its count, then what it did (`users_last_refresh`).
#[server(endpoint = "helpdesk/users/refresh")]
pub async fn refresh_users() -> Result<RefreshReport, AppError> {
    let engine = match super::ssr::require_admin().await {
        Ok((engine, _, _)) => engine,
        Err(e) => {
            let refused: Result<(), AppError> = Err(e.clone());
            super::ssr::answer_plain_form("refresh".into(), &[], HELPDESK, &refused, |_| None)
                .await;
            return Err(e);
        }
    };
    if super::ssr::from_plain_form() {
        let mut progress = engine.directory.watch_users_refresh();
        let e = engine.clone();
        let mut refresh = tokio::spawn(async move { e.directory.refresh_agents(&e.zoho).await });
        tokio::select! {
            _ = progress.wait_for(|p| p.is_some()) => {}
            _ = &mut refresh => {}
        }
        let begun: Result<(), AppError> = Ok(());
        super::ssr::answer_plain_form("refresh".into(), &[], HELPDESK, &begun, |_| None).await;
        return Ok(RefreshReport::default());
    }
    Ok(engine.directory.refresh_agents(&engine.zoho).await?)
}

/// What the last refresh of the users did, or why it fetched nothing (`None` before the first
/// one since the start).
#[server(endpoint = "helpdesk/users/refresh/last")]
pub async fn users_last_refresh() -> Result<Option<Result<RefreshReport, RefreshFailure>>, AppError>
{
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.last_users_refresh())
}

/// How far the running refresh has got (`None` when none runs); the page polls it.
#[server(endpoint = "helpdesk/users/progress")]
pub async fn users_refresh_progress() -> Result<Option<RefreshProgress>, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.users_refresh_progress())
}

/// Auto Bind: active, unbound agents to the extension of the same e-mail. From the page's
/// form (the OK of its `?auto_bind=1` dialog), the page comes back saying what it did.
#[server(endpoint = "helpdesk/users/auto_bind")]
pub async fn auto_bind() -> Result<AutoBindReport, AppError> {
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        Ok(engine.directory.auto_bind().await?)
    }
    .await;
    super::ssr::answer_plain_form("auto_bind".into(), &[], HELPDESK, &result, |report| {
        serde_json::to_string(report).ok()
    })
    .await;
    result
}

#[server(endpoint = "helpdesk/users/save")]
pub async fn save_bindings(changes: Vec<BindingChange>) -> Result<(), AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.directory.save_bindings(changes).await?)
}

/// The page's bindings form: each row as it stands (`rows[i][agent_id]`, and
/// `rows[i][extension_id]`: an extension's id, or empty for none); only the rows that differ
/// from what is saved change, together or not at all. Returns how many changed.
#[server(endpoint = "helpdesk/users/save/form")]
pub async fn save_bindings_form(rows: Option<Vec<BindingRow>>) -> Result<usize, AppError> {
    let rows = rows.unwrap_or_default();
    let result = async {
        let (engine, _, _) = super::ssr::require_admin().await?;
        let saved = engine.directory.users_view().await?;
        let changes = binding_changes(&rows, &saved.users);
        let n = changes.len();
        engine.directory.save_bindings(changes).await?;
        Ok(n)
    }
    .await;
    // What was chosen comes back as one field (JSON), for the rows to show it again.
    let typed = [(
        BINDINGS_TYPED,
        serde_json::to_string(&rows).unwrap_or_default(),
    )];
    super::ssr::answer_plain_form("bindings".into(), &typed, HELPDESK, &result, |n| {
        Some(n.to_string())
    })
    .await;
    result
}

/// The field of a refused bindings form's flash that holds the rows as sent (JSON).
pub const BINDINGS_TYPED: &str = "rows";

/// The rows of the bindings form that differ from the `saved` users (an agent the form names
/// that is not among them has nothing to change).
pub fn binding_changes(
    rows: &[BindingRow],
    saved: &[crate::model::ZohoUser],
) -> Vec<BindingChange> {
    rows.iter()
        .filter_map(|row| {
            let now = saved.iter().find(|u| u.agent_id == row.agent_id)?;
            let wanted = row.extension_id.trim().parse::<i64>().ok();
            (wanted != now.extension_id).then(|| BindingChange {
                agent_id: row.agent_id.clone(),
                extension_id: wanted,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ZohoUser;

    #[test]
    fn only_the_rows_that_differ_from_what_is_saved_change() {
        let user = |id: &str, ext: Option<i64>| ZohoUser {
            agent_id: id.into(),
            name: id.into(),
            email: None,
            active: true,
            extension_id: ext,
            manual: false,
        };
        let saved = [user("1", Some(5)), user("2", None), user("3", Some(7))];
        let row = |id: &str, ext: &str| BindingRow {
            agent_id: id.into(),
            extension_id: ext.into(),
        };
        let rows = [
            row("1", "5"),
            row("2", " 9 "),
            row("3", ""),
            row("404", "1"),
        ];
        let change = |id: &str, ext| BindingChange {
            agent_id: id.into(),
            extension_id: ext,
        };
        assert_eq!(
            binding_changes(&rows, &saved),
            [change("2", Some(9)), change("3", None)]
        );
        assert!(binding_changes(&[row("1", "5")], &saved).is_empty());
    }
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
