//! The agent's side (requirements §7, §8): what the agent web client sees of its extension's
//! calls, the screen pop, and click to call.
//!
//! Every change of a call is published once, after its transaction committed, to the
//! extensions it concerns ([`AgentHub`]); the client's live connection (server-sent events,
//! in the server crate) forwards only its own extension's. A screen pop is offered when a bound
//! extension rings with an inbound call from a known Zoho Desk record, while the integration
//! is on: at once when the number is in the lookup cache, else as soon as the call's contact
//! job has found (or created) the record. Each offer is claimed once per call and extension,
//! so an agent with several tabs gets one new tab, not several.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::calls::event::Direction;
use super::calls::log::clock;
use super::calls::machine::CallState;
use super::calls::simulator::{self, PbxMode};
use super::calls::Switch;
use super::lookup::ZohoRecord;
use super::{Engine, EngineError};
use crate::model::{
    AgentCall, AgentCallState, AgentCalls, AgentEvent, CallerView, FieldProblem, ScreenPop,
    SimAction,
};

/// How many events may wait for a slow client before it skips some (and re-reads its calls).
const CHANNEL: usize = 1024;
/// An unclaimed offer is kept this long (a call rings far shorter).
const OFFER_TTL: Duration = Duration::from_secs(600);
/// Ended calls the client lists.
const RECENT: usize = 20;

/// An event for one extension.
#[derive(Clone, Debug)]
pub struct ExtensionEvent {
    pub extension: String,
    pub event: AgentEvent,
}

#[derive(Debug)]
struct Offer {
    pop: ScreenPop,
    claimed: bool,
    at: Instant,
}

/// The agents' live events and the screen-pop offers.
#[derive(Debug)]
pub struct AgentHub {
    tx: broadcast::Sender<ExtensionEvent>,
    /// (call, extension) → the pop offered for it.
    offers: Mutex<HashMap<(String, String), Offer>>,
}

impl Default for AgentHub {
    fn default() -> Self {
        AgentHub {
            tx: broadcast::Sender::new(CHANNEL),
            offers: Mutex::new(HashMap::new()),
        }
    }
}

impl AgentHub {
    /// Every extension's live events; the reader keeps its own extension's.
    pub fn events(&self) -> broadcast::Receiver<ExtensionEvent> {
        self.tx.subscribe()
    }

    /// Live connections open now (each tab of each agent).
    pub fn connections(&self) -> usize {
        self.tx.receiver_count()
    }

    fn publish(&self, extension: &str, event: AgentEvent) {
        // No receiver (nobody signed in) is not an error.
        let _ = self.tx.send(ExtensionEvent {
            extension: extension.to_string(),
            event,
        });
    }

    /// Records an offer and publishes it, once per call and extension.
    fn offer(&self, extension: &str, pop: ScreenPop) -> bool {
        let key = (pop.call_id.clone(), extension.to_string());
        {
            let mut offers = self.offers.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            offers.retain(|_, o| now.duration_since(o.at) < OFFER_TTL);
            if offers.contains_key(&key) {
                return false;
            }
            offers.insert(
                key,
                Offer {
                    pop: pop.clone(),
                    claimed: false,
                    at: now,
                },
            );
        }
        self.publish(extension, AgentEvent::Pop(pop));
        true
    }

    /// The first claim of an offer wins; every later one (another tab) is refused.
    pub(crate) fn claim(&self, extension: &str, call_id: &str) -> bool {
        let mut offers = self.offers.lock().unwrap_or_else(|p| p.into_inner());
        match offers.get_mut(&(call_id.to_string(), extension.to_string())) {
            Some(o) if !o.claimed => {
                o.claimed = true;
                true
            }
            _ => false,
        }
    }

    /// Offers not yet claimed for these calls of `extension` (a client that reconnects while
    /// its extension rings still gets its pop).
    fn unclaimed(&self, extension: &str, call_ids: &[&str]) -> Vec<ScreenPop> {
        let offers = self.offers.lock().unwrap_or_else(|p| p.into_inner());
        call_ids
            .iter()
            .filter_map(|c| offers.get(&(c.to_string(), extension.to_string())))
            .filter(|o| !o.claimed)
            .map(|o| o.pop.clone())
            .collect()
    }

    /// Tells the agents of a call's extensions that the PBX could not place it (30015).
    pub fn call_failed(&self, failure: &super::calls::event::CallFailure) {
        for x in &failure.extensions {
            self.publish(
                x,
                AgentEvent::DialFailed(crate::model::DialFailure {
                    call_id: failure.call_id.clone(),
                    reason: failure.reason.clone(),
                }),
            );
        }
    }

