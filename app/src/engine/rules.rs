//! The rules (requirements §3–§6): which Zoho work a call fact causes, and the words that
//! work writes into Zoho (ticket subjects, descriptions). Pure code; the settings are cached in
//! the engine and read by the intake for every fact.

use serde::{Deserialize, Serialize};

use super::calls::event::Direction;
use super::calls::machine::{CallType, Fact, Outcome};
use super::directory::BoundAgent;
use super::queue::{key, Job};
use super::store::jobs::NewJob;
use crate::model::{RuleSettings, ZohoModule};

/// Where matched records are synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTarget {
    pub module: ZohoModule,
    pub group_id: i64,
}

/// What the jobs of one call need (the settings as they were when the call happened).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallWork {
    pub call_id: String,
    pub direction: Direction,
    pub number: String,
    pub number_key: String,
    pub extension: Option<String>,
    pub extension_name: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    /// Unknown numbers are created as this (contact job).
    pub create_as: Option<ZohoModule>,
    /// Matched records are synced there (contact job).
    pub sync: Option<SyncTarget>,
    pub department_id: Option<String>,
    /// The ended call (ticket and call-log jobs).
    pub outcome: Option<Outcome>,
}

/// What a creation needs: shared by every call from the number. Strict, so a call's work
/// stored under the wrong kind is refused rather than read as a creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWork {
    pub number: String,
    pub number_key: String,
    pub create_as: ZohoModule,
}

pub fn wants_ticket(s: &RuleSettings, t: CallType) -> bool {
    s.create_tickets
        && match t {
            CallType::InboundAnswered => s.ticket_inbound_answered,
            CallType::InboundMissed => s.ticket_inbound_missed,
            CallType::OutboundAnswered => s.ticket_outbound_answered,
            CallType::OutboundUnanswered => s.ticket_outbound_unanswered,
        }
}

fn any_rule(s: &RuleSettings) -> bool {
    s.sync_contacts || s.create_contacts || s.create_tickets || s.log_calls
}

/// The jobs a fact for Zoho causes under the settings `s` (none for facts that mean no Zoho
/// work: the caller decides that). Keys make a second planning of the same work a no-op.
pub fn plan(
    fact: &Fact,
    call_id: &str,
    direction: Direction,
    number_key: &str,
    agent: Option<&BoundAgent>,
    s: &RuleSettings,
) -> Vec<NewJob> {
    // An inbound call that rings is looked up even with every rule off: the agent's screen
    // pop needs the caller's record (requirements §7).
    let pop_lookup = direction == Direction::Inbound && matches!(fact, Fact::Ringing { .. });
    if direction == Direction::Internal || (!any_rule(s) && !pop_lookup) {
        return Vec::new();
    }
    let (number, outcome) = match fact {
        Fact::Ringing {
            external_number, ..
        } => (external_number.clone(), None),
        Fact::Ended(o) => (o.external_number.clone(), Some(o.clone())),
    };
    let create_as = (s.create_contacts
        && match direction {
            Direction::Inbound => s.create_inbound,
            _ => s.create_outbound,
        })
    .then_some(s.create_as);
    let sync = match (s.sync_contacts, s.sync_group_id) {
        (true, Some(group_id)) => Some(SyncTarget {
            module: s.sync_module,
            group_id,
        }),
        _ => None,
    };
    let work = CallWork {
        call_id: call_id.to_string(),
        direction,
        number,
        number_key: number_key.to_string(),
        // The bound agent's own extension (for a missed ring group call, the first bound one
        // that rang), else the one the fact names.
        extension: agent
            .map(|a| a.extension_number.clone())
            .or_else(|| fact.extension().map(str::to_string)),
        extension_name: agent.map(|a| a.extension_name.clone()),
        agent_id: agent.map(|a| a.agent_id.clone()),
        agent_name: agent.map(|a| a.agent_name.clone()),
        create_as,
        sync,
        department_id: s.department_id.clone(),
        outcome,
    };
    // One job per kind; each after the one before it (the ticket after the lookup, the call
    // activity after the ticket, which it is linked to).
    let mut chain = vec![Job::Contact(work.clone())];
    if let Fact::Ended(o) = fact {
        if wants_ticket(s, o.call_type) {
            chain.push(Job::Ticket(work.clone()));
        }
        if s.log_calls {
            chain.push(Job::CallLog(work));
        }
    }
    let mut last: Option<String> = None;
    chain
        .into_iter()
        .map(|job| {
            let k = key::call(call_id, job.kind());
            let waits_for = last.replace(k.clone());
            NewJob {
                key: k,
                job,
                call_id: Some(call_id.to_string()),
                waits_for,
            }
        })
        .collect()
}

