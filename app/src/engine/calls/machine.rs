//! The call model: one state per `call_id`, fed events in whatever order and number they
//! arrive, yielding facts once — "ringing on extension X from N", "ended as Inbound Missed on
//! extension X". Pure code: the store persists [`CallState`] and the facts beside it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::event::{CallEvent, Direction, EndResult, Kind};

/// The call types of `call-events.md` (internal calls have none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallType {
    InboundAnswered,
    InboundMissed,
    OutboundAnswered,
    OutboundUnanswered,
}

impl CallType {
    pub fn of(direction: Direction, result: EndResult) -> Option<CallType> {
        Some(match (direction, result) {
            (Direction::Inbound, EndResult::Answered) => CallType::InboundAnswered,
            (Direction::Inbound, _) => CallType::InboundMissed,
            (Direction::Outbound, EndResult::Answered) => CallType::OutboundAnswered,
            (Direction::Outbound, _) => CallType::OutboundUnanswered,
            (Direction::Internal, _) => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallType::InboundAnswered => "Inbound Answered",
            CallType::InboundMissed => "Inbound Missed",
            CallType::OutboundAnswered => "Outbound Answered",
            CallType::OutboundUnanswered => "Outbound Unanswered",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedAt {
    pub result: EndResult,
    pub at_ms: i64,
    pub extension: Option<String>,
    /// Closed by the engine because no `ended` came in time.
    pub timed_out: bool,
    /// The talk time the PBX's CDR gives: it wins over the answer events' clock.
    #[serde(default)]
    pub talk_secs: Option<i64>,
    /// The recording's file on the PBX, when the CDR names one.
    #[serde(default)]
    pub recording: Option<String>,
}

/// What the engine knows of one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallState {
    pub call_id: String,
    pub direction: Direction,
    pub external_number: Option<String>,
    /// The earliest time any event of the call carried.
    pub first_at_ms: i64,
    /// The latest time any event carried (for the stale-call timeout).
    pub last_at_ms: i64,
    /// Extension → when it first rang.
    pub ringing: BTreeMap<String, i64>,
    pub answered: Option<(String, i64)>,
    pub ended: Option<EndedAt>,
    /// The outside number's canonical key (E.164 when readable), set by the engine.
    #[serde(default)]
    pub number_key: Option<String>,
}

/// A finished fact, for the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact {
    /// An extension rings (inbound) or dials out (outbound): the moment for a screen pop.
    Ringing {
        extension: String,
        external_number: String,
        direction: Direction,
        at_ms: i64,
    },
    /// The call is over.
    Ended(Outcome),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub call_type: CallType,
    pub result: EndResult,
    pub external_number: String,
    /// The extension that answered, or (missed / unanswered) the one the PBX named, else the
    /// first that rang.
    pub extension: Option<String>,
    /// Every extension that rang, in the order they started.
    pub rang: Vec<String>,
    pub started_ms: i64,
    pub answered_ms: Option<i64>,
    pub ended_ms: i64,
    pub ring_secs: i64,
    pub talk_secs: i64,
    pub timed_out: bool,
    /// The PBX recorded the call (its file on the PBX).
    #[serde(default)]
    pub recording: Option<String>,
}

impl Fact {
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::Ringing { .. } => "ringing",
            Fact::Ended(_) => "ended",
        }
    }

    pub fn extension(&self) -> Option<&str> {
        match self {
            Fact::Ringing { extension, .. } => Some(extension),
            Fact::Ended(o) => o.extension.as_deref(),
        }
    }
}