    fn forget_call(&self, call_id: &str) {
        self.offers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(c, _), _| c != call_id);
    }
}

/// The extensions a call concerns: those that rang, answered or ended it.
pub fn involved(st: &CallState) -> Vec<String> {
    let mut v: Vec<String> = st.ringing.keys().cloned().collect();
    if let Some((x, _)) = &st.answered {
        v.push(x.clone());
    }
    if let Some(x) = st.ended.as_ref().and_then(|e| e.extension.clone()) {
        v.push(x);
    }
    v.sort();
    v.dedup();
    v
}

/// Where `st` stands for `extension`.
pub fn state_for(st: &CallState, extension: &str) -> (AgentCallState, bool) {
    let elsewhere = matches!(&st.answered, Some((x, _)) if x != extension);
    let state = if st.ended.is_some() || elsewhere {
        AgentCallState::Ended
    } else if st.answered.is_some() {
        AgentCallState::Talking
    } else {
        AgentCallState::Ringing
    };
    (state, elsewhere)
}

fn caller_of(engine: &Engine, rec: &ZohoRecord) -> CallerView {
    CallerView {
        name: rec.name.clone(),
        url: rec
            .web_url
            .as_deref()
            .and_then(|u| engine.zoho.trusted_zoho_link(u)),
        module: rec.module,
    }
}

/// The Zoho Desk record of a call's number, from the cache, when the integration is on
/// and the extension bound (otherwise the agent client shows the number only).
fn known_caller(engine: &Engine, st: &CallState, extension: &str) -> Option<ZohoRecord> {
    if engine.zoho.switch() != Switch::On
        || st.direction == Direction::Internal
        || engine.directory.get().by_extension(extension).is_none()
    {
        return None;
    }
    engine.lookup.cache.get(st.number_key.as_deref()?).flatten()
}

/// A call as `extension` sees it.
pub fn agent_call(engine: &Engine, st: &CallState, extension: &str) -> AgentCall {
    let (state, answered_elsewhere) = state_for(st, extension);
    let outcome = st.outcome();
    AgentCall {
        call_id: st.call_id.clone(),
        direction: st.direction.as_str().to_string(),
        number: st.external_number.clone().unwrap_or_default(),
        state,
        started: clock(st.first_at_ms, engine.pbx_utc_offset()),
        started_ms: st.first_at_ms,
        call_type: outcome.as_ref().map(|o| o.call_type.as_str().to_string()),
        answered_elsewhere,
        talk_secs: outcome
            .as_ref()
            .filter(|o| o.extension.as_deref() == Some(extension))
            .map(|o| o.talk_secs),
        caller: known_caller(engine, st, extension)
            .as_ref()
            .map(|r| caller_of(engine, r)),
    }
}

/// After calls changed (their transaction committed): tells every extension concerned,
/// and offers the pops that the lookup cache can answer now. `rang` are the (call,
/// extension) pairs that started ringing for Zoho in this change.
pub(crate) fn publish_calls(engine: &Engine, states: &[CallState], rang: &[(String, String)]) {
    // The intake's path: no agent connected, no views to build (offers are still kept).
    let listening = engine.agents.connections() > 0;
    for st in states {
        for x in involved(st).iter().filter(|_| listening) {
            engine
                .agents
                .publish(x, AgentEvent::Call(agent_call(engine, st, x)));
        }
        if st.ended.is_some() {
            engine.agents.forget_call(&st.call_id);
        }
    }
    for (call_id, x) in rang {
        let Some(st) = states.iter().find(|s| &s.call_id == call_id) else {
            continue;
        };
        if let Some(rec) = known_caller(engine, st, x) {
            offer_pop(engine, st, x, &rec);
        }
    }
}

/// Offers a pop of `rec` to `extension` if the call still rings there (inbound calls of
/// a bound extension, integration on).
fn offer_pop(engine: &Engine, st: &CallState, extension: &str, rec: &ZohoRecord) {
    let ringing = state_for(st, extension).0 == AgentCallState::Ringing;
    if st.direction != Direction::Inbound
        || !ringing
        || engine.zoho.switch() != Switch::On
        || engine.directory.get().by_extension(extension).is_none()
    {
        return;
    }
    // Only a page of the connected Zoho Desk opens by itself.
    let Some(url) = rec
        .web_url
        .as_deref()
        .and_then(|u| engine.zoho.trusted_zoho_link(u))
    else {
        return;
    };
    let pop = ScreenPop {
        call_id: st.call_id.clone(),
        number: st.external_number.clone().unwrap_or_default(),
        name: rec.name.clone(),
        url,
    };
    if engine.agents.offer(extension, pop) {
        engine.metrics.inc("helpdesk_screen_pops_total", &[]);
    }
}

