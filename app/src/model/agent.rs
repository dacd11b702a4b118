//! The agent web client: its calls, screen pops, live events, and click to call.

use serde::{Deserialize, Serialize};

use super::ZohoModule;

/// The agent signed in to the web client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMe {
    pub extension: String,
    /// The extension's name.
    pub name: String,
    /// The Zoho Desk user bound to the extension, if any.
    pub agent_name: Option<String>,
    /// The origin of the connected Zoho Desk (`https://desk.zoho.eu`): a number clicked on its
    /// pages is dialled at once; one from anywhere else is confirmed first.
    #[serde(default)]
    pub desk_origin: Option<String>,
    /// The client can answer a ringing call: without a PBX (the simulator answers) or with the
    /// PBX sandbox; a real PBX's phone answers its own calls.
    #[serde(default)]
    pub can_answer: bool,
}

/// Where a call stands, seen from one extension (the agent web client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgentCallState {
    /// Inbound: the extension rings. Outbound: it is dialling out.
    Ringing,
    /// The extension is talking on the call.
    Talking,
    /// Over (or answered by another extension of a ring group).
    Ended,
}

/// The Zoho Desk record a caller matched, as the agent client shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallerView {
    pub name: String,
    /// The record's Zoho Desk page.
    pub url: Option<String>,
    pub module: ZohoModule,
}

/// One call of the signed-in agent's extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCall {
    pub call_id: String,
    /// `inbound`, `outbound`, `internal`.
    pub direction: String,
    /// The other party: the outside number (or, for an internal call, as the PBX gave it).
    pub number: String,
    pub state: AgentCallState,
    /// Start time in the PBX's clock, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub started_ms: i64,
    /// Once ended: `Inbound Answered`, `Inbound Missed`, `Outbound Answered`, `Outbound Unanswered`.
    pub call_type: Option<String>,
    /// A ring group's call that another extension answered.
    pub answered_elsewhere: bool,
    pub talk_secs: Option<i64>,
    /// The caller's Zoho Desk record, when the integration knows it.
    pub caller: Option<CallerView>,
}

/// Open this Zoho Desk page now: the caller's record, while the agent's extension rings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenPop {
    pub call_id: String,
    pub number: String,
    pub name: String,
    pub url: String,
}

/// What the agent client's live connection carries (one extension's, never another's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A call of the extension changed.
    Call(AgentCall),
    /// Pop this page (every tab gets it; the first to claim it opens it).
    Pop(ScreenPop),
    /// The web-client password was changed or removed: sign in again.
    SignedOut,
    /// Some events were missed (a slow connection): read the calls again.
    Resync,
    /// The PBX could not place a call of the extension (30015).
    DialFailed(DialFailure),
}

/// A call the PBX could not place, with its reason verbatim (`NO Dial Permission`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialFailure {
    pub call_id: String,
    pub reason: String,
}

/// The agent client's calls: in progress, then the latest ended ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCalls {
    pub active: Vec<AgentCall>,
    pub recent: Vec<AgentCall>,
}

/// What a `tel:` link or a pasted number holds, as a number to dial: `%XX` escapes decoded
/// (a `+` stays a plus), the `tel:` scheme and any `;parameters` (RFC 3966) dropped.
pub fn dial_string(raw: &str) -> String {
    let b = raw.trim().as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    let s = String::from_utf8_lossy(&bytes);
    let s = s.trim();
    let s = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => &s[4..],
        _ => s,
    };
    s.split(';').next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings() {
        assert_eq!(dial_string("tel:+1-555-010-2030"), "+1-555-010-2030");
        assert_eq!(dial_string("tel%3A%2B15550102030"), "+15550102030");
        assert_eq!(dial_string("TEL:5503301"), "5503301");
        assert_eq!(dial_string(" 5503301 "), "5503301");
        assert_eq!(dial_string("tel:+861380013800;ext=12"), "+861380013800");
        assert_eq!(dial_string("+86 138 0013 8000"), "+86 138 0013 8000");
    }
}
