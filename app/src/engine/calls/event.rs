//! Call events on the wire (`docs/call-events.md`): the native JSON format and the
//! Yeastar P-Series OpenAPI webhook (30011 Call State Changed, 30012 New CDR), both parsed
//! into [`CallEvent`]. Parsing is strict about what it needs and names the field it refuses;
//! unknown fields are ignored. No input makes it panic.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::model::PhoneStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ringing,
    Answered,
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

/// How a call ended, as the PBX reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndResult {
    Answered,
    NoAnswer,
    Busy,
    Failed,
    Voicemail,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ringing => "ringing",
            Kind::Answered => "answered",
            Kind::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "ringing" => Kind::Ringing,
            "answered" => Kind::Answered,
            "ended" => Kind::Ended,
            _ => return None,
        })
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }
    pub fn parse(s: &str) -> Option<Direction> {
        Some(match s {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            "internal" => Direction::Internal,
            _ => return None,
        })
    }
}

impl EndResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EndResult::Answered => "answered",
            EndResult::NoAnswer => "no_answer",
            EndResult::Busy => "busy",
            EndResult::Failed => "failed",
            EndResult::Voicemail => "voicemail",
        }
    }
    pub fn parse(s: &str) -> Option<EndResult> {
        Some(match s {
            "answered" => EndResult::Answered,
            "no_answer" => EndResult::NoAnswer,
            "busy" => EndResult::Busy,
            "failed" => EndResult::Failed,
            "voicemail" => EndResult::Voicemail,
            _ => return None,
        })
    }
}

/// One event of one call, whatever format it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallEvent {
    /// Unique per event; a redelivery repeats it.
    pub event_id: String,
    pub call_id: String,
    pub kind: Kind,
    /// Unix time in milliseconds.
    pub at_ms: i64,
    pub direction: Direction,
    /// The party outside the PBX, as the PBX wrote it (absent for internal calls).
    pub external_number: Option<String>,
    /// The extension ringing, answering, dialling or (on `ended`) involved.
    pub extension: Option<String>,
    /// Only on `ended`.
    pub result: Option<EndResult>,
    /// Only on an `ended` read from the PBX's CDR: its own start time and talk time.
    pub cdr: Option<CdrTimes>,
}

/// What a CDR (Yeastar 30012) knows that the state events do not: when the call started
/// and how long it was talked, by the PBX's own clock, and the recording's file on the PBX.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrTimes {
    pub started_ms: i64,
    pub talk_secs: i64,
    #[serde(default)]
    pub recording: Option<String>,
}

/// A refused event: which field, and what is wrong with it. `field` is a path such as
/// `[2].kind` or `msg.call_id`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ParseError {
    pub field: String,
    pub problem: String,
}

fn err(field: impl Into<String>, problem: impl Into<String>) -> ParseError {
    ParseError {
        field: field.into(),
        problem: problem.into(),
    }
}

const MAX_ID: usize = 128;
const MAX_NUMBER: usize = 64;

fn text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<&'a str>, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() > max => Err(err(
            format!("{path}{key}"),
            format!("longer than {max} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(err(format!("{path}{key}"), "must be a string")),
    }
}

fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<&'a str, ParseError> {
    text(obj, key, path, max)?.ok_or_else(|| err(format!("{path}{key}"), "is required"))
}

/// A phone number or extension as the PBX wrote it: digits with the usual punctuation.
fn number_like(s: &str, field: &str) -> Result<String, ParseError> {
    let ok = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.' | '*' | '#'));
    if ok && s.chars().any(|c| c.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(err(field, "must be a phone number"))
    }
}

/// Parses a native body: one event or an array of events (all valid, or none).
pub fn parse_native(body: &[u8]) -> Result<Vec<CallEvent>, ParseError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| err("body", format!("not valid JSON ({e})")))?;
    match v {
        Value::Object(o) => Ok(vec![native_event(&o, "")?]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(err("body", "the array is empty"));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(o) => native_event(o, &format!("[{i}].")),
                    _ => Err(err(format!("[{i}]"), "must be an object")),
                })
                .collect()
        }
        _ => Err(err("body", "must be an event object or an array of events")),
    }
}

