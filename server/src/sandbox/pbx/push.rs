//! The PBX sandbox's event push (`docs/yeastar-openapi.md` §4.1). Over its webhook: one POST
//! per event, the envelope as JSON, `X-Signature` = Base64(HMAC-SHA256(secret, raw body)); an
//! answer other than 2xx (or none within the timeout) is retried up to the retry count, then
//! the event is given up, like the PBX does. Events leave in the order they happened, one at a
//! time. Tests wait for the queue to drain ([`Pusher::flushed`]), never for a time. Over its
//! sockets (`socket.rs`): the same envelope, to every open socket subscribed to its type.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch, Notify};

use super::calls::Emit;

/// The sandbox's webhook secret (the PBX generates one of 32 characters per webhook; the
/// sandbox's is fixed so that the demo is wired up on first start; documented in README).
pub const DEMO_PBX_WEBHOOK_SECRET: &str = "pbxsandboxwebhooksecret000000001";

/// The webhook as configured on the PBX (Integrations > API > Webhook Event Push).
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Where events go; none: nothing is pushed.
    pub url: Option<String>,
    pub secret: String,
    /// Retries after the first attempt (the PBX allows 1–5).
    pub retries: u32,
    /// How long one attempt may take (the PBX allows 3–10 s).
    pub timeout: Duration,
    /// Send `msg` as a JSON object instead of the JSON-encoded string real traffic carries.
    pub msg_as_object: bool,
    /// A socket that sends nothing for this long is closed (the PBX: 60 s).
    pub socket_idle_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: None,
            secret: DEMO_PBX_WEBHOOK_SECRET.to_string(),
            retries: 3,
            timeout: Duration::from_secs(5),
            msg_as_object: false,
            socket_idle_ms: 60_000,
        }
    }
}

/// How the pushes went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushStats {
    /// Events the receiver took (2xx).
    pub delivered: u64,
    /// Events given up after every retry.
    pub given_up: u64,
    /// POSTs sent, retries included.
    pub attempts: u64,
    /// Sockets opened so far, and open now.
    pub sockets_opened: u64,
    pub live_sockets: u64,
    pub heartbeats: u64,
    /// Events sent over sockets.
    pub socket_events: u64,
}

/// An event for the sockets: its type (for the topic lists) and its envelope as text.
#[derive(Clone, Debug)]
pub struct SocketEvent {
    pub event_type: i64,
    pub text: String,
}

struct Queued {
    url: String,
    secret: String,
    retries: u32,
    timeout: Duration,
    body: Vec<u8>,
}

struct Inner {
    config: Mutex<WebhookConfig>,
    stats: Mutex<PushStats>,
    queue: Mutex<Option<mpsc::UnboundedSender<Queued>>>,
    pending: AtomicUsize,
    idle: Notify,
    http: reqwest::Client,
    sockets: broadcast::Sender<SocketEvent>,
    /// Bumped to drop every open socket.
    drops: watch::Sender<u64>,
    /// New sockets refused (the PBX "away").
    refuse: AtomicBool,
    /// Sockets open now (tests wait for a drop to be done).
    live: watch::Sender<u64>,
}

