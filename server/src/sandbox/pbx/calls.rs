//! The PBX sandbox's calls (`docs/yeastar-openapi.md` §3–4): `call/dial`, `call/hangup`,
//! `call/query`, and the console's hands (a phone picks up, a caller rings in). Every change
//! of a call emits what the vendor's PBX emits: a **30011** with the whole member list, a
//! **30012** CDR when a call between two parties ends, a **30015** when a dial cannot be set up,
//! and a **30008** for each extension whose phone starts ringing, is on a call, or is idle again.
//!
//! A click-to-call goes as third parties observed it (the fact sheet's plausible order):
//! the caller's own extension rings first (`RING`, the only member); once it answers, the
//! caller hears ringback (`ALERT`) while the callee rings (an `outbound` member, or an
//! `extension` for an internal number); when the callee answers, `ANSWERED` + `ANSWER`; a hang-up
//! sends `BYE` for everyone and the CDR. A dial whose caller never picks up places no call
//! between two parties, so it ends with the `BYE` alone and no CDR (the docs are silent; see
//! `docs/decisions.md`).

use std::collections::{BTreeMap, BTreeSet};

use app::model::PhoneStatus;
use serde_json::{json, Value};

use super::{PbxState, SANDBOX_SN};

/// The trunk every outside call uses.
pub const TRUNK: &str = "sip-main";
/// The number a ring group rings under (`call_path` of its members).
pub const RING_GROUP: &str = "6300";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The caller, hearing ringback.
    Alert,
    /// The callee, ringing.
    Ring,
    /// The caller, its call answered.
    Answered,
    /// The callee, talking.
    Answer,
    Bye,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Alert => "ALERT",
            Status::Ring => "RING",
            Status::Answered => "ANSWERED",
            Status::Answer => "ANSWER",
            Status::Bye => "BYE",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Party {
    Extension { number: String },
    Inbound { from: String, to: String },
    Outbound { from: String, to: String },
}

#[derive(Clone, Debug)]
pub struct Member {
    pub party: Party,
    pub channel_id: String,
    pub status: Status,
    pub call_path: String,
}

impl Member {
    fn to_json(&self) -> Value {
        let status = self.status.as_str();
        match &self.party {
            Party::Extension { number } => json!({ "extension": {
                "number": number, "channel_id": self.channel_id,
                "member_status": status, "call_path": self.call_path,
            }}),
            Party::Inbound { from, to } => json!({ "inbound": {
                "from": from, "to": to, "trunk_name": TRUNK, "channel_id": self.channel_id,
                "member_status": status, "call_path": self.call_path,
            }}),
            Party::Outbound { from, to } => json!({ "outbound": {
                "from": from, "to": to, "trunk_name": TRUNK, "channel_id": self.channel_id,
                "member_status": status, "call_path": self.call_path,
            }}),
        }
    }

