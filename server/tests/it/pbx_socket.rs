//! The PBX's events over its WebSocket (issue 16): with no webhook at all the calls arrive; a
//! socket dropped mid-call (and the PBX unreachable while the call ends) loses nothing — the
//! call ends in the log with one ticket, from the CDRs fetched on reconnection; webhook and
//! socket both on make one call, not two. The sandbox's socket itself: topic lists, heartbeats,
//! the idle close, a token needed to open it.

use std::future::Future;
use std::time::Duration;

use app::engine::calls::now_ms;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::app::*;
use crate::support::flows::*;

/// Connects the PBX sandbox with events by WebSocket and starts the app's socket, as the
/// server does; returns once the socket is open and caught up, with the count of connections
/// made (1 then).
async fn connect_by_socket(app: &TestApp) -> tokio::sync::watch::Receiver<u64> {
    save_pbx_sandbox(app, "WebSocket").await;
    let mut ready = app.engine.pbx_connection.events.ready();
    tokio::spawn(app.engine.clone().run_pbx_socket());
    let (s, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("Connected")), "{v}");
    assert_eq!(v["events_via"], "WebSocket");
    within("wait 1", ready.wait_for(|n| *n >= 1)).await.unwrap();
    let (_, v) = app.call("pbx/connection", &[]).await;
    assert_eq!(v["socket"]["state"], "Connected", "{v}");
    ready
}

/// At most 10 s for something that happens at once: a bound, not a pause.
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("{what} within 10 s"))
}

/// Waits until `check` holds, looking again whenever a call changes.
async fn until<F, Fut>(app: &TestApp, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut changed = app.engine.intake.calls_watch();
    within("wait 2", async {
        loop {
            if check().await {
                return;
            }
            changed.changed().await.unwrap();
        }
    })
    .await
}

async fn is_open(app: &TestApp, id: &str) -> Option<bool> {
    app.engine.store.call(id).await.unwrap().map(|c| c.is_open)
}

