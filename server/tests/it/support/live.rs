//! An agent's live connection, read event by event in tests.

use serde_json::Value;

use super::app::TestApp;

/// An agent's live connection (`GET /api/agent/events`), read event by event.
pub struct Live {
    resp: reqwest::Response,
    buf: String,
}

impl Live {
    pub async fn open(app: &TestApp, client: &reqwest::Client) -> Result<Live, u16> {
        let resp = client
            .get(format!("{}/api/agent/events", app.base))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        if resp.status().as_u16() != 200 {
            return Err(resp.status().as_u16());
        }
        Ok(Live {
            resp,
            buf: String::new(),
        })
    }

    /// The next event (comments and `retry:` skipped); `None` when the server ended the
    /// stream. Waits at most 10 s for it (a bound, not a pause: events come at once).
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data.join("\n")).unwrap());
                }
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.resp.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap();
            match chunk {
                Some(c) => self.buf.push_str(&String::from_utf8_lossy(&c)),
                None => return None,
            }
        }
    }

    /// The next event that is not a `call` update.
    pub async fn next_not_call(&mut self) -> Option<Value> {
        loop {
            let e = self.next().await?;
            if e["type"] != "call" {
                return Some(e);
            }
        }
    }

    /// Reads `call` updates until one for `call_id` in `state`; panics on anything else.
    pub async fn expect_call(&mut self, call_id: &str, state: &str) -> Value {
        loop {
            let e = self.next().await.expect("the stream goes on");
            assert_eq!(e["type"], "call", "expected a call update, got {e}");
            if e["call_id"] == call_id && e["state"] == state {
                return e;
            }
        }
    }
}