fn native_event(o: &Map<String, Value>, path: &str) -> Result<CallEvent, ParseError> {
    let event_id = required(o, "event_id", path, MAX_ID)?.to_string();
    let call_id = required(o, "call_id", path, MAX_ID)?.to_string();
    let kind_s = required(o, "kind", path, 16)?;
    let kind = Kind::parse(kind_s)
        .ok_or_else(|| err(format!("{path}kind"), "must be ringing, answered or ended"))?;
    let at_s = required(o, "at", path, 64)?;
    let at = OffsetDateTime::parse(at_s, &Rfc3339)
        .map_err(|_| err(format!("{path}at"), "must be an RFC 3339 time"))?;
    let dir_s = required(o, "direction", path, 16)?;
    let direction = Direction::parse(dir_s).ok_or_else(|| {
        err(
            format!("{path}direction"),
            "must be inbound, outbound or internal",
        )
    })?;
    let external_number = match text(o, "external_number", path, MAX_NUMBER)? {
        Some(n) => Some(number_like(n, &format!("{path}external_number"))?),
        None if direction != Direction::Internal => {
            return Err(err(
                format!("{path}external_number"),
                "is required for inbound and outbound calls",
            ))
        }
        None => None,
    };
    let extension = match text(o, "extension", path, 32)? {
        Some(x) => Some(number_like(x, &format!("{path}extension"))?),
        None if kind != Kind::Ended => {
            return Err(err(format!("{path}extension"), "is required"));
        }
        None => None,
    };
    let result = match (kind, text(o, "result", path, 16)?) {
        (Kind::Ended, Some(r)) => Some(EndResult::parse(r).ok_or_else(|| {
            err(
                format!("{path}result"),
                "must be answered, no_answer, busy, failed or voicemail",
            )
        })?),
        (Kind::Ended, None) => {
            return Err(err(
                format!("{path}result"),
                "is required when kind is ended",
            ))
        }
        (_, _) => None,
    };
    Ok(CallEvent {
        event_id,
        call_id,
        kind,
        at_ms: (at.unix_timestamp_nanos() / 1_000_000) as i64,
        direction,
        external_number,
        extension,
        result,
        cdr: None,
    })
}

/// What a Yeastar webhook body holds: events to apply, or a type we acknowledge and ignore.
#[derive(Debug, PartialEq, Eq)]
pub enum YeastarBody {
    Events(Vec<CallEvent>),
    Ignored {
        event_type: i64,
    },
    /// 30015: a call the PBX could not set up (a click-to-call without permission, a busy
    /// line…), with the PBX's reason verbatim and the extensions it involved.
    Failed(CallFailure),
    /// 30008: an extension's phone is ringing, busy or idle.
    Phone {
        extension: String,
        status: PhoneStatus,
    },
}

/// A 30015 Call Failed event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFailure {
    pub call_id: String,
    pub reason: String,
    pub extensions: Vec<String>,
}

/// Parses a Yeastar P-Series OpenAPI webhook body. `received_ms` stamps 30011 events (they
/// carry no time); `pbx_offset` reads the CDR's local `time_start`.
pub fn parse_yeastar(
    body: &[u8],
    received_ms: i64,
    pbx_offset: UtcOffset,
) -> Result<YeastarBody, ParseError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| err("body", format!("not valid JSON ({e})")))?;
    let Value::Object(env) = v else {
        return Err(err("body", "must be an object"));
    };
    let event_type = match env.get("type") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| err("type", "must be an integer"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| err("type", "must be an integer"))?,
        _ => return Err(err("type", "is required")),
    };
    if !matches!(event_type, 30008 | 30011 | 30012 | 30015) {
        return Ok(YeastarBody::Ignored { event_type });
    }
    // `msg` is a JSON-encoded string in real traffic; an object is accepted too.
    let msg = match env.get("msg") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => return Err(err("msg", "must hold a JSON object")),
        },
        Some(Value::Object(o)) => o.clone(),
        _ => return Err(err("msg", "is required")),
    };
    if event_type == 30008 {
        let extension = number_like(required(&msg, "extension", "msg.", 32)?, "msg.extension")?;
        let status = required(&msg, "status", "msg.", 32)?;
        let status = PhoneStatus::from_pbx(status)
            .ok_or_else(|| err("msg.status", "must be Ringing, Busy or Idle"))?;
        return Ok(YeastarBody::Phone { extension, status });
    }
    let call_id = required(&msg, "call_id", "msg.", MAX_ID)?.to_string();
    if event_type == 30015 {
        return call_failed(&msg, call_id).map(YeastarBody::Failed);
    }
    let events = if event_type == 30011 {
        call_state_changed(&msg, &call_id, received_ms)?
    } else {
        vec![new_cdr(&msg, &call_id, pbx_offset)?]
    };
    Ok(YeastarBody::Events(events))
}