async fn rules(app: &TestApp) {
    let (s, b) = save_rules(
        app,
        &[
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn with_no_webhook_the_socket_brings_the_calls_and_a_dropped_socket_loses_none() {
    let app = connected().await;
    rules(&app).await;
    let pbx = &app.sandbox.pbx;
    // A PBX that cannot reach this app: no webhook at all.
    pbx.pusher.configure(|c| c.url = None);
    connect_by_socket(&app).await;
    assert_eq!(pbx.pusher.stats().live_sockets, 1);
    let before = tickets(&app).await.len();

    // Paul Young calls Kristin; she answers.
    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    until(&app, || async { is_open(&app, &id).await == Some(true) }).await;
    pbx.answer_extension("2005").unwrap();
    until(&app, || async {
        app.engine
            .store
            .call(&id)
            .await
            .unwrap()
            .is_some_and(|c| c.state.answered.is_some())
    })
    .await;

    // The socket drops and the PBX cannot be reached while the call ends.
    pbx.pusher.set_sockets_away(true);
    within("wait 3", pbx.pusher.live_sockets().wait_for(|n| *n == 0))
        .await
        .unwrap();
    pbx.hang_up_call(&id).unwrap();
    assert_eq!(is_open(&app, &id).await, Some(true), "nothing heard yet");

    // Back: the app reconnects, fetches what it missed, and the call ends.
    let mut ready = app.engine.pbx_connection.events.ready();
    let seen = *ready.borrow_and_update();
    pbx.pusher.set_sockets_away(false);
    app.engine.pbx_connection.events.wake();
    within("wait 4", ready.wait_for(|n| *n > seen))
        .await
        .unwrap();
    until(&app, || async { is_open(&app, &id).await == Some(false) }).await;
    let call = app.engine.store.call(&id).await.unwrap().unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Inbound Answered"));

    // Its Zoho work, once.
    drain(&app, now_ms()).await;
    let jobs = jobs_of(&app, &id).await;
    assert_eq!(job(&jobs, "ticket")["state"], "done", "{jobs:?}");
    assert_eq!(job(&jobs, "call_log")["state"], "done", "{jobs:?}");
    assert_eq!(tickets(&app).await.len(), before + 1);
    // Reconnecting again replays nothing new.
    let seen = *ready.borrow_and_update();
    app.engine.pbx_connection.events.wake();
    within("wait 5", ready.wait_for(|n| *n > seen))
        .await
        .unwrap();
    drain(&app, now_ms()).await;
    assert_eq!(tickets(&app).await.len(), before + 1);
}

#[tokio::test]
async fn webhook_and_socket_both_on_make_one_call_not_two() {
    let app = connected().await;
    rules(&app).await;
    let pbx = &app.sandbox.pbx;
    let ready = connect_by_socket(&app).await;
    assert!(pbx.pusher.config().url.is_some(), "the webhook is on too");
    let metric = |r: &str| {
        app.engine
            .metrics
            .get("helpdesk_call_events_total", &[("result", r)])
    };
    let (stored, duplicate) = (metric("stored"), metric("duplicate"));
    let mut taken = app.engine.pbx_connection.events.taken();
    let seen = *taken.borrow_and_update();

    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.answer_extension("2005").unwrap();
    pbx.hang_up_call(&id).unwrap();
    pbx.flushed().await;
    // Ringing, answered, hung up (30011 ×3), the CDR and 2005's phone ringing, busy and idle
    // (30008 ×3), over the socket too.
    within("wait 6", taken.wait_for(|n| *n >= seen + 7))
        .await
        .unwrap();
    assert_eq!(pbx.pusher.stats().delivered, 7, "and by the webhook");
    assert_eq!(
        (metric("stored") - stored, metric("duplicate") - duplicate),
        (3, 3),
        "ringing, answered, ended: each stored once, its second copy a duplicate"
    );
    assert_eq!(is_open(&app, &id).await, Some(false));
    // The socket that brought them is the first one: the save that turned it on did not also
    // close it once open (a reopened socket leaves a gap only the catch-up fills).
    assert_eq!(*ready.borrow(), 1, "one connection");
    let before = tickets(&app).await.len();
    drain(&app, now_ms()).await;
    assert_eq!(tickets(&app).await.len(), before + 1);
}

#[tokio::test]
async fn the_sandboxs_socket_needs_a_token_and_keeps_to_its_topics_and_heartbeats() {
    use app::engine::secrets::Sensitive;
    use app::engine::yeastar::PbxApi;
    use server::sandbox::pbx::{DEMO_PBX_CLIENT_ID, DEMO_PBX_CLIENT_SECRET};
    let app = TestApp::spawn().await;
    let pbx = &app.sandbox.pbx;
    let base = format!("{}/sandbox/pbx", app.base);
    let url = app::engine::pbx_events::socket_url(&base);
    let open = |token: String| {
        let mut req = format!("{url}?access_token={token}")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("User-Agent", "test-client".parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    // No valid token: no socket (the PBX answers with its JSON instead).
    assert!(open("not-a-token".into()).await.is_err());
    let api = PbxApi::new(
        reqwest::Client::new(),
        &base,
        DEMO_PBX_CLIENT_ID,
        Sensitive::new(DEMO_PBX_CLIENT_SECRET),
    );
    let token = api.access_token().await.unwrap().expose().to_string();
    let (mut ws, _) = open(token.clone()).await.unwrap();

    ws.send(Message::Text("{\"topics\": 1}".into()))
        .await
        .unwrap();
    let answer: Value = read_json(&mut ws).await;
    assert_eq!(answer["errcode"], 40002);
    ws.send(Message::Text(r#"{"topic_list":[30012]}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        read_json(&mut ws).await,
        json!({"errcode": 0, "errmsg": "SUCCESS"})
    );
    ws.send(Message::Text("heartbeat".into())).await.unwrap();
    assert_eq!(
        read_text(&mut ws).await.as_deref(),
        Some("heartbeat response")
    );
    // Only the subscribed topic: the call's 30011s are not sent, its CDR is.
    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.hang_up_call(&id).unwrap();
    let cdr = read_json(&mut ws).await;
    assert_eq!(cdr["type"], 30012);
    let msg: Value = serde_json::from_str(cdr["msg"].as_str().unwrap()).unwrap();
    assert_eq!(msg["call_id"], id.as_str());
    assert_eq!(msg["status"], "NO ANSWER");
    assert_eq!(pbx.pusher.stats().heartbeats, 1);

    // A socket that says nothing for the idle time is closed (shortened here).
    pbx.pusher.configure(|c| c.socket_idle_ms = 50);
    let (mut quiet, _) = open(token).await.unwrap();
    assert_eq!(read_text(&mut quiet).await, None, "closed by the PBX");
}

async fn read_text<S>(ws: &mut S) -> Option<String>
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match within("wait 7", ws.next()).await {
            Some(Ok(Message::Text(t))) => return Some(t.as_str().to_string()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

async fn read_json<S>(ws: &mut S) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    serde_json::from_str(&read_text(ws).await.expect("a message")).unwrap()
}
