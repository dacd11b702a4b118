//! The PBX's events over its WebSocket (`docs/yeastar-openapi.md` §4.1), for a PBX that cannot
//! reach this app (behind NAT, no inbound firewall rule): the app opens
//! `ws(s)://<pbx>/openapi/v1.0/subscribe?access_token=…`, subscribes to 30008, 30011, 30012 and 30015,
//! sends `heartbeat` every 20 s, and feeds every event through the same intake as the webhook
//! (same parser, same event ids: an event that came both ways is stored once).
//!
//! The socket is reopened with a fresh token before the token's 30 minutes run out, and after
//! a drop with a growing pause (1 s, doubled up to 30 s). After every (re)connection, what
//! happened while away is fetched and fed through the intake too: the calls in progress
//! (`call/query`) and the CDRs of calls that ended since the last socket closed, for whatever
//! reason (`cdr/list`), so an outage of the socket loses no call.

use std::sync::Mutex;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use time::UtcOffset;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::calls::{now_ms, IntakeFormat};
use super::yeastar::{PbxApi, USER_AGENT};
use super::{Engine, EngineError};
use crate::model::{PbxSocketState, PbxSocketView};

/// The topics: extension call status, call state, CDR, call failed.
const TOPICS: &str = r#"{"topic_list":[30008,30011,30012,30015]}"#;
/// The PBX closes a socket idle for 60 s.
const HEARTBEAT: Duration = Duration::from_secs(20);
/// Reopen with a fresh token before the access token's 30 minutes end.
const SESSION: Duration = Duration::from_secs(25 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// The PBX answers the subscription within this, or the socket is given up.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The socket's state, for the page and the tests.
#[derive(Debug)]
pub struct PbxEvents {
    state: Mutex<PbxSocketView>,
    /// When the last socket went down (ms): CDRs since then are fetched on the next connection.
    down_since_ms: Mutex<Option<i64>>,
    /// Bumped to wake the loop: the settings changed, or someone asks to reconnect now. A
    /// count rather than a one-shot signal, so a wake from before the loop read the settings
    /// does not close the socket those settings just opened.
    wake: tokio::sync::watch::Sender<u64>,
    /// Bumped after each connection's replay is done (tests wait for it).
    ready: tokio::sync::watch::Sender<u64>,
    /// Bumped after each event from the socket went through the intake.
    taken: tokio::sync::watch::Sender<u64>,
}

impl Default for PbxEvents {
    fn default() -> Self {
        PbxEvents {
            state: Mutex::new(PbxSocketView {
                state: PbxSocketState::Off,
                since_ms: None,
                error: None,
            }),
            down_since_ms: Mutex::new(None),
            wake: tokio::sync::watch::Sender::new(0),
            ready: tokio::sync::watch::Sender::new(0),
            taken: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl PbxEvents {
    pub fn view(&self) -> PbxSocketView {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, state: PbxSocketState, error: Option<String>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = PbxSocketView {
            state,
            since_ms: Some(now_ms()),
            error,
        };
    }

    /// The settings changed (or a test asks): the loop looks again now.
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n += 1);
    }

    /// How many connections have been made and caught up so far.
    pub fn ready(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ready.subscribe()
    }

    /// How many events from the socket have gone through the intake so far.
    pub fn taken(&self) -> tokio::sync::watch::Receiver<u64> {
        self.taken.subscribe()
    }
}

/// Why a socket ended.
#[derive(Debug)]
enum Ended {
    /// Time for a fresh token, or the settings changed: reopen at once.
    Renew,
    /// The PBX or the network dropped it.
    Dropped(String),
}

/// `http(s)://host:port` → `ws(s)://host:port/openapi/v1.0/subscribe`.
pub fn socket_url(base_url: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}/openapi/v1.0/subscribe")
}

/// A CDR of `cdr/list` (CDR_Details) as the 30012 event it stands for. Its `uid` is the call's
/// id; numbers written "Name<2005>" give their number; the start comes from `timestamp`
/// (unix seconds), written in the PBX's local time as 30012 does.
pub fn cdr_as_event(d: &Value, pbx_offset: UtcOffset) -> Option<Value> {
    let call_id = d.get("uid").and_then(Value::as_str)?;
    let number = |k: &str| {
        let s = d.get(k).and_then(Value::as_str).unwrap_or("").trim();
        match (s.rfind('<'), s.ends_with('>')) {
            (Some(i), true) => s[i + 1..s.len() - 1].trim().to_string(),
            _ => s.to_string(),
        }
    };
    let start = d.get("timestamp").and_then(Value::as_i64)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let time_start = time::OffsetDateTime::from_unix_timestamp(start)
        .ok()?
        .to_offset(pbx_offset)
        .format(&fmt)
        .ok()?;
    let text = |k: &str| d.get(k).cloned().unwrap_or(Value::String(String::new()));
    Some(json!({ "type": 30012, "msg": {
        "call_id": call_id,
        "time_start": time_start,
        "call_from": number("call_from"),
        "call_to": number("call_to"),
        "call_duration": d.get("duration").cloned().unwrap_or(json!(0)),
        "talk_duration": d.get("talk_duration").cloned().unwrap_or(json!(0)),
        "status": text("disposition"),
        "type": text("call_type"),
        "src_trunk_name": text("src_trunk"),
        "dst_trunk_name": text("dst_trunk"),
        "recording": text("recording_file"),
        "did_number": text("did_number"),
    }}))
}

/// Holds the PBX's event socket while a PBX is connected with events by WebSocket; runs for
/// the app's life (the server spawns it).
pub async fn run_socket(engine: std::sync::Arc<Engine>) {
    let mut pause = FIRST_RETRY;
    let mut woken = engine.pbx_connection.events.wake.subscribe();
    loop {
        // Every wake until now is answered by the settings read next.
        woken.borrow_and_update();
        let wanted = matches!(engine.pbx_connection.wants_socket().await, Ok(true));
        if !wanted {
            // Turned off on purpose (or disconnected): nothing to catch up on later.
            *engine
                .pbx_connection
                .events
                .down_since_ms
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = None;
            engine.pbx_connection.events.set(PbxSocketState::Off, None);
            let _ = woken.changed().await;
            continue;
        }
        let ended = socket_once(&engine, &mut woken).await;
        // Events may have been missed from now until the next socket is open, whatever
        // ended this one: the next connection fetches the CDRs since.
        engine
            .pbx_connection
            .events
            .down_since_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(now_ms);
        match ended {
            Ended::Renew => {
                pause = FIRST_RETRY;
                continue;
            }
            Ended::Dropped(why) => {
                tracing::warn!(error = %why, "the PBX's event socket is down");
                engine
                    .pbx_connection
                    .events
                    .set(PbxSocketState::Reconnecting, Some(why));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = woken.changed() => {}
        }
        pause = (pause * 2).min(LAST_RETRY);
    }
}

/// One socket, from its opening to its end.
async fn socket_once(engine: &Engine, woken: &mut tokio::sync::watch::Receiver<u64>) -> Ended {
    let api = match engine.pbx_connection.api().await {
        Ok(a) => a,
        Err(e) => return Ended::Dropped(e.to_string()),
    };
    let token = match api.access_token().await {
        Ok(t) => t,
        Err(e) => return Ended::Dropped(e.to_string()),
    };
    let url = format!(
        "{}?access_token={}",
        socket_url(api.base_url()),
        token.expose()
    );
    let mut request = match url.into_client_request() {
        Ok(r) => r,
        Err(_) => return Ended::Dropped("the PBX address is not a WebSocket address".into()),
    };
    request.headers_mut().insert(
        "User-Agent",
        USER_AGENT.parse().expect("a valid header value"),
    );
    engine
        .pbx_connection
        .events
        .set(PbxSocketState::Connecting, None);
    // The error may hold the URL, and the URL the token: only its kind is kept.
    let (mut ws, _) = match tokio_tungstenite::connect_async(request).await {
        Ok(s) => s,
        Err(e) => {
            return Ended::Dropped(format!(
                "the PBX's socket could not be opened ({})",
                kind(&e)
            ))
        }
    };
    if let Err(e) = ws.send(Message::Text(TOPICS.into())).await {
        return Ended::Dropped(kind(&e));
    }
    // The PBX's answer to the subscription.
    match tokio::time::timeout(ANSWER_WITHIN, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => {
            let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
            if v.get("errcode").and_then(Value::as_i64) != Some(0) {
                return Ended::Dropped(format!("the PBX refused the subscription: {t}"));
            }
        }
        Ok(Some(Ok(other))) => {
            return Ended::Dropped(format!("unexpected answer to the subscription: {other}"))
        }
        Ok(Some(Err(e))) => return Ended::Dropped(kind(&e)),
        Ok(None) => return Ended::Dropped("the PBX closed the socket".into()),
        Err(_) => return Ended::Dropped("the PBX did not answer the subscription".into()),
    }
    tracing::info!("the PBX's event socket is open");
    engine
        .pbx_connection
        .events
        .set(PbxSocketState::Connected, None);
    // What happened while away: the events buffered meanwhile are read after it, and
    // anything twice is stored once.
    if let Err(e) = catch_up(engine, &api).await {
        tracing::warn!(error = %e, "catching up with the PBX after (re)connecting");
    }
    engine.pbx_connection.events.ready.send_modify(|n| *n += 1);
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    let renew = tokio::time::sleep(SESSION);
    tokio::pin!(renew);
    loop {
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if t.trim() == "heartbeat response" {
                        continue;
                    }
                    if let Err(e) = engine.intake.accept_verified(engine, IntakeFormat::Yeastar, t.as_bytes()).await {
                        tracing::warn!(error = ?e, "an event from the PBX's socket was refused");
                    }
                    engine.pbx_connection.events.taken.send_modify(|n| *n += 1);
                }
                Some(Ok(Message::Close(_))) | None => return Ended::Dropped("the PBX closed the socket".into()),
                Some(Err(e)) => return Ended::Dropped(kind(&e)),
                Some(Ok(_)) => {}
            },
            _ = beat.tick() => {
                if let Err(e) = ws.send(Message::Text("heartbeat".into())).await {
                    return Ended::Dropped(kind(&e));
                }
            }
            _ = &mut renew => {
                let _ = ws.close(None).await;
                return Ended::Renew;
            }
            _ = woken.changed() => {
                let _ = ws.close(None).await;
                return Ended::Renew;
            }
        }
    }
}

