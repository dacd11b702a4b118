//! The call simulator. With the PBX sandbox connected it is the sandbox's console: it places,
//! answers and ends calls *on the PBX sandbox* (`/sandbox/pbx/console`, and `call/dial` for
//! outbound calls), whose own events reach this app through its webhook, as a real PBX's would.
//! Without it, the simulator makes the events a PBX would send and delivers them through the
//! public intake, signed with the webhook secret — never through a side door.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::event::{Direction, EndResult, Kind};
use super::{now_ms, sign};
use crate::engine::{Engine, EngineError};
use crate::model::{FieldError, FieldProblem, PbxConsoleCall, PbxConsoleMember, SimAction};

/// The number outside callers dial on the PBX sandbox (its DID).
const SANDBOX_DID: &str = "6500";

/// A known caller of the sandbox, for the scenarios.
pub const KNOWN_CALLER: &str = crate::model::DEMO_CALLER;

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn invalid(field: &str, problem: FieldProblem) -> EngineError {
    EngineError::Invalid(vec![FieldError {
        field: field.into(),
        problem,
    }])
}

/// Which PBX the calls go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PbxMode {
    /// None is set up: the simulator posts the events to the intake.
    None,
    /// This process's PBX sandbox, and its console's address.
    Sandbox { console: String },
    /// Any other PBX.
    Real,
}

/// Sends a request to the PBX sandbox's console and reads its JSON answer.
async fn console_answer(req: reqwest::RequestBuilder) -> Result<Value, EngineError> {
    req.send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| EngineError::Intake(format!("the PBX sandbox could not be reached: {e}")))?
        .json()
        .await
        .map_err(|e| EngineError::Intake(format!("the PBX sandbox's answer: {e}")))
}

struct Sim {
    call_id: String,
    direction: Direction,
    number: String,
    events: Vec<Value>,
}

impl Sim {
    fn new(direction: Direction, number: &str) -> Sim {
        Sim {
            call_id: format!("sim{}.{}", now_ms(), rand::random::<u16>() % 1000),
            direction,
            number: number.to_string(),
            events: Vec::new(),
        }
    }

    fn existing(call_id: &str, direction: Direction, number: &str) -> Sim {
        Sim {
            call_id: call_id.to_string(),
            direction,
            number: number.to_string(),
            events: Vec::new(),
        }
    }

    fn push(&mut self, kind: Kind, at_ms: i64, ext: &str, result: Option<EndResult>) {
        let mut e = json!({
            "event_id": format!("{}-{}-{ext}", self.call_id, kind.as_str()),
            "call_id": self.call_id,
            "kind": kind.as_str(),
            "at": rfc3339(at_ms),
            "direction": self.direction.as_str(),
            "external_number": self.number,
            "extension": ext,
        });
        if let Some(r) = result {
            e["result"] = r.as_str().into();
        }
        self.events.push(e);
    }
}

/// Runs a simulator action; returns the call's id.
pub async fn simulate(engine: &Engine, action: SimAction) -> Result<String, EngineError> {
    if let PbxMode::Sandbox { console } = pbx_mode(engine).await? {
        return simulate_on_pbx(engine, &console, action).await;
    }
    let now = now_ms();
    let sim = match action {
        SimAction::Place {
            inbound,
            external_number,
            extensions,
        } => {
            let number = sim_number(&external_number)?;
            let exts = sim_extensions(engine, &extensions).await?;
            let dir = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            if !inbound && exts.len() > 1 {
                return Err(invalid("extensions", FieldProblem::OneExtension));
            }
            let mut s = Sim::new(dir, &number);
            for x in &exts {
                s.push(Kind::Ringing, now, x, None);
            }
            s
        }
        SimAction::Answer { call_id, extension } => {
            let (mut s, st) = sim_open_call(engine, &call_id).await?;
            let ext = extension.trim();
            if !st.ringing.contains_key(ext) {
                return Err(invalid("extension", FieldProblem::NotRinging));
            }
            s.push(Kind::Answered, now, ext, None);
            s
        }
        SimAction::HangUp { call_id } | SimAction::RingOut { call_id } => {
            let (mut s, st) = sim_open_call(engine, &call_id).await?;
            let (ext, result) = match &st.answered {
                Some((x, _)) => (x.clone(), EndResult::Answered),
                None => (
                    st.ringing.keys().next().cloned().unwrap_or_default(),
                    EndResult::NoAnswer,
                ),
            };
            s.push(Kind::Ended, now, &ext, Some(result));
            s
        }
        SimAction::Scenario { name, extension } => {
            let exts = sim_extensions(engine, &extension).await?;
            let first = exts[0].clone();
            match name.as_str() {
                "ring_group" => {
                    let mut s = Sim::new(Direction::Inbound, KNOWN_CALLER);
                    for x in &exts {
                        s.push(Kind::Ringing, now - 75_000, x, None);
                    }
                    let by = exts.last().cloned().unwrap_or(first);
                    s.push(Kind::Answered, now - 65_000, &by, None);
                    s.push(Kind::Ended, now, &by, Some(EndResult::Answered));
                    s
                }
                "missed" => {
                    let mut s = Sim::new(Direction::Inbound, KNOWN_CALLER);
                    s.push(Kind::Ringing, now - 30_000, &first, None);
                    s.push(Kind::Ended, now, &first, Some(EndResult::NoAnswer));
                    s
                }
                "unknown_caller" => {
                    let n = format!(
                        "+1 555 01{:02} {:04}",
                        rand::random::<u8>() % 100,
                        rand::random::<u16>() % 10_000
                    );
                    let mut s = Sim::new(Direction::Inbound, &n);
                    s.push(Kind::Ringing, now - 50_000, &first, None);
                    s.push(Kind::Answered, now - 45_000, &first, None);
                    s.push(Kind::Ended, now, &first, Some(EndResult::Answered));
                    s
                }
                "repeat_caller" => {
                    let last = engine
                        .intake
                        .call_log(&engine.directory, &Default::default())
                        .await?
                        .into_iter()
                        .find_map(|c| c.external_number)
                        .unwrap_or_else(|| KNOWN_CALLER.to_string());
                    let mut s = Sim::new(Direction::Inbound, &last);
                    s.push(Kind::Ringing, now - 20_000, &first, None);
                    s.push(Kind::Answered, now - 15_000, &first, None);
                    s.push(Kind::Ended, now, &first, Some(EndResult::Answered));
                    s
                }
                _ => return Err(invalid("scenario", FieldProblem::Required)),
            }
        }
    };
    deliver(engine, &sim.events).await?;
    Ok(sim.call_id)
}