impl CallState {
    pub fn new(ev: &CallEvent) -> CallState {
        CallState {
            call_id: ev.call_id.clone(),
            direction: ev.direction,
            external_number: ev.external_number.clone(),
            first_at_ms: ev.at_ms,
            last_at_ms: ev.at_ms,
            ringing: BTreeMap::new(),
            answered: None,
            ended: None,
            number_key: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.ended.is_none()
    }

    /// Applies one event (never seen before: the intake drops redeliveries by `event_id`,
    /// and a repeated fact is refused here too) and returns the facts it completes.
    pub fn apply(&mut self, ev: &CallEvent) -> Vec<Fact> {
        self.first_at_ms = self.first_at_ms.min(ev.at_ms);
        if let Some(c) = &ev.cdr {
            self.first_at_ms = self.first_at_ms.min(c.started_ms);
        }
        self.last_at_ms = self.last_at_ms.max(ev.at_ms);
        // A call seen first from an extension-only event learns its trunk side later.
        if self.direction == Direction::Internal && ev.direction != Direction::Internal {
            self.direction = ev.direction;
        }
        if self.external_number.is_none() {
            self.external_number = ev.external_number.clone();
        }
        let mut facts = Vec::new();
        match ev.kind {
            Kind::Ringing => {
                let Some(ext) = ev.extension.clone() else {
                    return facts;
                };
                let first = !self.ringing.contains_key(&ext);
                let t = self.ringing.entry(ext.clone()).or_insert(ev.at_ms);
                *t = (*t).min(ev.at_ms);
                if first && self.ended.is_none() && self.direction != Direction::Internal {
                    if let Some(n) = &self.external_number {
                        facts.push(Fact::Ringing {
                            extension: ext,
                            external_number: n.clone(),
                            direction: self.direction,
                            at_ms: ev.at_ms,
                        });
                    }
                }
            }
            Kind::Answered => match (&self.answered, &ev.extension) {
                (None, Some(ext)) => self.answered = Some((ext.clone(), ev.at_ms)),
                (Some((_, t)), _) if ev.at_ms < *t => {
                    // Two answers (a transfer picked up): the first is the answer.
                    if let Some(ext) = &ev.extension {
                        self.answered = Some((ext.clone(), ev.at_ms));
                    }
                }
                _ => {}
            },
            Kind::Ended => {
                if self.ended.is_some() {
                    return facts;
                }
                let result = ev.result.unwrap_or(EndResult::Failed);
                self.ended = Some(EndedAt {
                    result,
                    at_ms: ev.at_ms,
                    extension: ev.extension.clone(),
                    timed_out: false,
                    talk_secs: ev.cdr.as_ref().map(|c| c.talk_secs),
                    recording: ev.cdr.as_ref().and_then(|c| c.recording.clone()),
                });
                facts.extend(self.outcome().map(Fact::Ended));
            }
        }
        facts
    }

    /// Closes a call that has seen no event for `timeout_ms` as failed; its fact, if any.
    pub fn close_if_stale(&mut self, now_ms: i64, timeout_ms: i64) -> Option<Fact> {
        if self.ended.is_some() || now_ms - self.last_at_ms < timeout_ms {
            return None;
        }
        self.ended = Some(EndedAt {
            result: if self.answered.is_some() {
                EndResult::Answered
            } else {
                EndResult::Failed
            },
            at_ms: self.last_at_ms,
            extension: None,
            timed_out: true,
            talk_secs: None,
            recording: None,
        });
        self.outcome().map(Fact::Ended)
    }

    /// The call's outcome once it has ended (internal calls have none).
    pub fn outcome(&self) -> Option<Outcome> {
        let ended = self.ended.as_ref()?;
        let call_type = CallType::of(self.direction, ended.result)?;
        let external_number = self.external_number.clone()?;
        let mut rang: Vec<(&String, &i64)> = self.ringing.iter().collect();
        rang.sort_by_key(|(ext, at)| (**at, (*ext).clone()));
        let rang: Vec<String> = rang.into_iter().map(|(e, _)| e.clone()).collect();
        let answered = self
            .answered
            .as_ref()
            .filter(|_| ended.result == EndResult::Answered);
        let extension = match (&ended.extension, answered) {
            (Some(x), _) => Some(x.clone()),
            (None, Some((x, _))) => Some(x.clone()),
            (None, None) => rang.first().cloned(),
        };
        let started_ms = self.first_at_ms.min(ended.at_ms);
        let answered_ms = match ended.talk_secs {
            Some(talk) if talk > 0 && ended.result == EndResult::Answered => {
                Some(ended.at_ms - talk * 1000)
            }
            _ => answered.map(|(_, t)| *t),
        }
        .map(|t| t.clamp(started_ms, ended.at_ms));
        let ring_end = answered_ms.unwrap_or(ended.at_ms);
        Some(Outcome {
            call_type,
            result: ended.result,
            external_number,
            extension,
            rang,
            started_ms,
            answered_ms,
            ended_ms: ended.at_ms,
            ring_secs: (ring_end - started_ms) / 1000,
            talk_secs: answered_ms.map_or(0, |a| (ended.at_ms - a) / 1000),
            timed_out: ended.timed_out,
            recording: ended.recording.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(
        id: &str,
        kind: Kind,
        at_s: i64,
        ext: Option<&str>,
        result: Option<EndResult>,
    ) -> CallEvent {
        CallEvent {
            event_id: id.into(),
            call_id: "c1".into(),
            kind,
            at_ms: at_s * 1000,
            direction: Direction::Inbound,
            external_number: Some("+8613800138000".into()),
            extension: ext.map(str::to_string),
            result,
            cdr: None,
        }
    }

    fn run(events: &[CallEvent]) -> (CallState, Vec<Fact>) {
        let mut st = CallState::new(&events[0]);
        let mut facts = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in events {
            if seen.insert(e.event_id.clone()) {
                facts.extend(st.apply(e));
            }
        }
        (st, facts)
    }

    /// A ring group: 2005 and 2006 ring, 2006 answers, the call ends after a minute.
    fn ring_group() -> Vec<CallEvent> {
        vec![
            ev("r1", Kind::Ringing, 100, Some("2005"), None),
            ev("r2", Kind::Ringing, 101, Some("2006"), None),
            ev("a", Kind::Answered, 110, Some("2006"), None),
            ev(
                "e",
                Kind::Ended,
                170,
                Some("2006"),
                Some(EndResult::Answered),
            ),
        ]
    }

    #[test]
    fn a_ring_group_call_answered_by_one() {
        let (st, facts) = run(&ring_group());
        assert!(!st.is_open());
        assert_eq!(facts.len(), 3);
        assert_eq!(facts[0].extension(), Some("2005"));
        assert_eq!(facts[1].extension(), Some("2006"));
        let Fact::Ended(o) = &facts[2] else { panic!() };
        assert_eq!(o.call_type, CallType::InboundAnswered);
        assert_eq!(o.extension.as_deref(), Some("2006"));
        assert_eq!(o.rang, vec!["2005", "2006"]);
        assert_eq!((o.ring_secs, o.talk_secs), (10, 60));
    }

    #[test]
    fn a_missed_call_names_the_first_extension_that_rang() {
        let (_, facts) = run(&[
            ev("r1", Kind::Ringing, 100, Some("2005"), None),
            ev("e", Kind::Ended, 130, None, Some(EndResult::NoAnswer)),
        ]);
        let Fact::Ended(o) = facts.last().unwrap() else {
            panic!()
        };
        assert_eq!(o.call_type, CallType::InboundMissed);
        assert_eq!(o.extension.as_deref(), Some("2005"));
        assert_eq!((o.ring_secs, o.talk_secs, o.answered_ms), (30, 0, None));
    }

    #[test]
    fn internal_calls_yield_nothing() {
        let mut e = ring_group();
        for x in &mut e {
            x.direction = Direction::Internal;
            x.external_number = None;
        }
        let (st, facts) = run(&e);
        assert!(facts.is_empty());
        assert!(!st.is_open());
    }

    #[test]
    fn late_events_after_the_end_change_nothing() {
        let mut e = ring_group();
        e.push(ev("r3", Kind::Ringing, 171, Some("2007"), None));
        e.push(ev(
            "e2",
            Kind::Ended,
            172,
            Some("2007"),
            Some(EndResult::NoAnswer),
        ));
        let (_, facts) = run(&e);
        assert_eq!(facts.len(), 3);
        assert!(matches!(&facts[2], Fact::Ended(o) if o.call_type == CallType::InboundAnswered));
    }

    #[test]
    fn a_call_that_never_ends_is_closed_by_the_timeout() {
        let mut st = CallState::new(&ring_group()[0]);
        st.apply(&ring_group()[0]);
        assert_eq!(st.close_if_stale(100_000 + 59_000, 60_000), None);
        let Some(Fact::Ended(o)) = st.close_if_stale(100_000 + 60_000, 60_000) else {
            panic!()
        };
        assert!(o.timed_out);
        assert_eq!(o.call_type, CallType::InboundMissed);
        assert_eq!(st.close_if_stale(10_000_000, 60_000), None, "once");
    }

    #[test]
    fn state_survives_a_round_trip_through_json() {
        let (st, _) = run(&ring_group()[..2]);
        let back: CallState = serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap();
        assert_eq!(back, st);
    }

    fn shuffled_with_duplicates() -> impl Strategy<Value = Vec<CallEvent>> {
        let base = ring_group();
        let n = base.len();
        (
            Just(base).prop_shuffle(),
            proptest::collection::vec(0..n, 0..4),
        )
            .prop_map(|(mut events, dups)| {
                let copies: Vec<CallEvent> = dups.iter().map(|&i| events[i].clone()).collect();
                for (k, c) in copies.into_iter().enumerate() {
                    let at = (k * 7) % (events.len() + 1);
                    events.insert(at, c);
                }
                events
            })
    }

    proptest! {
        /// Whatever the order and however many times events arrive, the call ends once, as
        /// Inbound Answered on 2006, and each extension's ringing fact comes at most once.
        #[test]
        fn order_and_duplicates_do_not_change_the_outcome(events in shuffled_with_duplicates()) {
            let (st, facts) = run(&events);
            let ended: Vec<&Outcome> = facts.iter().filter_map(|f| match f { Fact::Ended(o) => Some(o), _ => None }).collect();
            prop_assert_eq!(ended.len(), 1);
            prop_assert_eq!(ended[0].call_type, CallType::InboundAnswered);
            prop_assert_eq!(ended[0].extension.as_deref(), Some("2006"));
            prop_assert_eq!(ended[0].ended_ms, 170_000);
            let mut rings: Vec<&str> = facts.iter().filter(|f| f.kind() == "ringing").filter_map(Fact::extension).collect();
            let total = rings.len();
            rings.sort();
            rings.dedup();
            prop_assert_eq!(rings.len(), total);
            prop_assert!(!st.is_open());
            prop_assert_eq!(st.first_at_ms, 100_000);
        }

        /// With the `ended` event missing, nothing ends until the timeout closes the call once.
        #[test]
        fn a_missing_end_is_closed_once_by_the_timeout(events in shuffled_with_duplicates()) {
            let kept: Vec<CallEvent> = events.into_iter().filter(|e| e.kind != Kind::Ended).collect();
            let (mut st, facts) = run(&kept);
            prop_assert!(facts.iter().all(|f| f.kind() == "ringing"));
            prop_assert!(st.is_open());
            let closed = st.close_if_stale(10_000_000, 3_600_000);
            prop_assert!(matches!(closed, Some(Fact::Ended(ref o)) if o.timed_out && o.call_type == CallType::InboundAnswered));
            prop_assert_eq!(st.close_if_stale(20_000_000, 3_600_000), None);
        }
    }
}
