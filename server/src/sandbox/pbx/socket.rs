//! The PBX sandbox's event socket (`docs/yeastar-openapi.md` §4.1):
//! `GET /openapi/v1.0/subscribe?access_token=…` upgrades to a WebSocket once the gate and the
//! token pass (otherwise the usual JSON errcode, no upgrade). The client sends
//! `{"topic_list": [30011, 30012]}` and gets `{"errcode":0,"errmsg":"SUCCESS"}`; from then on
//! every event of those types arrives as a text frame holding the same envelope the webhook
//! posts. `heartbeat` is answered `heartbeat response`; a socket that sends nothing for the
//! idle time (60 s) is closed. Fault switches: every open socket can be dropped at once, and
//! new ones refused while the PBX is "away".

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::{fail, get_operation, SharedSandbox};

/// `GET /openapi/v1.0/subscribe`.
pub(super) async fn subscribe(State(sb): State<SharedSandbox>, req: Request) -> Response {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r.into_response();
    }
    if pbx.pusher.sockets_refused() {
        return fail(-2, "INTERNAL SERVER ERROR").into_response();
    }
    let (mut parts, _) = req.into_parts();
    match WebSocketUpgrade::from_request_parts(&mut parts, &sb).await {
        Ok(ws) => ws.on_upgrade(move |socket| run(sb, socket)),
        Err(_) => fail(10001, "INTERFACE NOT EXISTED").into_response(),
    }
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

async fn run(sb: SharedSandbox, mut socket: WebSocket) {
    let pusher = &sb.pbx.pusher;
    let mut events = pusher.socket_events();
    let mut drops = pusher.drop_signal();
    let idle_for = Duration::from_millis(pusher.config().socket_idle_ms);
    let idle = tokio::time::sleep(idle_for);
    tokio::pin!(idle);
    let mut topics: HashSet<i64> = HashSet::new();
    let _open = pusher.socket_opened();
    loop {
        let out = tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_for);
                    let t = t.as_str().trim();
                    if t == "heartbeat" {
                        pusher.count_heartbeat();
                        Message::Text("heartbeat response".into())
                    } else {
                        match serde_json::from_str::<Value>(t)
                            .ok()
                            .and_then(|v| v.get("topic_list").and_then(Value::as_array).cloned())
                        {
                            Some(list) if list.iter().all(Value::is_i64) => {
                                topics = list.iter().filter_map(Value::as_i64).collect();
                                text(json!({ "errcode": 0, "errmsg": "SUCCESS" }))
                            }
                            _ => text(json!({
                                "errcode": 40002, "errmsg": "PARAMETER ERROR",
                                "invalid_param_list": [{ "field": "topic_list", "validation_type": "required" }],
                            })),
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            e = events.recv() => match e {
                Ok(ev) if topics.contains(&ev.event_type) => {
                    pusher.count_socket_event();
                    Message::Text(ev.text.as_str().into())
                }
                Ok(_) => continue,
                // Events lost to a slow reader, as on an overloaded PBX.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = drops.changed() => break,
            _ = &mut idle => break,
        };
        if socket.send(out).await.is_err() {
            break;
        }
    }
}