/// The PBX sandbox's console, when the PBX connected is this process's PBX sandbox.
/// Which PBX calls go through, from one read of its setting.
pub(crate) async fn pbx_mode(engine: &Engine) -> Result<PbxMode, EngineError> {
    let Some(row) = engine.store.pbx_connection().await? else {
        return Ok(PbxMode::None);
    };
    let base = row.base_url.trim_end_matches('/');
    Ok(match &engine.config.sandbox {
        Some(sb) if base == sb.pbx_url.trim_end_matches('/') => PbxMode::Sandbox {
            console: format!("{base}/console"),
        },
        _ => PbxMode::Real,
    })
}

/// One hand on the PBX sandbox's phones; the call's id when the console names one.
async fn console(engine: &Engine, url: &str, body: Value) -> Result<Option<String>, EngineError> {
    let v = console_answer(engine.zoho.http.post(url).json(&body)).await?;
    if v["ok"] == true {
        return Ok(v["call_id"].as_str().map(str::to_string));
    }
    Err(match v["problem"].as_str() {
        Some("no_such_call") => EngineError::NotFound,
        Some("not_ringing") => invalid("extension", FieldProblem::NotRinging),
        Some("no_such_extension") => invalid("extensions", FieldProblem::NoSuchExtension),
        _ => EngineError::Intake(format!(
            "the PBX sandbox: {}",
            v["error"].as_str().unwrap_or("refused")
        )),
    })
}

/// The simulator's action done on the PBX sandbox.
pub(crate) async fn simulate_on_pbx(
    engine: &Engine,
    url: &str,
    action: SimAction,
) -> Result<String, EngineError> {
    let ring_in = |from: &str, exts: &[String]| json!({ "ring_in": { "from": from, "did": SANDBOX_DID, "extensions": exts } });
    let pick_up =
        |id: &str, number: &str| json!({ "pick_up": { "call_id": id, "number": number } });
    let id_of = |r: Option<String>| {
        r.ok_or_else(|| EngineError::Intake("the PBX sandbox named no call".into()))
    };
    match action {
        SimAction::Place {
            inbound,
            external_number,
            extensions,
        } => {
            let number = sim_number(&external_number)?;
            let exts = sim_extensions(engine, &extensions).await?;
            if inbound {
                return id_of(console(engine, url, ring_in(&number, &exts)).await?);
            }
            if exts.len() > 1 {
                return Err(invalid("extensions", FieldProblem::OneExtension));
            }
            // Dialled from the extension's phone: it is off the hook already.
            let api = engine.pbx_connection.api().await?;
            Ok(api.dial_with(&exts[0], &number, true).await?)
        }
        SimAction::Answer { call_id, extension } => {
            console(engine, url, pick_up(&call_id, extension.trim())).await?;
            Ok(call_id)
        }
        SimAction::HangUp { call_id } | SimAction::RingOut { call_id } => {
            console(engine, url, json!({ "hang_up": call_id })).await?;
            Ok(call_id)
        }
        SimAction::Scenario { name, extension } => {
            let exts = sim_extensions(engine, &extension).await?;
            let first = exts[0].clone();
            let (from, ring, answer_by) = match name.as_str() {
                "ring_group" => (KNOWN_CALLER.to_string(), exts.clone(), exts.last().cloned()),
                "missed" => (KNOWN_CALLER.to_string(), vec![first], None),
                "unknown_caller" => (
                    format!(
                        "+1 555 01{:02} {:04}",
                        rand::random::<u8>() % 100,
                        rand::random::<u16>() % 10_000
                    ),
                    vec![first.clone()],
                    Some(first),
                ),
                "repeat_caller" => (
                    engine
                        .intake
                        .call_log(&engine.directory, &Default::default())
                        .await?
                        .into_iter()
                        .find_map(|c| c.external_number)
                        .unwrap_or_else(|| KNOWN_CALLER.to_string()),
                    vec![first.clone()],
                    Some(first),
                ),
                _ => return Err(invalid("scenario", FieldProblem::Required)),
            };
            let id = id_of(console(engine, url, ring_in(&from, &ring)).await?)?;
            if let Some(x) = answer_by {
                console(engine, url, pick_up(&id, &x)).await?;
            }
            console(engine, url, json!({ "hang_up": id })).await?;
            Ok(id)
        }
    }
}