/// 30015: the reason (verbatim, typos and all) and the extensions of the members.
fn call_failed(msg: &Map<String, Value>, call_id: String) -> Result<CallFailure, ParseError> {
    let reason = text(msg, "reason", "msg.", 200)?.unwrap_or("").to_string();
    let mut extensions = Vec::new();
    if let Some(Value::Array(members)) = msg.get("members") {
        for (i, m) in members.iter().enumerate() {
            if let Some(Value::Object(x)) = m.get("extension") {
                let p = format!("msg.members[{i}].extension.");
                extensions.push(number_like(
                    required(x, "number", &p, 32)?,
                    &format!("{p}number"),
                )?);
            }
        }
    }
    Ok(CallFailure {
        call_id,
        reason,
        extensions,
    })
}

/// 30011: the extension members' `RING` and `ANSWER` become `ringing` and `answered`; the
/// trunk member (`inbound` / `outbound`) gives the direction and the outside number. A body
/// with one extension and no trunk is no call between two parties yet (the PBX ringing the
/// agent's own phone for a click-to-call): nothing to record until the callee is dialled.
fn call_state_changed(
    msg: &Map<String, Value>,
    call_id: &str,
    received_ms: i64,
) -> Result<Vec<CallEvent>, ParseError> {
    let members = match msg.get("members") {
        Some(Value::Array(m)) => m,
        _ => return Err(err("msg.members", "must be an array")),
    };
    let mut direction = Direction::Internal;
    let mut external = None;
    let mut extensions = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let path = format!("msg.members[{i}].");
        let Value::Object(m) = m else {
            return Err(err(format!("msg.members[{i}]"), "must be an object"));
        };
        if let Some(Value::Object(t)) = m.get("inbound") {
            direction = Direction::Inbound;
            let from = required(t, "from", &format!("{path}inbound."), MAX_NUMBER)?;
            external = Some(number_like(from, &format!("{path}inbound.from"))?);
        } else if let Some(Value::Object(t)) = m.get("outbound") {
            direction = Direction::Outbound;
            let to = required(t, "to", &format!("{path}outbound."), MAX_NUMBER)?;
            external = Some(number_like(to, &format!("{path}outbound.to"))?);
        } else if let Some(Value::Object(x)) = m.get("extension") {
            let p = format!("{path}extension.");
            let number = number_like(required(x, "number", &p, 32)?, &format!("{p}number"))?;
            let status = required(x, "member_status", &p, 32)?.to_ascii_uppercase();
            extensions.push((number, status));
        }
    }
    if direction == Direction::Internal && extensions.len() < 2 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (number, status) in extensions {
        let kind = match (direction, status.as_str()) {
            (Direction::Inbound, "RING") => Kind::Ringing,
            (Direction::Inbound, "ANSWER") => Kind::Answered,
            // The agent dialled out: ringback for the agent means the call is being placed.
            (Direction::Outbound, "ALERT") | (Direction::Outbound, "RING") => Kind::Ringing,
            (Direction::Outbound, "ANSWERED") => Kind::Answered,
            (Direction::Internal, "RING") => Kind::Ringing,
            (Direction::Internal, "ANSWER") => Kind::Answered,
            _ => continue,
        };
        out.push(CallEvent {
            event_id: format!("ys:{call_id}:{number}:{}", kind.as_str()),
            call_id: call_id.to_string(),
            kind,
            at_ms: received_ms,
            direction,
            external_number: external.clone(),
            extension: Some(number),
            result: None,
            cdr: None,
        });
    }
    Ok(out)
}