/// The call's contact job found or created its record: pop it on the extensions that
/// still ring, and show the caller's name on every extension of the call.
pub(crate) async fn caller_found(engine: &Engine, call_id: &str, rec: &ZohoRecord) {
    let st = match engine.store.call(call_id).await {
        Ok(Some(row)) => row.state,
        _ => return,
    };
    if st.ended.is_some() {
        return;
    }
    for x in involved(&st) {
        engine
            .agents
            .publish(&x, AgentEvent::Call(agent_call(engine, &st, &x)));
        offer_pop(engine, &st, &x, rec);
    }
}

/// Claims a pop for one of the agent's tabs: true for the first claim only, whichever
/// instance each tab reached (PostgreSQL: the database decides between instances).
pub async fn claim_pop(
    engine: &Engine,
    extension: &str,
    call_id: &str,
) -> Result<bool, EngineError> {
    if !engine.agents.claim(extension, call_id) {
        return Ok(false);
    }
    if engine.store.dialect() == super::store::Dialect::Postgres {
        if !engine
            .store
            .claim_pop(call_id, extension, super::calls::now_ms())
            .await?
        {
            return Ok(false);
        }
        engine.bus.tell(super::bus::Notice::Claimed {
            call_id: call_id.to_string(),
            extension: extension.to_string(),
        });
    }
    Ok(true)
}

/// The extension's calls in progress and its latest ended ones.
pub async fn agent_calls(engine: &Engine, extension: &str) -> Result<AgentCalls, EngineError> {
    let rows = engine
        .store
        .calls(&super::store::calls::CallFilter {
            extension: Some(extension.to_string()),
            limit: 50,
            ..Default::default()
        })
        .await?;
    let mut out = AgentCalls::default();
    for row in &rows {
        let call = agent_call(engine, &row.state, extension);
        if call.state == AgentCallState::Ended {
            if out.recent.len() < RECENT {
                out.recent.push(call);
            }
        } else {
            out.active.push(call);
        }
    }
    Ok(out)
}

/// Pops offered to `extension` for calls still ringing there and not yet claimed.
pub async fn pending_pops(engine: &Engine, extension: &str) -> Result<Vec<ScreenPop>, EngineError> {
    let calls = agent_calls(engine, extension).await?;
    let ringing: Vec<&str> = calls
        .active
        .iter()
        .filter(|c| c.state == AgentCallState::Ringing)
        .map(|c| c.call_id.as_str())
        .collect();
    Ok(engine.agents.unclaimed(extension, &ringing))
}

/// The agent answers its ringing inbound call, or hangs up the call it is on (or the
/// outbound call it is still dialling), as the PBX's own client would. With a PBX
/// connected, a hang-up is `call/hangup` on the agent's own channel, and an answer is the
/// phone's to give; without one, the simulator acts, so the PBX's events come through the
/// intake. Another extension's call is "not found".
pub async fn agent_call_control(
    engine: &Engine,
    extension: &str,
    call_id: &str,
    answer: bool,
) -> Result<(), EngineError> {
    let row = engine
        .store
        .call(call_id)
        .await?
        .ok_or(EngineError::NotFound)?;
    let st = row.state;
    let mine = st.ringing.contains_key(extension)
        || matches!(&st.answered, Some((x, _)) if x == extension);
    if !mine {
        return Err(EngineError::NotFound);
    }
    let action = match (answer, state_for(&st, extension).0, st.direction) {
        (_, AgentCallState::Ended, _) => return Err(call_problem(FieldProblem::CallEnded)),
        (true, AgentCallState::Ringing, Direction::Inbound) => SimAction::Answer {
            call_id: call_id.to_string(),
            extension: extension.to_string(),
        },
        (false, AgentCallState::Talking, _)
        | (false, AgentCallState::Ringing, Direction::Outbound) => SimAction::HangUp {
            call_id: call_id.to_string(),
        },
        _ => return Err(call_problem(FieldProblem::NotRinging)),
    };
    match simulator::pbx_mode(engine).await? {
        PbxMode::None => return simulator::simulate(engine, action).await.map(|_| ()),
        // The PBX sandbox can pick up the agent's phone; a real PBX's phone answers itself.
        PbxMode::Sandbox { console } if answer => {
            return simulator::simulate_on_pbx(engine, &console, action)
                .await
                .map(|_| ())
        }
        PbxMode::Real if answer => return Err(call_problem(FieldProblem::AnswerOnPhone)),
        _ => {}
    }
    let api = engine.pbx_connection.api().await?;
    let channel = api
        .calls_of_extension(extension)
        .await?
        .into_iter()
        .filter(|c| c.call_id == call_id)
        .flat_map(|c| c.members)
        .find(|m| m.extension.as_deref() == Some(extension))
        .map(|m| m.channel_id)
        .ok_or_else(|| call_problem(FieldProblem::CallEnded))?;
    api.hangup(&channel).await?;
    Ok(())
}