// --- words written into Zoho -----------------------------------------------------------------

/// The call-type words of ticket subjects: the manual's "Inbound Completed" for an answered
/// inbound call, and the same pattern for the three others.
pub fn subject_words(t: CallType) -> &'static str {
    match t {
        CallType::InboundAnswered => "Inbound Completed",
        CallType::InboundMissed => "Inbound Missed",
        CallType::OutboundAnswered => "Outbound Completed",
        CallType::OutboundUnanswered => "Outbound Unanswered",
    }
}

fn agent_party(w: &CallWork) -> String {
    let ext = w.extension.as_deref().unwrap_or("");
    let name = w
        .agent_name
        .as_deref()
        .or(w.extension_name.as_deref())
        .unwrap_or("");
    format!("{name}<{ext}>")
}

/// `Inbound Completed - from <5503301> to Kristin Hale<2005>` (the manual's screenshot);
/// outbound calls go `from Kristin Hale<2005> to <5503301>`. At most 255 characters.
pub fn ticket_subject(w: &CallWork, t: CallType) -> String {
    let external = format!("<{}>", w.number);
    let agent = agent_party(w);
    let (from, to) = match w.direction {
        Direction::Outbound => (agent, external),
        _ => (external, agent),
    };
    let s = format!("{} - from {from} to {to}", subject_words(t));
    s.chars().take(255).collect()
}

/// The marker only this call can produce: tickets and call activities carry it, so an
/// uncertain retry can find what an earlier attempt made.
pub fn call_marker(call_id: &str) -> String {
    format!("PBX call ID: {call_id}")
}

fn duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min {} s", s / 3600, (s % 3600) / 60, s % 60),
    }
}

/// A time in the PBX's clock with its offset.
pub fn pbx_time(ms: i64, offset: time::UtcOffset) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    let (h, m, _) = offset.as_hms();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} (UTC{}{:02}:{:02})",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        if h < 0 || m < 0 { '-' } else { '+' },
        h.abs(),
        m.abs()
    )
}

/// The ticket's (and call activity's) description: the call's details, the link to its
/// recording (`recordings` is this app's `/recordings` address) and its marker.
pub fn call_description(
    w: &CallWork,
    o: &Outcome,
    offset: time::UtcOffset,
    recordings: &str,
) -> String {
    let mut lines = Vec::new();
    let agent = agent_party(w);
    lines.push(match w.direction {
        Direction::Outbound => format!("Outbound call from {agent} to {}.", w.number),
        _ => format!("Inbound call from {} to {agent}.", w.number),
    });
    lines.push(format!("Call type: {}", o.call_type.as_str()));
    lines.push(format!("Started: {}", pbx_time(o.started_ms, offset)));
    if let Some(a) = o.answered_ms {
        lines.push(format!("Answered: {}", pbx_time(a, offset)));
    }
    lines.push(format!("Ended: {}", pbx_time(o.ended_ms, offset)));
    lines.push(format!(
        "Ringing: {}; talk: {}",
        duration(o.ring_secs),
        duration(o.talk_secs)
    ));
    if o.rang.len() > 1 {
        lines.push(format!("Extensions rung: {}", o.rang.join(", ")));
    }
    if o.timed_out {
        lines.push("The PBX never reported the end; closed by timeout.".into());
    }
    if o.recording.is_some() {
        lines.push(format!("Recording: {recordings}/{}", w.call_id));
    }
    lines.push(call_marker(&w.call_id));
    lines.join("\n")
}

/// The name of an automatically created record: the manual's prefix, then the number.
pub fn automatic_name(module: ZohoModule, number: &str) -> String {
    match module {
        ZohoModule::Contacts => format!("Automatic New Contact {number}"),
        ZohoModule::Accounts => format!("Automatic New Account {number}"),
    }
}