/// 30012: the CDR ends the call.
fn new_cdr(
    msg: &Map<String, Value>,
    call_id: &str,
    pbx_offset: UtcOffset,
) -> Result<CallEvent, ParseError> {
    let ty = required(msg, "type", "msg.", 16)?;
    let direction = match ty.to_ascii_lowercase().as_str() {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        "internal" => Direction::Internal,
        _ => return Err(err("msg.type", "must be Inbound, Outbound or Internal")),
    };
    let from = text(msg, "call_from", "msg.", MAX_NUMBER)?;
    let to = text(msg, "call_to", "msg.", MAX_NUMBER)?;
    let (external, extension) = match direction {
        Direction::Inbound => (from, to),
        Direction::Outbound => (to, from),
        Direction::Internal => (None, from),
    };
    let external = match external {
        Some(n) => Some(number_like(n, "msg.call_from/call_to")?),
        None if direction != Direction::Internal => {
            return Err(err(
                if direction == Direction::Inbound {
                    "msg.call_from"
                } else {
                    "msg.call_to"
                },
                "is required",
            ))
        }
        None => None,
    };
    let start = required(msg, "time_start", "msg.", 32)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let start = PrimitiveDateTime::parse(start, &fmt)
        .map_err(|_| err("msg.time_start", "must be YYYY-MM-DD HH:MM:SS"))?
        .assume_offset(pbx_offset);
    let secs = |k: &str| -> Result<i64, ParseError> {
        match msg.get(k) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|n| (0..=7 * 24 * 3600).contains(n))
                .ok_or_else(|| err(format!("msg.{k}"), "must be a number of seconds")),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=7 * 24 * 3600).contains(n))
                .ok_or_else(|| err(format!("msg.{k}"), "must be a number of seconds")),
            Some(_) => Err(err(format!("msg.{k}"), "must be a number of seconds")),
        }
    };
    let duration = secs("call_duration")?;
    let talk = secs("talk_duration")?.min(duration);
    let status = required(msg, "status", "msg.", 32)?.to_ascii_uppercase();
    let result = match status.as_str() {
        "ANSWERED" => EndResult::Answered,
        "NO ANSWER" => EndResult::NoAnswer,
        "BUSY" => EndResult::Busy,
        "VOICEMAIL" => EndResult::Voicemail,
        _ => EndResult::Failed,
    };
    let extension = match extension {
        Some(x) => Some(number_like(x, "msg.call_from/call_to")?),
        None => None,
    };
    Ok(CallEvent {
        event_id: format!("ys:{call_id}:cdr"),
        call_id: call_id.to_string(),
        kind: Kind::Ended,
        at_ms: (start.unix_timestamp() + duration) * 1000,
        direction,
        external_number: external,
        extension,
        result: Some(result),
        cdr: Some(CdrTimes {
            started_ms: start.unix_timestamp() * 1000,
            talk_secs: talk,
            recording: text(msg, "recording", "msg.", 255)?.map(str::to_string),
        }),
    })
}

