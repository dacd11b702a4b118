//! Server functions of the call pages: the integration log and the simulator.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    CallDetail, CallSummary, LogFilter, PbxConsoleCall, SimAction, SimCall, WebhookInfo,
};

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

/// Changes whenever a call changes: a cheap question for a script that follows the calls.
#[server(endpoint = "calls/version")]
pub async fn calls_version() -> Result<String, AppError> {
    let (engine, _, _) = super::ssr::require_admin().await?;
    Ok(engine.intake.calls_version())
}

/// Runs a simulator action through the public intake; returns the call id. The simulator's
/// page posts a call's buttons (answer, hang up, let it ring out) here as plain forms.
#[server(endpoint = "calls/simulate")]
pub async fn simulate(action: SimAction) -> Result<String, AppError> {
    let form = match &action {
        SimAction::Answer { call_id, .. }
        | SimAction::HangUp { call_id }
        | SimAction::RingOut { call_id } => format!("call-{call_id}"),
        SimAction::Place { .. } => "place".into(),
        SimAction::Scenario { .. } => "scenario".into(),
    };
    let result = sim::run(action).await;
    super::ssr::answer_plain_form(form, &[], sim::PAGE, &result, |_| None).await;
    result
}

/// The simulator's form: places a call (`direction` `inbound` or `outbound`, from or to
/// `external_number`, on `extensions`), or runs the preset `scenario` on the extensions typed.
/// Answered with the page, which keeps what was typed in its address.
#[server(endpoint = "calls/simulate/form")]
pub async fn place_call(
    direction: String,
    external_number: String,
    extensions: String,
    scenario: Option<String>,
) -> Result<String, AppError> {
    let typed = [
        ("direction", direction.clone()),
        ("external_number", external_number.clone()),
        ("extensions", extensions.clone()),
    ];
    let scenario = scenario.filter(|s| !s.is_empty());
    let form = if scenario.is_some() {
        "scenario"
    } else {
        "place"
    };
    let action = match scenario {
        Some(name) => SimAction::Scenario {
            name,
            extension: extensions.clone(),
        },
        None => SimAction::Place {
            inbound: direction != "outbound",
            external_number: external_number.clone(),
            extensions: extensions.clone(),
        },
    };
    let result = sim::run(action).await;
    super::ssr::answer_plain_form_then(
        form.into(),
        &typed,
        sim::PAGE,
        &result,
        |id| (form == "scenario").then(|| id.clone()),
        |_, query| {
            query.retain(|(k, _)| !sim::TYPED.contains(&k.as_str()));
            query.extend(
                sim::TYPED
                    .iter()
                    .zip([direction, external_number, extensions])
                    .map(|(k, v)| (k.to_string(), v)),
            );
        },
    )
    .await;
    result
}

/// The simulator's calls: those placed from it in this sign-in, the recently ended among them,
/// and the calls in progress placed elsewhere (an agent's click to call, a real PBX), newest
/// first.
#[server(endpoint = "calls/simulator")]
pub async fn simulator_calls() -> Result<Vec<SimCall>, AppError> {
    let (engine, session, _) = super::ssr::require_admin().await?;
    let placed = sim::placed(&session).await;
    let open = engine
        .intake
        .call_log(
            &engine.directory,
            &LogFilter {
                outcome: "open".into(),
                ..Default::default()
            },
        )
        .await?;
    let mut list: Vec<SimCall> = open
        .iter()
        .filter(|s| s.direction != "internal" && !placed.iter().any(|p| p.call_id == s.call_id))
        .map(|s| SimCall {
            call_id: s.call_id.clone(),
            inbound: s.direction == "inbound",
            number: s.external_number.clone().unwrap_or_default(),
            extensions: s.extensions.clone(),
            answered: s.answered_by.clone(),
            ended: false,
        })
        .collect();
    for mut p in placed {
        if !p.ended {
            // The intake's word wins once it has heard of the call (a PBX's events may come
            // after the button that caused them).
            let now = match open.iter().find(|s| s.call_id == p.call_id) {
                Some(s) => Some(s.clone()),
                None => {
                    engine
                        .intake
                        .call_summary(&engine.directory, &p.call_id)
                        .await?
                }
            };
            if let Some(s) = now {
                p.ended = !s.open;
                p.answered = s.answered_by.or(p.answered);
            }
        }
        list.push(p);
    }
    Ok(list)
}

/// The simulator's calls as kept in the admin's session.
#[cfg(feature = "ssr")]
mod sim {
    use tower_sessions::Session;

    use crate::error::AppError;
    use crate::model::{extension_list, FieldProblem, SimAction, SimCall};

    /// The simulator's page: where its plain forms come back to.
    pub const PAGE: &str = "/pbx/simulator";
    /// The form's fields, kept in the page's address once a call is placed.
    pub const TYPED: [&str; 3] = ["direction", "external_number", "extensions"];
    const SESSION_CALLS: &str = "sim_calls";
    /// How many calls placed from the page it keeps showing.
    const KEPT: usize = 20;

