//! Calls as the integration log, the simulator and the PBX sandbox's console show them.

use serde::{Deserialize, Serialize};

use super::JobView;

/// One call in the integration log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub call_id: String,
    /// `inbound`, `outbound`, `internal`.
    pub direction: String,
    pub external_number: Option<String>,
    pub extensions: Vec<String>,
    /// The call type once ended (`Inbound Missed`…); `None` while open or for internal calls.
    pub call_type: Option<String>,
    pub open: bool,
    /// Start time in the PBX's clock, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub started_ms: i64,
    /// The extension that answered, or that the missed call is counted on.
    pub extension: Option<String>,
    /// The Zoho Desk agent bound to that extension now.
    pub agent: Option<String>,
    /// The extension that answered, once one did.
    pub answered_by: Option<String>,
}

/// One event as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEventView {
    pub event_id: String,
    pub source: String,
    pub kind: String,
    pub extension: Option<String>,
    pub at: String,
    pub received: String,
}

/// One fact the call model derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFactView {
    /// `ringing` or `ended`.
    pub kind: String,
    pub extension: Option<String>,
    pub call_type: Option<String>,
    pub at: String,
    pub ring_secs: Option<i64>,
    pub talk_secs: Option<i64>,
    pub timed_out: bool,
    /// The agent bound to the extension when the fact was made.
    pub agent_id: Option<String>,
    /// Why the fact means no Zoho work: `unbound`, `disabled`, `not_connected`; `None`: for Zoho.
    pub skip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetail {
    pub summary: CallSummary,
    /// Where its recording plays (`/recordings/<call>`), when the PBX recorded it.
    #[serde(default)]
    pub recording: Option<String>,
    pub events: Vec<CallEventView>,
    pub facts: Vec<CallFactView>,
    /// The Zoho work of the call (rules), with each attempt.
    pub jobs: Vec<JobView>,
}

/// The log's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    pub number: String,
    pub extension: String,
    /// A call type, `open`, `internal`, or empty for all.
    pub outcome: String,
    /// Older calls than this start time (the "Older calls" page).
    pub before_ms: Option<i64>,
}

/// The simulator's default caller: a contact of the sandbox (Jennifer Lawrence).
pub const DEMO_CALLER: &str = "+8613800138000";

/// The simulator's buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimAction {
    /// Rings the extensions (several: a ring group) from, or dials out to, a number.
    Place {
        inbound: bool,
        external_number: String,
        extensions: String,
    },
    Answer {
        call_id: String,
        extension: String,
    },
    HangUp {
        call_id: String,
    },
    RingOut {
        call_id: String,
    },
    /// `ring_group`, `missed`, `unknown_caller`, `repeat_caller`.
    Scenario {
        name: String,
        extension: String,
    },
}

/// Extension numbers as typed: separated by commas or spaces.
pub fn extension_list(raw: &str) -> Vec<String> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A call on the simulator's page: one placed from it in this sign-in (as it was typed), or one
/// in progress placed elsewhere (an agent's click to call, a real PBX), with its state now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCall {
    pub call_id: String,
    pub inbound: bool,
    pub number: String,
    pub extensions: Vec<String>,
    /// The extension that answered, once one did.
    pub answered: Option<String>,
    pub ended: bool,
}

/// Where the PBX sends call events (the secret itself is fetched only on request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub native_url: String,
    pub yeastar_url: String,
}

/// A call in progress on the PBX sandbox, as its console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxConsoleCall {
    pub call_id: String,
    pub members: Vec<PbxConsoleMember>,
}

/// One party of a PBX sandbox call: an extension, or the trunk's outside party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxConsoleMember {
    /// `extension`, `inbound` or `outbound`.
    pub kind: String,
    /// The extension's number, or the outside number.
    pub number: String,
    /// The PBX's `member_status`: `RING`, `ALERT`, `ANSWER`, `ANSWERED`, `BYE`.
    pub status: String,
}