/// Feeds through the intake the calls in progress on the PBX and the CDRs of the calls that
/// ended since the socket went down.
async fn catch_up(engine: &Engine, api: &PbxApi) -> Result<(), EngineError> {
    for call in api.calls_in_progress().await? {
        let body = json!({ "type": 30011, "msg": call }).to_string();
        if let Err(e) = engine
            .intake
            .accept_verified(engine, IntakeFormat::Yeastar, body.as_bytes())
            .await
        {
            tracing::warn!(error = ?e, "a call in progress from the PBX was refused");
        }
    }
    let since = *engine
        .pbx_connection
        .events
        .down_since_ms
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(since_ms) = since {
        // A minute's margin for the clocks; anything twice is stored once.
        let from_secs = since_ms / 1000 - 60;
        for cdr in api.cdrs_since(from_secs).await? {
            let Some(body) = cdr_as_event(&cdr, engine.pbx_utc_offset()) else {
                continue;
            };
            if let Err(e) = engine
                .intake
                .accept_verified(engine, IntakeFormat::Yeastar, body.to_string().as_bytes())
                .await
            {
                tracing::warn!(error = ?e, "a CDR from the PBX was refused");
            }
        }
        *engine
            .pbx_connection
            .events
            .down_since_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }
    Ok(())
}