/// Serializes an event back to the native format (the simulator, the log).
pub fn to_native_json(e: &CallEvent) -> Value {
    let at = OffsetDateTime::from_unix_timestamp_nanos(e.at_ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let mut o = Map::new();
    o.insert("event_id".into(), e.event_id.clone().into());
    o.insert("call_id".into(), e.call_id.clone().into());
    o.insert("kind".into(), e.kind.as_str().into());
    o.insert("at".into(), at.into());
    o.insert("direction".into(), e.direction.as_str().into());
    if let Some(n) = &e.external_number {
        o.insert("external_number".into(), n.clone().into());
    }
    if let Some(x) = &e.extension {
        o.insert("extension".into(), x.clone().into());
    }
    if let Some(r) = e.result {
        o.insert("result".into(), r.as_str().into());
    }
    if let Some(c) = &e.cdr {
        let started = OffsetDateTime::from_unix_timestamp(c.started_ms / 1000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        o.insert("cdr_started_at".into(), started.into());
        o.insert("cdr_talk_seconds".into(), c.talk_secs.into());
        if let Some(r) = &c.recording {
            o.insert("cdr_recording".into(), r.clone().into());
        }
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_event_and_batch() {
        let one = br#"{"event_id":"e1","call_id":"c1","kind":"ringing","at":"2026-11-28T09:15:02Z",
            "direction":"inbound","external_number":"+8613800138000","extension":"2005","extra":1}"#;
        let ev = parse_native(one).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, Kind::Ringing);
        assert_eq!(ev[0].at_ms, 1_795_857_302_000);
        assert_eq!(ev[0].external_number.as_deref(), Some("+8613800138000"));
        assert_eq!(
            parse_native(&serde_json::to_vec(&to_native_json(&ev[0])).unwrap()).unwrap(),
            ev
        );

        let batch = br#"[{"event_id":"e1","call_id":"c1","kind":"ended","at":"2026-11-28T09:15:02+08:00",
            "direction":"outbound","external_number":"0872858652","extension":"703","result":"busy"},
            {"event_id":"e2","call_id":"c1","kind":"ended","at":"2026-11-28T09:15:02Z","direction":"inbound"}]"#;
        let e = parse_native(batch).unwrap_err();
        assert_eq!(e.field, "[1].external_number");
    }

    #[test]
    fn native_refusals_name_the_field() {
        let cases: &[(&str, &str)] = &[
            ("nope", "body"),
            ("42", "body"),
            ("[]", "body"),
            ("[1]", "[0]"),
            (r#"{"call_id":"c","kind":"ringing"}"#, "event_id"),
            (r#"{"event_id":"e","kind":"ringing"}"#, "call_id"),
            (r#"{"event_id":"e","call_id":"c","kind":"rang"}"#, "kind"),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ringing","at":"yesterday"}"#,
                "at",
            ),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ringing","at":"2026-11-28T09:15:02Z","direction":"sideways"}"#,
                "direction",
            ),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ringing","at":"2026-11-28T09:15:02Z","direction":"inbound","external_number":"<script>"}"#,
                "external_number",
            ),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ringing","at":"2026-11-28T09:15:02Z","direction":"inbound","external_number":"123"}"#,
                "extension",
            ),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ended","at":"2026-11-28T09:15:02Z","direction":"internal","extension":"1"}"#,
                "result",
            ),
            (
                r#"{"event_id":"e","call_id":"c","kind":"ended","at":"2026-11-28T09:15:02Z","direction":"internal","result":"maybe"}"#,
                "result",
            ),
            (r#"{"event_id":7,"call_id":"c"}"#, "event_id"),
        ];
        for (body, field) in cases {
            let e = parse_native(body.as_bytes()).unwrap_err();
            assert_eq!(e.field, *field, "{body}: {e}");
        }
        let long = format!(r#"{{"event_id":"{}"}}"#, "x".repeat(200));
        assert_eq!(parse_native(long.as_bytes()).unwrap_err().field, "event_id");
    }

    #[test]
    fn yeastar_cdr_from_captured_traffic() {
        let body = br#"{"type":30012,"sn":"3633D2199067","msg":"{\"call_id\":\"1702285525.16\",\"time_start\":\"2023-12-11 11:05:25\",\"call_from\":\"703\",\"call_to\":\"0872858652\",\"call_duration\":0,\"talk_duration\":0,\"src_trunk_name\":\"\",\"dst_trunk_name\":\"27872858652_SIP\",\"pin_code\":\"\",\"status\":\"BUSY\",\"type\":\"Outbound\",\"recording\":\"\",\"did_number\":\"\",\"agent_ring_time\":0}"}"#;
        let YeastarBody::Events(ev) = parse_yeastar(body, 0, UtcOffset::UTC).unwrap() else {
            panic!("a CDR is an event")
        };
        assert_eq!(
            ev,
            vec![CallEvent {
                event_id: "ys:1702285525.16:cdr".into(),
                call_id: "1702285525.16".into(),
                kind: Kind::Ended,
                at_ms: 1_702_292_725_000,
                direction: Direction::Outbound,
                external_number: Some("0872858652".into()),
                extension: Some("703".into()),
                result: Some(EndResult::Busy),
                cdr: Some(CdrTimes {
                    recording: None,
                    started_ms: 1_702_292_725_000,
                    talk_secs: 0,
                }),
            }]
        );
        // The PBX's local time: +08:00 is eight hours earlier in UTC.
        let YeastarBody::Events(ev8) =
            parse_yeastar(body, 0, UtcOffset::from_hms(8, 0, 0).unwrap()).unwrap()
        else {
            panic!()
        };
        assert_eq!(ev8[0].at_ms, 1_702_292_725_000 - 8 * 3600 * 1000);
    }

    #[test]
    fn yeastar_call_state_as_string_or_object() {
        let msg = serde_json::json!({
            "call_id": "1725446451.243",
            "members": [
                {"inbound": {"from": "+86 138 0013 8000", "to": "5503300", "trunk_name": "SIP1", "channel_id": "PJSIP/SIP1-1", "member_status": "ALERT", "call_path": ""}},
                {"extension": {"number": "2005", "channel_id": "PJSIP/2005-1", "member_status": "RING", "call_path": ""}},
                {"extension": {"number": "2006", "channel_id": "PJSIP/2006-1", "member_status": "RING", "call_path": ""}}
            ]
        });
        let as_string = serde_json::json!({"type": 30011, "sn": "X", "msg": msg.to_string()});
        let as_object = serde_json::json!({"type": "30011", "sn": "X", "msg": msg});
        for body in [as_string, as_object] {
            let YeastarBody::Events(ev) =
                parse_yeastar(body.to_string().as_bytes(), 5000, UtcOffset::UTC).unwrap()
            else {
                panic!()
            };
            assert_eq!(ev.len(), 2, "one ringing per extension of the ring group");
            assert!(ev.iter().all(|e| e.kind == Kind::Ringing
                && e.direction == Direction::Inbound
                && e.at_ms == 5000
                && e.external_number.as_deref() == Some("+86 138 0013 8000")));
            assert_eq!(ev[1].event_id, "ys:1725446451.243:2006:ringing");
        }
        // The PBX rings the dialling agent's own phone: one member, no call yet.
        let own_phone = serde_json::json!({"type": 30011, "sn": "X", "msg": serde_json::json!({
            "call_id": "1.3", "members": [{"extension": {"number": "2005", "channel_id": "PJSIP/2005-9", "member_status": "RING", "call_path": ""}}]
        }).to_string()});
        assert_eq!(
            parse_yeastar(own_phone.to_string().as_bytes(), 0, UtcOffset::UTC).unwrap(),
            YeastarBody::Events(vec![])
        );
        // 30015, the fact sheet's reason verbatim.
        let failed = serde_json::json!({"type": 30015, "sn": "X", "msg": serde_json::json!({
            "call_id": "1.4", "reason": "NO Outbound Restrictin",
            "members": [{"extension": {"number": "2005", "channel_id": "PJSIP/2005-9", "member_status": "BYE", "call_path": ""}}]
        }).to_string()});
        assert_eq!(
            parse_yeastar(failed.to_string().as_bytes(), 0, UtcOffset::UTC).unwrap(),
            YeastarBody::Failed(CallFailure {
                call_id: "1.4".into(),
                reason: "NO Outbound Restrictin".into(),
                extensions: vec!["2005".into()],
            })
        );
        // 30008, the extension's phone: the PBX's words in any case.
        let phone =
            br#"{"type":30008,"sn":"X","msg":"{\"extension\":\"2005\",\"status\":\"Ringing\"}"}"#;
        assert_eq!(
            parse_yeastar(phone, 0, UtcOffset::UTC).unwrap(),
            YeastarBody::Phone {
                extension: "2005".into(),
                status: PhoneStatus::Ringing
            }
        );
        let busy = br#"{"type":30008,"sn":"X","msg":{"extension":"2006","status":"BUSY"}}"#;
        assert_eq!(
            parse_yeastar(busy, 0, UtcOffset::UTC).unwrap(),
            YeastarBody::Phone {
                extension: "2006".into(),
                status: PhoneStatus::Busy
            }
        );
        let other = br#"{"type":30009,"sn":"X","msg":"{}"}"#;
        assert_eq!(
            parse_yeastar(other, 0, UtcOffset::UTC).unwrap(),
            YeastarBody::Ignored { event_type: 30009 }
        );
        for (body, field) in [
            (r#"{"sn":"X"}"#, "type"),
            (r#"{"type":30011,"msg":"not json"}"#, "msg"),
            (r#"{"type":30011,"msg":{"members":[]}}"#, "msg.call_id"),
            (r#"{"type":30008,"msg":{"status":"Idle"}}"#, "msg.extension"),
            (
                r#"{"type":30008,"msg":{"extension":"2005","status":"Away"}}"#,
                "msg.status",
            ),
            (
                r#"{"type":30011,"msg":{"call_id":"c","members":{}}}"#,
                "msg.members",
            ),
            (
                r#"{"type":30012,"msg":{"call_id":"c","type":"Inbound","call_to":"2005","status":"ANSWERED","time_start":"2023-12-11 11:05:25"}}"#,
                "msg.call_from",
            ),
            (
                r#"{"type":30012,"msg":{"call_id":"c","type":"Inbound","call_from":"1","call_to":"2005","status":"ANSWERED","time_start":"11:05"}}"#,
                "msg.time_start",
            ),
        ] {
            assert_eq!(
                parse_yeastar(body.as_bytes(), 0, UtcOffset::UTC)
                    .unwrap_err()
                    .field,
                field,
                "{body}"
            );
        }
    }
}

/// Fuzzing both parsers (issue 18): arbitrary bytes, arbitrary JSON built from the fields
/// the parsers read, and valid bodies with one field replaced by anything. The parsers never
/// panic, every refusal names a field and a problem (the intake answers it with a 400), and
/// every accepted event has its ids. Bounded (a few thousand cases), so it runs in CI.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const KEYS: &[&str] = &[
        "event_id",
        "call_id",
        "kind",
        "at",
        "direction",
        "external_number",
        "extension",
        "result",
        "type",
        "sn",
        "msg",
        "members",
        "inbound",
        "outbound",
        "number",
        "from",
        "to",
        "member_status",
        "time_start",
        "call_from",
        "call_to",
        "call_duration",
        "talk_duration",
        "status",
        "trunk_name",
        "channel_id",
    ];
    const WORDS: &[&str] = &[
        "",
        " ",
        "ringing",
        "answered",
        "ended",
        "inbound",
        "outbound",
        "internal",
        "answered",
        "no_answer",
        "busy",
        "failed",
        "voicemail",
        "RING",
        "ANSWER",
        "ANSWERED",
        "ALERT",
        "BYE",
        "NO ANSWER",
        "Inbound",
        "Outbound",
        "Internal",
        "30011",
        "30012",
        "2026-11-28T09:15:02Z",
        "2024-09-04 10:40:51",
        "2024-02-30 25:61:61",
        "+1 (415) 555-0134",
        "0086-138-0013-8000",
        "*72",
        "2005",
        "{}",
        "[]",
        "{\"call_id\":\"c\"}",
        "\u{0}",
        "é😀",
        "9999-99-99T99:99:99Z",
    ];

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just(30011i64),
                Just(30012),
                Just(0),
                Just(-1),
                Just(604_801)
            ]
            .prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            proptest::sample::select(WORDS).prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..8).prop_map(
                    |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                ),
            ]
        })
    }

    /// Valid bodies of each kind the parsers take, to mutate.
    fn valid() -> Vec<Value> {
        let members = json!([
            {"inbound": {"from": "+1 (415) 555-0134", "to": "5503300", "member_status": "ALERT"}},
            {"extension": {"number": "2005", "member_status": "RING"}}
        ]);
        let cdr = json!({"call_id": "1.2", "time_start": "2024-09-04 10:40:51",
            "call_from": "13800138000", "call_to": "2005", "call_duration": 42,
            "talk_duration": 30, "status": "ANSWERED", "type": "Inbound"});
        vec![
            json!({"event_id": "e1", "call_id": "c1", "kind": "ended",
                "at": "2026-11-28T09:15:02Z", "direction": "inbound",
                "external_number": "+1 (415) 555-0134", "extension": "2005", "result": "answered"}),
            json!({"type": 30011, "sn": "X",
                "msg": json!({"call_id": "1.2", "members": members}).to_string()}),
            json!({"type": 30012, "sn": "X", "msg": cdr}),
        ]
    }

    /// Replaces the value at a path of object keys / array indexes chosen by `picks` (the
    /// value where the path ends early, at a scalar or an empty container).
    fn replace_somewhere(v: &mut Value, picks: &[usize], new: Value) {
        let Some((p, rest)) = picks.split_first() else {
            *v = new;
            return;
        };
        match v {
            Value::Object(o) if !o.is_empty() => {
                let k = o.keys().nth(p % o.len()).cloned().unwrap();
                replace_somewhere(o.get_mut(&k).unwrap(), rest, new);
            }
            Value::Array(a) if !a.is_empty() => {
                let n = a.len();
                replace_somewhere(&mut a[p % n], rest, new);
            }
            _ => *v = new,
        }
    }

    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        let verdicts = [
            parse_native(body),
            parse_yeastar(body, 1_700_000_000_000, UtcOffset::UTC).map(|b| match b {
                YeastarBody::Events(e) => e,
                YeastarBody::Ignored { .. }
                | YeastarBody::Failed(_)
                | YeastarBody::Phone { .. } => Vec::new(),
            }),
        ];
        for v in verdicts {
            match v {
                Ok(events) => {
                    for e in events {
                        prop_assert!(!e.event_id.is_empty() && !e.call_id.is_empty());
                        prop_assert!(e.result.is_some() == (e.kind == Kind::Ended));
                    }
                }
                Err(e) => {
                    prop_assert!(!e.field.is_empty(), "a refusal names its field");
                    prop_assert!(!e.problem.is_empty(), "and what is wrong");
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            check(&bytes)?;
        }

        #[test]
        fn any_json_of_the_fields_they_read(v in value()) {
            check(v.to_string().as_bytes())?;
            // The same as a Yeastar envelope, `msg` as the PBX sends it (a string) and not.
            for ty in [30011, 30012, 30015] {
                check(json!({"type": ty, "msg": v.to_string()}).to_string().as_bytes())?;
                check(json!({"type": ty, "msg": v}).to_string().as_bytes())?;
            }
        }

        #[test]
        fn valid_bodies_with_one_value_replaced(
            which in 0usize..3,
            picks in proptest::collection::vec(any::<usize>(), 1..4),
            new in value(),
        ) {
            let mut v = valid()[which].clone();
            if which == 1 {
                // Reach into the string-encoded `msg` too.
                let mut msg: Value = serde_json::from_str(v["msg"].as_str().unwrap()).unwrap();
                replace_somewhere(&mut msg, &picks, new.clone());
                v["msg"] = msg.to_string().into();
                check(v.to_string().as_bytes())?;
                v = valid()[which].clone();
            }
            replace_somewhere(&mut v, &picks, new);
            check(v.to_string().as_bytes())?;
            // A batch of one in the native format.
            check(Value::Array(vec![v]).to_string().as_bytes())?;
        }
    }

    #[test]
    fn the_valid_bodies_are_valid() {
        for v in valid() {
            let b = v.to_string();
            let ok = parse_native(b.as_bytes()).is_ok()
                || matches!(
                    parse_yeastar(b.as_bytes(), 0, UtcOffset::UTC),
                    Ok(YeastarBody::Events(e)) if !e.is_empty()
                );
            assert!(ok, "{b}");
        }
    }
}