/// Counts an open socket while it lives.
pub struct OpenSocket(Arc<Inner>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        lock(&self.0.stats).live_sockets -= 1;
        self.0.live.send_modify(|n| *n -= 1);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The push side of the PBX sandbox.
pub struct Pusher {
    inner: Arc<Inner>,
}

impl Default for Pusher {
    fn default() -> Self {
        Pusher {
            inner: Arc::new(Inner {
                config: Mutex::new(WebhookConfig::default()),
                stats: Mutex::new(PushStats::default()),
                queue: Mutex::new(None),
                pending: AtomicUsize::new(0),
                idle: Notify::new(),
                http: reqwest::Client::builder()
                    .no_proxy()
                    .build()
                    .expect("a plain HTTP client"),
                sockets: broadcast::Sender::new(4096),
                drops: watch::Sender::new(0),
                refuse: AtomicBool::new(false),
                live: watch::Sender::new(0),
            }),
        }
    }
}

impl Pusher {
    pub fn config(&self) -> WebhookConfig {
        lock(&self.inner.config).clone()
    }

    pub fn configure(&self, change: impl FnOnce(&mut WebhookConfig)) {
        change(&mut lock(&self.inner.config));
    }

    pub fn stats(&self) -> PushStats {
        lock(&self.inner.stats).clone()
    }

    pub fn socket_events(&self) -> broadcast::Receiver<SocketEvent> {
        self.inner.sockets.subscribe()
    }

    pub fn drop_signal(&self) -> watch::Receiver<u64> {
        self.inner.drops.subscribe()
    }

    /// Drops every open socket now.
    pub fn drop_sockets(&self) {
        self.inner.drops.send_modify(|n| *n += 1);
    }

    /// Refuses new sockets (and drops the open ones) while `away`.
    pub fn set_sockets_away(&self, away: bool) {
        self.inner.refuse.store(away, Ordering::SeqCst);
        if away {
            self.drop_sockets();
        }
    }

    pub fn sockets_refused(&self) -> bool {
        self.inner.refuse.load(Ordering::SeqCst)
    }

    pub fn socket_opened(&self) -> OpenSocket {
        {
            let mut s = lock(&self.inner.stats);
            s.sockets_opened += 1;
            s.live_sockets += 1;
        }
        self.inner.live.send_modify(|n| *n += 1);
        OpenSocket(self.inner.clone())
    }

    /// The number of sockets open, as it changes.
    pub fn live_sockets(&self) -> watch::Receiver<u64> {
        self.inner.live.subscribe()
    }

    pub fn count_heartbeat(&self) {
        lock(&self.inner.stats).heartbeats += 1;
    }

    pub fn count_socket_event(&self) {
        lock(&self.inner.stats).socket_events += 1;
    }

    /// Sends the events to the open sockets and queues them for the webhook (when one is set).
    pub fn emit(&self, emits: Vec<Emit>) {
        let cfg = self.config();
        let texts: Vec<String> = emits
            .iter()
            .map(|e| e.envelope(cfg.msg_as_object).to_string())
            .collect();
        for (e, text) in emits.iter().zip(&texts) {
            // No socket open is not an error.
            let _ = self.inner.sockets.send(SocketEvent {
                event_type: e.event_type,
                text: text.clone(),
            });
        }
        let Some(url) = cfg.url.clone() else {
            return;
        };
        let mut queue = lock(&self.inner.queue);
        let tx = queue.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(deliver(self.inner.clone(), rx));
            tx
        });
        for text in texts {
            let body = text.into_bytes();
            self.inner.pending.fetch_add(1, Ordering::SeqCst);
            let queued = Queued {
                url: url.clone(),
                secret: cfg.secret.clone(),
                retries: cfg.retries,
                timeout: cfg.timeout,
                body,
            };
            if tx.send(queued).is_err() {
                self.inner.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Waits until every queued event was delivered or given up.
    pub async fn flushed(&self) {
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.inner.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

async fn deliver(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Queued>) {
    while let Some(q) = rx.recv().await {
        let signature = app::engine::yeastar::push_signature(&q.secret, &q.body);
        let mut delivered = false;
        for _ in 0..=q.retries {
            lock(&inner.stats).attempts += 1;
            let sent = inner
                .http
                .post(&q.url)
                .timeout(q.timeout)
                .header("Content-Type", "application/json")
                .header("X-Signature", &signature)
                .body(q.body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                delivered = true;
                break;
            }
        }
        {
            let mut s = lock(&inner.stats);
            if delivered {
                s.delivered += 1;
            } else {
                s.given_up += 1;
            }
        }
        if inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            inner.idle.notify_waiters();
        }
    }
}