/// The PBX sandbox's calls in progress (`None` when the PBX connected is not the sandbox).
pub async fn pbx_console_calls(
    engine: &Engine,
) -> Result<Option<Vec<PbxConsoleCall>>, EngineError> {
    let PbxMode::Sandbox { console } = pbx_mode(engine).await? else {
        return Ok(None);
    };
    let v = console_answer(engine.zoho.http.get(console)).await?;
    let member = |m: &Value| {
        let (kind, f) = m.as_object()?.iter().next()?;
        let number = match kind.as_str() {
            "extension" => &f["number"],
            "inbound" => &f["from"],
            _ => &f["to"],
        };
        Some(PbxConsoleMember {
            kind: kind.clone(),
            number: number.as_str().unwrap_or_default().to_string(),
            status: f["member_status"].as_str().unwrap_or_default().to_string(),
        })
    };
    let calls = v["calls"].as_array().cloned().unwrap_or_default();
    Ok(Some(
        calls
            .iter()
            .map(|c| PbxConsoleCall {
                call_id: c["call_id"].as_str().unwrap_or_default().to_string(),
                members: c["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(member)
                    .collect(),
            })
            .collect(),
    ))
}

/// A number typed into the simulator or dialled by an agent: digits and what people type
/// between them, at least three digits.
pub(crate) fn sim_number(raw: &str) -> Result<String, EngineError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(invalid("external_number", FieldProblem::Required));
    }
    let ok = n.len() <= 32
        && n.chars().filter(char::is_ascii_digit).count() >= 3
        && n.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'));
    if ok {
        Ok(n.to_string())
    } else {
        Err(invalid("external_number", FieldProblem::NotPhoneNumber))
    }
}

/// Comma- or space-separated extension numbers, each an extension of the PBX.
async fn sim_extensions(engine: &Engine, raw: &str) -> Result<Vec<String>, EngineError> {
    let wanted = crate::model::extension_list(raw);
    if wanted.is_empty() {
        return Err(invalid("extensions", FieldProblem::Required));
    }
    let known = engine.store.extensions().await?;
    if let Some(_missing) = wanted
        .iter()
        .find(|w| !known.iter().any(|e| &e.number == *w))
    {
        return Err(invalid("extensions", FieldProblem::NoSuchExtension));
    }
    Ok(wanted)
}

async fn sim_open_call(
    engine: &Engine,
    call_id: &str,
) -> Result<(Sim, super::machine::CallState), EngineError> {
    let row = engine
        .store
        .call(call_id)
        .await?
        .ok_or(EngineError::NotFound)?;
    if !row.is_open {
        return Err(invalid("call", FieldProblem::CallEnded));
    }
    let st = row.state;
    let sim = Sim::existing(
        call_id,
        st.direction,
        st.external_number.as_deref().unwrap_or_default(),
    );
    Ok((sim, st))
}

/// POSTs events to this app's own intake, signed like a PBX.
async fn deliver(engine: &Engine, events: &[Value]) -> Result<(), EngineError> {
    let secret = engine
        .intake
        .webhook_secret()
        .ok_or(EngineError::NotConfigured)?;
    let body = serde_json::to_vec(events).unwrap_or_default();
    let resp = engine
        .zoho
        .http
        .post(format!("{}/api/pbx/call-events", engine.public_url()))
        .header("Content-Type", "application/json")
        .header("X-Helpdesk-Signature", sign(secret.expose(), &body))
        .body(body)
        .send()
        .await
        .map_err(|e| EngineError::Intake(format!("the intake could not be reached: {e}")))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Err(EngineError::Intake(format!(
            "the intake answered {status}: {text}"
        )))
    }
}