    fn extension(&self) -> Option<&str> {
        match &self.party {
            Party::Extension { number } => Some(number),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallType {
    Inbound,
    Outbound,
    Internal,
}

impl CallType {
    fn as_str(self) -> &'static str {
        match self {
            CallType::Inbound => "Inbound",
            CallType::Outbound => "Outbound",
            CallType::Internal => "Internal",
        }
    }
}

/// A call in progress.
#[derive(Clone, Debug)]
pub struct Call {
    pub call_id: String,
    pub members: Vec<Member>,
    pub call_type: CallType,
    /// The CDR's `call_from` / `call_to` (the callee of an inbound call is whoever answers).
    pub from: String,
    pub to: String,
    pub did: String,
    /// PBX clock, seconds.
    started: i64,
    answered: Option<i64>,
    /// A click-to-call whose caller has not picked up yet: the number it will dial.
    pending_callee: Option<String>,
}

impl Call {
    pub fn to_json(&self) -> Value {
        json!({
            "call_id": self.call_id,
            "members": self.members.iter().map(Member::to_json).collect::<Vec<_>>(),
        })
    }
}

/// One CDR, as 30012 sends it and `cdr/list` lists it.
#[derive(Clone, Debug)]
pub struct Cdr {
    pub id: u64,
    pub msg: Value,
    /// When the call started (unix seconds, the PBX's clock).
    pub timestamp: i64,
}

impl Cdr {
    /// As `cdr/list` shows it (CDR_Details): `uid` is the call's `call_id`.
    pub fn details(&self) -> Value {
        let m = &self.msg;
        let talk = m["talk_duration"].as_i64().unwrap_or(0);
        let duration = m["call_duration"].as_i64().unwrap_or(0);
        json!({
            "id": self.id,
            "time": m["time_start"],
            "timestamp": self.timestamp,
            "uid": m["call_id"],
            "call_from": m["call_from"],
            "call_to": m["call_to"],
            "duration": duration,
            "ring_duration": duration - talk,
            "talk_duration": talk,
            "disposition": m["status"],
            "call_type": m["type"],
            "src_trunk": m["src_trunk_name"],
            "dst_trunk": m["dst_trunk_name"],
            "did_number": m["did_number"],
            "recording_file": m["recording"],
        })
    }
}

/// What the PBX sends: an event type and its `msg`.
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    pub event_type: i64,
    pub msg: Value,
}

impl Emit {
    /// The envelope the vendor pushes: `msg` a JSON-encoded string (real traffic), or an
    /// object when the sandbox is switched to test a client's tolerance.
    pub fn envelope(&self, msg_as_object: bool) -> Value {
        let msg = if msg_as_object {
            self.msg.clone()
        } else {
            Value::String(self.msg.to_string())
        };
        json!({ "type": self.event_type, "sn": SANDBOX_SN, "msg": msg })
    }
}

/// Why the console's hand could not act.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error("no call in progress has that channel")]
    NoSuchChannel,
    #[error("that phone is not ringing")]
    NotRinging,
    #[error("{0} is not an extension of this PBX")]
    NoSuchExtension(String),
    #[error("{0} is required")]
    Required(&'static str),
}

/// The PBX's local time as CDRs write it (the sandbox's PBX runs on UTC).
fn local_time(secs: i64, fmt: &[time::format_description::FormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

impl PbxState {
    /// The phones that are not idle: ringing, or on a call (which wins over a second call
    /// ringing on the same phone).
    pub(super) fn phones(&self) -> BTreeMap<String, PhoneStatus> {
        let mut phones = BTreeMap::new();
        for m in self.calls.iter().flat_map(|c| &c.members) {
            let Some(x) = m.extension() else { continue };
            let now = match m.status {
                Status::Ring => PhoneStatus::Ringing,
                Status::Bye => continue,
                _ => PhoneStatus::Busy,
            };
            let slot = phones.entry(x.to_string()).or_insert(now);
            if now == PhoneStatus::Busy {
                *slot = PhoneStatus::Busy;
            }
        }
        phones
    }

    /// 30008 Extension Call Status for every phone that changed since `before`.
    pub(super) fn phone_changes(&self, before: &BTreeMap<String, PhoneStatus>) -> Vec<Emit> {
        let after = self.phones();
        let word = |p: Option<&PhoneStatus>| p.copied().unwrap_or(PhoneStatus::Idle).as_pbx();
        let numbers: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        numbers
            .into_iter()
            .filter(|x| before.get(*x) != after.get(*x))
            .map(|x| Emit {
                event_type: 30008,
                msg: json!({ "extension": x, "status": word(after.get(x)) }),
            })
            .collect()
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn channel(&mut self, name: &str) -> String {
        let seq = self.next_seq();
        format!("PJSIP/{name}-{seq:08x}")
    }

    fn is_extension(&self, number: &str) -> bool {
        self.extensions.iter().any(|e| e.number == number)
    }

    fn state_changed(call: &Call) -> Emit {
        Emit {
            event_type: 30011,
            msg: call.to_json(),
        }
    }

    /// `call/dial`: rings the caller's own extension. An external `caller` is accepted and
    /// places nothing (as observed on real PBXs); with the failure switch on, the call fails
    /// asynchronously with 30015.
    pub(super) fn dial(
        &mut self,
        caller: &str,
        callee: &str,
        auto_answer: bool,
    ) -> (String, Vec<Emit>) {
        let now = self.now();
        let call_id = format!("{now}.{}", self.next_seq());
        if !self.is_extension(caller) {
            return (call_id, Vec::new());
        }
        let channel_id = self.channel(caller);
        let member = Member {
            party: Party::Extension {
                number: caller.to_string(),
            },
            channel_id: channel_id.clone(),
            status: Status::Ring,
            call_path: String::new(),
        };
        if let Some(reason) = self.fail_dials.clone() {
            let mut m = member;
            m.status = Status::Bye;
            let msg = json!({ "call_id": call_id, "reason": reason, "members": [m.to_json()] });
            return (
                call_id,
                vec![Emit {
                    event_type: 30015,
                    msg,
                }],
            );
        }
        let call = Call {
            call_id: call_id.clone(),
            members: vec![member],
            call_type: CallType::Outbound,
            from: caller.to_string(),
            to: callee.to_string(),
            did: String::new(),
            started: now,
            answered: None,
            pending_callee: Some(callee.to_string()),
        };
        let mut emits = vec![Self::state_changed(&call)];
        self.calls.push(call);
        if auto_answer {
            emits.extend(self.answer(&channel_id).unwrap_or_default());
        }
        self.stats.dials += 1;
        (call_id, emits)
    }

    /// A call rings in on the trunk from `from` (dialling `did`) and rings `extensions` (a ring
    /// group when several).
    pub fn place_inbound(
        &mut self,
        from: &str,
        did: &str,
        extensions: &[String],
    ) -> Result<(String, Vec<Emit>), ConsoleError> {
        if from.trim().is_empty() {
            return Err(ConsoleError::Required("from"));
        }
        if extensions.is_empty() {
            return Err(ConsoleError::Required("extensions"));
        }
        if let Some(x) = extensions.iter().find(|x| !self.is_extension(x)) {
            return Err(ConsoleError::NoSuchExtension(x.clone()));
        }
        let now = self.now();
        let call_id = format!("{now}.{}", self.next_seq());
        let path = if extensions.len() > 1 { RING_GROUP } else { "" };
        let mut members = vec![Member {
            party: Party::Inbound {
                from: from.trim().to_string(),
                to: did.to_string(),
            },
            channel_id: self.channel(TRUNK),
            status: Status::Alert,
            call_path: String::new(),
        }];
        for x in extensions {
            members.push(Member {
                party: Party::Extension { number: x.clone() },
                channel_id: self.channel(x),
                status: Status::Ring,
                call_path: path.to_string(),
            });
        }
        let call = Call {
            call_id: call_id.clone(),
            members,
            call_type: CallType::Inbound,
            from: from.trim().to_string(),
            to: extensions[0].clone(),
            did: did.to_string(),
            started: now,
            answered: None,
            pending_callee: None,
        };
        let emit = Self::state_changed(&call);
        self.calls.push(call);
        Ok((call_id, vec![emit]))
    }

    fn call_with_channel(&mut self, channel_id: &str) -> Option<usize> {
        self.calls
            .iter()
            .position(|c| c.members.iter().any(|m| m.channel_id == channel_id))
    }

    /// The ringing channel of `extension`, if it rings.
    pub fn ringing_channel(&self, extension: &str) -> Option<String> {
        self.calls
            .iter()
            .flat_map(|c| &c.members)
            .find(|m| m.status == Status::Ring && m.extension() == Some(extension))
            .map(|m| m.channel_id.clone())
    }

    /// The phone (or the far end) on `channel_id` picks up.
    pub fn answer(&mut self, channel_id: &str) -> Result<Vec<Emit>, ConsoleError> {
        let i = self
            .call_with_channel(channel_id)
            .ok_or(ConsoleError::NoSuchChannel)?;
        let now = self.now();
        let m = self.calls[i]
            .members
            .iter()
            .position(|m| m.channel_id == channel_id)
            .expect("found above");
        if self.calls[i].members[m].status != Status::Ring {
            return Err(ConsoleError::NotRinging);
        }
        if let Some(callee) = self.calls[i].pending_callee.take() {
            // The click-to-call's caller picked up: now the PBX dials the callee.
            let internal = self.is_extension(&callee);
            let channel = self.channel(if internal { &callee } else { TRUNK });
            let call = &mut self.calls[i];
            call.members[m].status = Status::Alert;
            let party = if internal {
                call.call_type = CallType::Internal;
                Party::Extension { number: callee }
            } else {
                Party::Outbound {
                    from: call.from.clone(),
                    to: callee,
                }
            };
            call.members.push(Member {
                party,
                channel_id: channel,
                status: Status::Ring,
                call_path: String::new(),
            });
            return Ok(vec![Self::state_changed(call)]);
        }
        let call = &mut self.calls[i];
        call.answered = Some(now);
        call.members[m].status = Status::Answer;
        if let Some(x) = call.members[m].extension() {
            if call.call_type == CallType::Inbound {
                call.to = x.to_string();
            }
        }
        // The others of a ring group stop ringing; the caller's side is answered.
        call.members
            .retain(|o| o.channel_id == channel_id || o.status != Status::Ring);
        for o in call.members.iter_mut() {
            if o.status == Status::Alert {
                o.status = Status::Answered;
            }
        }
        Ok(vec![Self::state_changed(call)])
    }

    /// A member hangs up: the call ends for everyone (`BYE`), then its CDR if two parties
    /// were connected or rung.
    pub(super) fn hang_up(
        &mut self,
        channel_id: &str,
    ) -> Result<(String, Vec<Emit>), ConsoleError> {
        let i = self
            .call_with_channel(channel_id)
            .ok_or(ConsoleError::NoSuchChannel)?;
        let mut call = self.calls.remove(i);
        for m in call.members.iter_mut() {
            m.status = Status::Bye;
        }
        let mut emits = vec![Self::state_changed(&call)];
        if call.pending_callee.is_none() {
            emits.push(self.cdr(&call));
        }
        Ok((call.call_id, emits))
    }

    fn cdr(&mut self, call: &Call) -> Emit {
        let now = self.now();
        let stamp = time::macros::format_description!("[year][month][day][hour][minute][second]");
        let start =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let recording = match call.answered {
            Some(at) => format!(
                "{}-{}-{}-{}-{}.wav",
                local_time(at, stamp),
                call.call_id,
                call.from,
                call.to,
                call.call_type.as_str()
            ),
            None => String::new(),
        };
        let trunk = |t: CallType| if call.call_type == t { TRUNK } else { "" };
        let msg = json!({
            "call_id": call.call_id,
            "time_start": local_time(call.started, start),
            "call_from": call.from,
            "call_to": call.to,
            "call_duration": now - call.started,
            "talk_duration": call.answered.map_or(0, |a| now - a),
            "src_trunk_name": trunk(CallType::Inbound),
            "dst_trunk_name": trunk(CallType::Outbound),
            "pin_code": "",
            "status": if call.answered.is_some() { "ANSWERED" } else { "NO ANSWER" },
            "type": call.call_type.as_str(),
            "recording": recording,
            "did_number": call.did,
            "agent_ring_time": 0,
        });
        let id = self.cdrs.len() as u64 + 1;
        self.cdrs.push(Cdr {
            id,
            msg: msg.clone(),
            timestamp: call.started,
        });
        Emit {
            event_type: 30012,
            msg,
        }
    }

    /// `call/query`: the calls matching one filter.
    pub(super) fn query(&self, filter: &Filter) -> Vec<Value> {
        self.calls
            .iter()
            .filter(|c| match filter {
                Filter::CallId(id) => &c.call_id == id,
                Filter::Type(t) => c.call_type == *t,
                Filter::Extension(x) => c.members.iter().any(|m| m.extension() == Some(x)),
            })
            .map(Call::to_json)
            .collect()
    }
}

/// The one filter `call/query` takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Filter {
    CallId(String),
    Type(CallType),
    Extension(String),
}

impl Filter {
    pub(super) fn type_of(s: &str) -> Option<CallType> {
        match s {
            "inbound" => Some(CallType::Inbound),
            "outbound" => Some(CallType::Outbound),
            "internal" => Some(CallType::Internal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::PbxSandbox;
    use super::*;

    fn statuses(e: &Emit) -> Vec<(String, String)> {
        e.msg["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let (k, v) = m.as_object().unwrap().iter().next().unwrap();
                (k.clone(), v["member_status"].as_str().unwrap().to_string())
            })
            .collect()
    }

    fn pair(k: &str, s: &str) -> (String, String) {
        (k.to_string(), s.to_string())
    }

    #[test]
    fn a_click_to_call_rings_the_agent_first_then_the_callee() {
        let sb = PbxSandbox::new("id", "secret");
        let mut st = sb.lock();
        let (call_id, e) = st.dial("2005", "+1 (415) 555-0134", false);
        assert_eq!(statuses(&e[0]), vec![pair("extension", "RING")]);
        let agent = st.ringing_channel("2005").unwrap();
        let e = st.answer(&agent).unwrap();
        assert_eq!(
            statuses(&e[0]),
            vec![pair("extension", "ALERT"), pair("outbound", "RING")]
        );
        assert_eq!(
            e[0].msg["members"][1]["outbound"]["to"],
            "+1 (415) 555-0134"
        );
        let far = e[0].msg["members"][1]["outbound"]["channel_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(st.answer(&agent), Err(ConsoleError::NotRinging));
        let e = st.answer(&far).unwrap();
        assert_eq!(
            statuses(&e[0]),
            vec![pair("extension", "ANSWERED"), pair("outbound", "ANSWER")]
        );
        let (ended, e) = st.hang_up(&far).unwrap();
        assert_eq!(ended, call_id);
        assert_eq!(
            statuses(&e[0]),
            vec![pair("extension", "BYE"), pair("outbound", "BYE")]
        );
        let cdr = &e[1];
        assert_eq!(cdr.event_type, 30012);
        assert_eq!(cdr.msg["type"], "Outbound");
        assert_eq!(cdr.msg["status"], "ANSWERED");
        assert_eq!(cdr.msg["call_from"], "2005");
        assert!(cdr.msg["recording"]
            .as_str()
            .unwrap()
            .contains(&format!("-{call_id}-2005-")));
        assert!(st.calls.is_empty());
    }

    #[test]
    fn a_dial_the_agent_never_picks_up_has_no_cdr() {
        let sb = PbxSandbox::new("id", "secret");
        let mut st = sb.lock();
        st.dial("2005", "5550100", false);
        let ch = st.ringing_channel("2005").unwrap();
        let (_, e) = st.hang_up(&ch).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].event_type, 30011);
    }

    #[test]
    fn an_external_caller_places_nothing_and_failures_come_as_30015() {
        let sb = PbxSandbox::new("id", "secret");
        let mut st = sb.lock();
        let (_, e) = st.dial("+4915112345", "2005", false);
        assert!(e.is_empty() && st.calls.is_empty());
        st.fail_dials = Some("NO Dial Permission".into());
        let (id, e) = st.dial("2005", "5550100", false);
        assert_eq!(e[0].event_type, 30015);
        assert_eq!(e[0].msg["reason"], "NO Dial Permission");
        assert_eq!(e[0].msg["call_id"], id.as_str());
        assert!(st.calls.is_empty());
    }

    #[test]
    fn a_ring_group_stops_ringing_when_one_answers() {
        let sb = PbxSandbox::new("id", "secret");
        let mut st = sb.lock();
        let exts = vec!["2005".to_string(), "2006".to_string()];
        let (id, e) = st.place_inbound("+4915112345", "6500", &exts).unwrap();
        assert_eq!(
            statuses(&e[0]),
            vec![
                pair("inbound", "ALERT"),
                pair("extension", "RING"),
                pair("extension", "RING")
            ]
        );
        assert_eq!(e[0].msg["members"][1]["extension"]["call_path"], RING_GROUP);
        let ch = st.ringing_channel("2006").unwrap();
        let e = st.answer(&ch).unwrap();
        assert_eq!(
            statuses(&e[0]),
            vec![pair("inbound", "ANSWERED"), pair("extension", "ANSWER")]
        );
        assert_eq!(
            st.query(&Filter::Extension("2006".into()))[0]["call_id"],
            id.as_str()
        );
        assert!(st.query(&Filter::Extension("2005".into())).is_empty());
        let (_, e) = st.hang_up(&ch).unwrap();
        assert_eq!(e[1].msg["call_to"], "2006");
        assert_eq!(e[1].msg["type"], "Inbound");
        assert_eq!(e[1].msg["did_number"], "6500");
        assert_eq!(
            st.place_inbound("+4915112345", "6500", &["9999".to_string()]),
            Err(ConsoleError::NoSuchExtension("9999".into()))
        );
    }

    #[test]
    fn phones_report_ringing_busy_and_idle_as_they_change() {
        let sb = PbxSandbox::new("id", "secret");
        // What `act` sends after each change: the 30008s, by extension.
        let phones_after = |change: &dyn Fn(&mut PbxState)| {
            let mut st = sb.lock();
            let before = st.phones();
            change(&mut st);
            st.phone_changes(&before)
                .into_iter()
                .map(|e| {
                    assert_eq!(e.event_type, 30008);
                    (
                        e.msg["extension"].as_str().unwrap().to_string(),
                        e.msg["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let p = |x: &str, s: &str| (x.to_string(), s.to_string());
        let exts = vec!["2005".to_string(), "2006".to_string()];
        let ring = phones_after(&|st| {
            st.place_inbound("+4915112345", "6500", &exts).unwrap();
        });
        assert_eq!(ring, vec![p("2005", "Ringing"), p("2006", "Ringing")]);
        // 2006 answers: it is busy, 2005 stops ringing.
        let answer = phones_after(&|st| {
            let ch = st.ringing_channel("2006").unwrap();
            st.answer(&ch).unwrap();
        });
        assert_eq!(answer, vec![p("2005", "Idle"), p("2006", "Busy")]);
        // A second call rings 2006 while it talks: still busy, nothing to say.
        let waiting = phones_after(&|st| {
            st.place_inbound("+4915112399", "6500", &["2006".to_string()])
                .unwrap();
        });
        assert!(waiting.is_empty(), "{waiting:?}");
        let ended = phones_after(&|st| {
            let ch = st.calls[0].members[0].channel_id.clone();
            st.hang_up(&ch).unwrap();
        });
        assert_eq!(
            ended,
            vec![p("2006", "Ringing")],
            "the waiting call rings on"
        );
    }

    #[test]
    fn the_envelope_carries_msg_as_a_string_by_default() {
        let e = Emit {
            event_type: 30011,
            msg: json!({ "call_id": "1.2", "members": [] }),
        };
        let env = e.envelope(false);
        assert_eq!(env["type"], 30011);
        assert!(env["msg"].is_string());
        assert!(e.envelope(true)["msg"].is_object());
    }
}