    pub async fn placed(session: &Session) -> Vec<SimCall> {
        session
            .get::<Vec<SimCall>>(SESSION_CALLS)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Runs `action` for the signed-in admin, and keeps what it did to the page's calls.
    pub async fn run(action: SimAction) -> Result<String, AppError> {
        let (engine, session, _) = super::super::ssr::require_admin().await?;
        let result = crate::engine::calls::simulator::simulate(&engine, action.clone())
            .await
            .map_err(AppError::from);
        let mut calls = placed(&session).await;
        if remember(&mut calls, &action, &result) {
            let _ = session.insert(SESSION_CALLS, calls).await;
        }
        result
    }

    /// What `action`'s `result` changes in the page's `calls`; whether it changed them.
    pub fn remember(
        calls: &mut Vec<SimCall>,
        action: &SimAction,
        result: &Result<String, AppError>,
    ) -> bool {
        let gone = match result {
            Ok(_) => false,
            Err(AppError::NotFound) => true,
            Err(AppError::Invalid(e)) => e.iter().any(|e| e.problem == FieldProblem::CallEnded),
            Err(_) => return false,
        };
        let find =
            |calls: &mut Vec<SimCall>, id: &str| calls.iter_mut().position(|c| c.call_id == id);
        match action {
            SimAction::Place {
                inbound,
                external_number,
                extensions,
            } => {
                let Ok(id) = result else { return false };
                calls.retain(|c| &c.call_id != id);
                calls.insert(
                    0,
                    SimCall {
                        call_id: id.clone(),
                        inbound: *inbound,
                        number: external_number.trim().to_string(),
                        extensions: extension_list(extensions),
                        answered: None,
                        ended: false,
                    },
                );
                calls.truncate(KEPT);
            }
            SimAction::Answer { call_id, extension } if result.is_ok() => {
                let Some(i) = find(calls, call_id) else {
                    return false;
                };
                calls[i].answered = Some(extension.trim().to_string());
            }
            // Ended by the button, or found ended already.
            SimAction::Answer { call_id, .. }
            | SimAction::HangUp { call_id }
            | SimAction::RingOut { call_id }
                if result.is_ok() || gone =>
            {
                let Some(i) = find(calls, call_id) else {
                    return false;
                };
                calls[i].ended = true;
            }
            _ => return false,
        }
        true
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::model::FieldError;

        fn refused(field: &str, problem: FieldProblem) -> Result<String, AppError> {
            Err(AppError::Invalid(vec![FieldError {
                field: field.into(),
                problem,
            }]))
        }

        #[test]
        fn the_page_keeps_its_calls_as_its_buttons_left_them() {
            let mut calls = vec![];
            let place = SimAction::Place {
                inbound: false,
                external_number: " 0086-138-0013-8000 ".into(),
                extensions: "2005, 2006".into(),
            };
            assert!(remember(&mut calls, &place, &Ok("c1".into())));
            assert_eq!(calls[0].number, "0086-138-0013-8000");
            assert_eq!(calls[0].extensions, ["2005", "2006"]);
            assert!(!calls[0].inbound && !calls[0].ended && calls[0].answered.is_none());
            // A refused call is not the page's.
            let no = refused("extensions", FieldProblem::NoSuchExtension);
            assert!(!remember(&mut calls, &place, &no));
            assert_eq!(calls.len(), 1);

            // Answering a phone that is not ringing changes nothing; answering one does.
            let answer = |x: &str| SimAction::Answer {
                call_id: "c1".into(),
                extension: x.into(),
            };
            let not_ringing = refused("extension", FieldProblem::NotRinging);
            assert!(!remember(&mut calls, &answer("2007"), &not_ringing));
            assert_eq!((calls[0].answered.clone(), calls[0].ended), (None, false));
            assert!(remember(&mut calls, &answer(" 2006"), &Ok("c1".into())));
            assert_eq!(calls[0].answered.as_deref(), Some("2006"));
            // Another call's buttons leave it alone.
            let other = SimAction::HangUp {
                call_id: "c9".into(),
            };
            assert!(!remember(&mut calls, &other, &Ok("c9".into())));
            // Found ended already (here, or elsewhere): ended; another failure: as it was.
            let ring_out = SimAction::RingOut {
                call_id: "c1".into(),
            };
            assert!(!remember(&mut calls, &ring_out, &Err(AppError::Internal)));
            assert!(!calls[0].ended);
            let ended = refused("call", FieldProblem::CallEnded);
            assert!(remember(&mut calls, &ring_out, &ended));
            assert!(calls[0].ended);

            // The newest first, and only so many.
            for i in 0..30 {
                remember(&mut calls, &place, &Ok(format!("n{i}")));
            }
            assert_eq!(calls.len(), KEPT);
            assert_eq!(calls[0].call_id, "n29");
        }
    }
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
