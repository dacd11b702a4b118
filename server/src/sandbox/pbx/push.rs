//! The PBX sandbox's event push over its webhook (`docs/yeastar-openapi.md` §4.1): one POST
//! per event, the envelope as JSON, `X-Signature` = Base64(HMAC-SHA256(secret, raw body)); an
//! answer other than 2xx (or none within the timeout) is retried up to the retry count, then
//! the event is given up, like the PBX does. Events leave in the order they happened, one at a
//! time. Tests wait for the queue to drain ([`Pusher::flushed`]), never for a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

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
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: None,
            secret: DEMO_PBX_WEBHOOK_SECRET.to_string(),
            retries: 3,
            timeout: Duration::from_secs(5),
            msg_as_object: false,
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

    /// Queues the events for the webhook (nothing when no webhook is set).
    pub fn emit(&self, emits: Vec<Emit>) {
        let cfg = self.config();
        let Some(url) = cfg.url.clone() else {
            return;
        };
        let mut queue = lock(&self.inner.queue);
        let tx = queue.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(deliver(self.inner.clone(), rx));
            tx
        });
        for e in emits {
            let body = serde_json::to_vec(&e.envelope(cfg.msg_as_object)).unwrap_or_default();
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