/// Whether the agent client may offer Answer: without a PBX (the simulator answers) or with
/// the PBX sandbox (its console picks up); never on a real PBX (`accept_inbound` routes a
/// call, it does not answer it: the phone does).
pub async fn agent_can_answer(engine: &Engine) -> Result<bool, EngineError> {
    Ok(simulator::pbx_mode(engine).await? != PbxMode::Real)
}

/// Click to call: the PBX rings the agent's extension, then dials `number` (as dialled,
/// cleaned of what a link adds). Through the connected PBX's `call/dial` (asking the phone
/// to pick up by itself when the PBX is set so), else the simulator's outbound path, which
/// posts the call's events to the intake. Returns the call's id.
pub async fn agent_dial(
    engine: &Engine,
    extension: &str,
    number: &str,
) -> Result<String, EngineError> {
    let number = simulator::sim_number(&crate::model::dial_string(number))?;
    if let Some(row) = engine.store.pbx_connection().await? {
        let api = engine.pbx_connection.api().await?;
        return Ok(api.dial_with(extension, &number, row.auto_answer).await?);
    }
    simulator::simulate(
        engine,
        SimAction::Place {
            inbound: false,
            external_number: number,
            extensions: extension.to_string(),
        },
    )
    .await
}

fn call_problem(problem: FieldProblem) -> EngineError {
    EngineError::Invalid(vec![crate::model::FieldError {
        field: "call".into(),
        problem,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn call(ringing: &[&str], answered: Option<&str>, ended: bool) -> CallState {
        CallState {
            call_id: "c1".into(),
            direction: Direction::Inbound,
            external_number: Some("5503301".into()),
            first_at_ms: 1,
            last_at_ms: 2,
            ringing: ringing
                .iter()
                .map(|x| (x.to_string(), 1))
                .collect::<BTreeMap<_, _>>(),
            answered: answered.map(|x| (x.to_string(), 2)),
            ended: ended.then(|| super::super::calls::machine::EndedAt {
                result: super::super::calls::event::EndResult::Answered,
                at_ms: 3,
                extension: answered.map(str::to_string),
                timed_out: false,
                talk_secs: None,
                recording: None,
            }),
            number_key: Some("+15503301".into()),
        }
    }

    #[test]
    fn states_per_extension() {
        let ring = call(&["2005", "2006"], None, false);
        assert_eq!(state_for(&ring, "2005").0, AgentCallState::Ringing);
        let talk = call(&["2005", "2006"], Some("2006"), false);
        assert_eq!(state_for(&talk, "2006"), (AgentCallState::Talking, false));
        // The other member of the ring group: over for it, answered elsewhere.
        assert_eq!(state_for(&talk, "2005"), (AgentCallState::Ended, true));
        let done = call(&["2005"], Some("2005"), true);
        assert_eq!(state_for(&done, "2005"), (AgentCallState::Ended, false));
        assert_eq!(involved(&talk), vec!["2005", "2006"]);
    }

    #[test]
    fn one_claim_per_call_and_extension() {
        let hub = AgentHub::default();
        let pop = ScreenPop {
            call_id: "c1".into(),
            number: "5503301".into(),
            name: "Jane".into(),
            url: "http://x/c".into(),
        };
        let mut rx = hub.tx.subscribe();
        assert!(hub.offer("2005", pop.clone()));
        assert!(!hub.offer("2005", pop.clone()), "offered once");
        assert!(
            hub.offer("2006", pop.clone()),
            "another extension of the ring group"
        );
        assert_eq!(rx.try_recv().unwrap().extension, "2005");
        assert_eq!(rx.try_recv().unwrap().extension, "2006");
        assert!(rx.try_recv().is_err());
        assert_eq!(hub.unclaimed("2005", &["c1"]).len(), 1);
        assert!(!hub.claim("2007", "c1"), "not offered there");
        assert!(hub.claim("2005", "c1"));
        assert!(!hub.claim("2005", "c1"), "a second tab gets nothing");
        assert!(hub.unclaimed("2005", &["c1"]).is_empty());
        hub.forget_call("c1");
        assert!(!hub.claim("2006", "c1"));
    }
}