/// Zoho's time format for call activities: `2016-07-25T16:52:11.000Z`.
pub fn zoho_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A Zoho Desk time (`2026-12-04T20:40:55.000Z`) in ms since the epoch.
pub fn zoho_time_ms(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobKind;

    /// The call's work a planned job carries.
    fn work_of(j: &NewJob) -> CallWork {
        match &j.job {
            Job::Contact(w) | Job::Ticket(w) | Job::CallLog(w) => w.clone(),
            other => panic!("not a call's job: {other:?}"),
        }
    }
    use crate::engine::calls::event::EndResult;

    fn agent() -> BoundAgent {
        BoundAgent {
            extension_id: 1,
            extension_number: "2005".into(),
            extension_name: "Kristin".into(),
            agent_id: "900".into(),
            agent_name: "Kristin Hale".into(),
            agent_email: None,
        }
    }

    fn outcome(t: CallType) -> Outcome {
        Outcome {
            call_type: t,
            result: if matches!(t, CallType::InboundAnswered | CallType::OutboundAnswered) {
                EndResult::Answered
            } else {
                EndResult::NoAnswer
            },
            external_number: "5503301".into(),
            extension: Some("2005".into()),
            rang: vec!["2005".into()],
            started_ms: 1_700_000_000_000,
            answered_ms: None,
            ended_ms: 1_700_000_065_000,
            ring_secs: 5,
            talk_secs: 60,
            timed_out: false,
            recording: None,
        }
    }

    fn all_on() -> RuleSettings {
        RuleSettings {
            sync_contacts: true,
            sync_group_id: Some(7),
            create_contacts: true,
            create_inbound: true,
            create_outbound: false,
            create_tickets: true,
            ticket_inbound_answered: true,
            ticket_inbound_missed: false,
            log_calls: true,
            ..Default::default()
        }
    }

    #[test]
    fn subjects_follow_the_manual() {
        let a = agent();
        let mut s = all_on();
        s.log_calls = false;
        let jobs = plan(
            &Fact::Ended(outcome(CallType::InboundAnswered)),
            "1702285525.16",
            Direction::Inbound,
            "5503301",
            Some(&a),
            &s,
        );
        let w = work_of(&jobs[1]);
        assert_eq!(
            ticket_subject(&w, CallType::InboundAnswered),
            "Inbound Completed - from <5503301> to Kristin Hale<2005>"
        );
        let mut out = w.clone();
        out.direction = Direction::Outbound;
        assert_eq!(
            ticket_subject(&out, CallType::OutboundUnanswered),
            "Outbound Unanswered - from Kristin Hale<2005> to <5503301>"
        );
        let d = call_description(
            &w,
            &outcome(CallType::InboundAnswered),
            time::UtcOffset::from_hms(8, 0, 0).unwrap(),
            "https://pbx.example.com/recordings",
        );
        assert!(!d.contains("Recording"), "none recorded: {d}");
        let mut recorded = outcome(CallType::InboundAnswered);
        recorded.recording = Some("20231115141320-1702285525.16-5503301-2005-Inbound.wav".into());
        let with = call_description(
            &w,
            &recorded,
            time::UtcOffset::UTC,
            "https://pbx.example.com/recordings",
        );
        assert!(
            with.contains("Recording: https://pbx.example.com/recordings/1702285525.16\n"),
            "a link to this app, not the PBX's short-lived URL: {with}"
        );
        assert!(d.contains("PBX call ID: 1702285525.16"), "{d}");
        assert!(
            d.contains("Started: 2023-11-15 06:13:20 (UTC+08:00)"),
            "{d}"
        );
        assert!(d.contains("talk: 1 min 0 s"), "{d}");
    }

    #[test]
    fn every_rule_off_still_looks_up_a_ringing_inbound_caller() {
        let a = agent();
        let off = RuleSettings {
            log_calls: false,
            ..Default::default()
        };
        let ring = |direction| Fact::Ringing {
            extension: "2005".into(),
            external_number: "5503301".into(),
            direction,
            at_ms: 1,
        };
        let jobs = plan(
            &ring(Direction::Inbound),
            "c1",
            Direction::Inbound,
            "k",
            Some(&a),
            &off,
        );
        assert_eq!(jobs.len(), 1, "the screen pop's lookup");
        let w = work_of(&jobs[0]);
        assert_eq!((w.create_as, w.sync), (None, None));
        let out = plan(
            &ring(Direction::Outbound),
            "c2",
            Direction::Outbound,
            "k",
            Some(&a),
            &off,
        );
        assert!(out.is_empty());
        let ended = Fact::Ended(outcome(CallType::InboundAnswered));
        assert!(plan(&ended, "c1", Direction::Inbound, "k", Some(&a), &off).is_empty());
    }

    #[test]
    fn call_log_sync_is_on_until_turned_off() {
        let a = agent();
        let jobs = plan(
            &Fact::Ended(outcome(CallType::InboundAnswered)),
            "c1",
            Direction::Inbound,
            "k",
            Some(&a),
            &RuleSettings::default(),
        );
        let kinds: Vec<JobKind> = jobs.iter().map(|j| j.job.kind()).collect();
        assert_eq!(kinds, vec![JobKind::Contact, JobKind::CallLog]);
    }

    #[test]
    fn plans_by_settings_and_call_type() {
        let a = agent();
        let s = all_on();
        let ring = Fact::Ringing {
            extension: "2005".into(),
            external_number: "5503301".into(),
            direction: Direction::Inbound,
            at_ms: 1,
        };
        let jobs = plan(&ring, "c1", Direction::Inbound, "k", Some(&a), &s);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].key, "call:c1:contact");
        let w = work_of(&jobs[0]);
        assert_eq!(w.create_as, Some(ZohoModule::Contacts));
        assert_eq!(w.sync.map(|t| t.group_id), Some(7));

        // Answered inbound: contact, ticket (after the contact), call log (after the ticket).
        let jobs = plan(
            &Fact::Ended(outcome(CallType::InboundAnswered)),
            "c1",
            Direction::Inbound,
            "k",
            Some(&a),
            &s,
        );
        let keys: Vec<_> = jobs.iter().map(|j| j.key.as_str()).collect();
        assert_eq!(
            keys,
            ["call:c1:contact", "call:c1:ticket", "call:c1:call_log"]
        );
        assert_eq!(jobs[1].waits_for.as_deref(), Some("call:c1:contact"));
        assert_eq!(jobs[2].waits_for.as_deref(), Some("call:c1:ticket"));

        // Missed is not ticketed under these settings; the call log waits for the contact.
        let jobs = plan(
            &Fact::Ended(outcome(CallType::InboundMissed)),
            "c2",
            Direction::Inbound,
            "k",
            Some(&a),
            &s,
        );
        let keys: Vec<_> = jobs.iter().map(|j| j.key.as_str()).collect();
        assert_eq!(keys, ["call:c2:contact", "call:c2:call_log"]);
        assert_eq!(jobs[1].waits_for.as_deref(), Some("call:c2:contact"));

        // Outbound: creation is for inbound only here.
        let jobs = plan(
            &Fact::Ended(outcome(CallType::OutboundAnswered)),
            "c3",
            Direction::Outbound,
            "k",
            Some(&a),
            &s,
        );
        let w = work_of(&jobs[0]);
        assert_eq!(w.create_as, None);

        // Every rule off: no work once the call is over (the ringing one: see the test above).
        assert!(plan(
            &Fact::Ended(outcome(CallType::InboundMissed)),
            "c4",
            Direction::Inbound,
            "k",
            Some(&a),
            &RuleSettings {
                log_calls: false,
                ..Default::default()
            }
        )
        .is_empty());
    }

    #[test]
    fn zoho_times_and_names() {
        assert_eq!(
            zoho_time_ms("2026-12-04T20:40:55.000Z"),
            Some(1_796_416_855_000)
        );
        assert_eq!(zoho_time_ms("yesterday"), None);
        assert_eq!(zoho_time(1_469_465_531_000), "2016-07-25T16:52:11.000Z");
        assert_eq!(
            automatic_name(ZohoModule::Contacts, "5503309"),
            "Automatic New Contact 5503309"
        );
        assert_eq!(
            automatic_name(ZohoModule::Accounts, "5503309"),
            "Automatic New Account 5503309"
        );
    }
}