/// What went wrong with a socket, without the URL (it carries the token).
fn kind(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Http(r) => format!("HTTP {}", r.status()),
        E::Io(io) => io.kind().to_string(),
        E::Tls(_) => "TLS error".into(),
        E::ConnectionClosed | E::AlreadyClosed => "closed".into(),
        E::Protocol(p) => p.to_string(),
        E::Url(_) => "bad address".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_follow_the_address() {
        assert_eq!(
            socket_url("https://pbx.example.com:8088/"),
            "wss://pbx.example.com:8088/openapi/v1.0/subscribe"
        );
        assert_eq!(
            socket_url("http://127.0.0.1:3000/sandbox/pbx"),
            "ws://127.0.0.1:3000/sandbox/pbx/openapi/v1.0/subscribe"
        );
    }

    #[test]
    fn a_cdr_of_the_list_reads_as_its_30012() {
        let d = json!({"id": 9, "time": "12/03/2026 10:15:02", "timestamp": 1_796_292_902,
            "uid": "1796292902.7", "call_from": "+4915112345", "call_to": "Kristin Hale<2005>",
            "duration": 95, "ring_duration": 15, "talk_duration": 80, "disposition": "ANSWERED",
            "call_type": "Inbound", "src_trunk": "sip-main", "dst_trunk": "", "did_number": "6500",
            "recording_file": "x.wav"});
        let e = cdr_as_event(&d, UtcOffset::from_hms(8, 0, 0).unwrap()).unwrap();
        assert_eq!(e["type"], 30012);
        let m = &e["msg"];
        assert_eq!(m["call_id"], "1796292902.7");
        assert_eq!(m["call_to"], "2005", "the number of \"Name<number>\"");
        assert_eq!(
            m["time_start"], "2026-12-03 18:15:02",
            "in the PBX's local time"
        );
        assert_eq!(
            (m["call_duration"].as_i64(), m["talk_duration"].as_i64()),
            (Some(95), Some(80))
        );
        assert_eq!(m["status"], "ANSWERED");
        // And the intake's parser takes it.
        let parsed = super::super::calls::event::parse_yeastar(
            e.to_string().as_bytes(),
            0,
            UtcOffset::from_hms(8, 0, 0).unwrap(),
        );
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(cdr_as_event(&json!({"id": 1}), UtcOffset::UTC).is_none());
    }
}
