//! The gate every Desk API request passes before its handler runs, as an extractor: a handler
//! takes `Gated<Op>`, where `Op` names the operation (declared with [`operations!`]) and what it
//! needs. In order: the request is counted (in total and by operation) and held in flight; then
//! the faults of `/sandbox/control` (outage, latency, concurrency limit, throttling, failures);
//! then the token (`Authorization: Zoho-oauthtoken …`), the org (`orgId` header), the scopes,
//! the edition and the day's credits (docs/zoho-desk-api.md §3–§5).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::MutexGuard;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::super::state::{OrgData, State as SbState};
use super::super::{InFlight, Sandbox, SharedSandbox};
use super::error::ApiError;

/// Whether an operation works on one org (`orgId` header) or on the user's orgs.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum OrgNeed {
    /// `/organizations`: no `orgId` header.
    None,
    Required,
}

/// Whether the operation is a call-activity one (gated by edition).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Feature {
    Any,
    Calls,
}

/// Scope requirement: every group must be satisfied by one of its alternatives.
pub(super) type Scopes = &'static [&'static [&'static str]];

pub(super) const SETTINGS_READ: Scopes = &[&["Desk.settings.READ", "Desk.basic.READ"]];
pub(super) const CONTACTS_READ: Scopes = &[&["Desk.contacts.READ"]];
pub(super) const CONTACTS_CREATE: Scopes = &[&["Desk.contacts.CREATE"]];
pub(super) const CONTACTS_SEARCH: Scopes = &[&["Desk.search.READ"], &["Desk.contacts.READ"]];
pub(super) const TICKETS_READ: Scopes = &[&["Desk.tickets.READ"]];
pub(super) const TICKETS_CREATE: Scopes = &[&["Desk.tickets.CREATE"]];
pub(super) const TICKETS_SEARCH: Scopes = &[&["Desk.search.READ"], &["Desk.tickets.READ"]];
pub(super) const SEARCH_READ: Scopes = &[&["Desk.search.READ"]];
const CALL_READERS: &[&str] = &[
    "Desk.activities.calls.READ",
    "Desk.activities.READ",
    "Desk.calls.READ",
];
pub(super) const CALLS_READ: Scopes = &[CALL_READERS];
pub(super) const CALLS_CREATE: Scopes = &[&[
    "Desk.activities.calls.CREATE",
    "Desk.activities.CREATE",
    "Desk.calls.CREATE",
]];
pub(super) const CALLS_SEARCH: Scopes = &[&["Desk.search.READ"], CALL_READERS];

/// A Desk API operation: what the gate counts it as and what it requires.
pub(super) trait Operation {
    /// The name the request counters use (`"GET /contacts/search"`).
    const NAME: &'static str;
    const SCOPES: Scopes;
    const ORG: OrgNeed;
    const FEATURE: Feature;
}

/// Declares operations, one a line: `Name: "GET /path", SCOPES, OrgNeed::…, Feature::…;`
/// makes a marker type `Name` that implements [`Operation`].
macro_rules! operations {
    ($($op:ident: $name:literal, $scopes:expr, $org:expr, $feature:expr;)*) => {
        $(
            #[doc = concat!("`", $name, "`")]
            struct $op;

            impl $crate::sandbox::api::gate::Operation for $op {
                const NAME: &'static str = $name;
                const SCOPES: $crate::sandbox::api::gate::Scopes = $scopes;
                const ORG: $crate::sandbox::api::gate::OrgNeed = $org;
                const FEATURE: $crate::sandbox::api::gate::Feature = $feature;
            }
        )*
    };
}
pub(super) use operations;

/// A request the gate let through: the sandbox, the org it works on and what the token was
/// granted. It counts the request as in flight until dropped.
pub(super) struct Admitted {
    /// The `orgId` header's org (0 for operations without one).
    pub(super) org_id: u64,
    scopes: Vec<String>,
    /// The organizations the token was granted at consent.
    pub(super) orgs: Vec<u64>,
    in_flight: InFlight,
}

impl Admitted {
    pub(super) fn sandbox(&self) -> &Sandbox {
        &self.in_flight.sandbox
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, SbState> {
        self.sandbox().lock()
    }

    /// The org the request works on (the gate checked that it exists).
    pub(super) fn org<'s>(&self, st: &'s SbState) -> &'s OrgData {
        st.org(self.org_id).expect("gate checked the org")
    }

    /// Whether the token's scopes also allow another operation's `need`.
    pub(super) fn can(&self, need: Scopes) -> bool {
        has_scopes(&self.scopes, need)
    }
}

/// The extractor: the request admitted for operation `Op`, held for the whole handler.
pub(super) struct Gated<Op> {
    admitted: Admitted,
    _op: PhantomData<fn() -> Op>,
}

impl<Op> Deref for Gated<Op> {
    type Target = Admitted;

    fn deref(&self) -> &Admitted {
        &self.admitted
    }
}

impl<Op: Operation> FromRequestParts<SharedSandbox> for Gated<Op> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sb: &SharedSandbox) -> Result<Self, ApiError> {
        let admitted = gate(
            sb,
            &parts.headers,
            Op::NAME,
            Op::SCOPES,
            Op::ORG,
            Op::FEATURE,
        )
        .await?;
        Ok(Gated {
            admitted,
            _op: PhantomData,
        })
    }
}

/// Does a granted scope cover a required one? `Desk.contacts.ALL` covers `Desk.contacts.READ`;
/// `Desk.activities.ALL` covers `Desk.activities.calls.CREATE`.
pub(crate) fn scope_covers(granted: &str, required: &str) -> bool {
    let (Some((g_res, g_op)), Some((r_res, r_op))) =
        (granted.rsplit_once('.'), required.rsplit_once('.'))
    else {
        return false;
    };
    (g_op == r_op || g_op == "ALL") && (g_res == r_res || r_res.starts_with(&format!("{g_res}.")))
}

fn has_scopes(granted: &[String], need: Scopes) -> bool {
    need.iter().all(|group| {
        group
            .iter()
            .any(|r| granted.iter().any(|g| scope_covers(g, r)))
    })
}

async fn gate(
    sb: &SharedSandbox,
    headers: &HeaderMap,
    op: &'static str,
    need: Scopes,
    org_need: OrgNeed,
    feature: Feature,
) -> Result<Admitted, ApiError> {
    let in_flight = sb.enter();
    let (outage, latency) = {
        let mut st = sb.lock();
        st.stats.total += 1;
        *st.stats.by_operation.entry(op.to_string()).or_default() += 1;
        (st.settings.outage, st.settings.latency_ms)
    };
    if outage {
        return Err(ApiError::service_unavailable());
    }
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let mut st = sb.lock();
    if let Some(limit) = st.settings.concurrency_limit {
        if in_flight.now > limit {
            return Err(ApiError::too_many(st.settings.retry_after_secs));
        }
    }
    if st.settings.throttle_next > 0 {
        st.settings.throttle_next -= 1;
        return Err(ApiError::too_many(st.settings.retry_after_secs));
    }
    if st.settings.fail_next > 0
        || (st.settings.error_rate > 0.0 && rand::random::<f64>() < st.settings.error_rate)
    {
        st.settings.fail_next = st.settings.fail_next.saturating_sub(1);
        return Err(ApiError::internal());
    }

    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let token = token
        .strip_prefix("Zoho-oauthtoken ")
        .ok_or_else(ApiError::invalid_oauth)?
        .trim();
    let now = st.now();
    let (scopes, granted_orgs) = match st.access_tokens.get(token) {
        Some(at) if at.expires > now => (at.scopes.clone(), at.orgs.clone()),
        _ => return Err(ApiError::invalid_oauth()),
    };

    let org_id = match org_need {
        OrgNeed::None => 0,
        OrgNeed::Required => {
            let raw = headers
                .get("orgId")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .unwrap_or("");
            if raw.is_empty() {
                return Err(ApiError::invalid_field(
                    "orgId",
                    "missing",
                    "The orgId header is required.",
                ));
            }
            // Only an organization the user granted at consent.
            raw.parse::<u64>()
                .ok()
                .filter(|id| st.org(*id).is_some() && granted_orgs.contains(id))
                .ok_or_else(ApiError::org_mismatch)?
        }
    };

    if !has_scopes(&scopes, need) {
        return Err(ApiError::scope_mismatch());
    }

    if feature == Feature::Calls {
        let edition = st
            .org(org_id)
            .map(|o| o.org.edition.clone())
            .unwrap_or_default();
        if edition == "FREE" || edition == "EXPRESS" {
            return Err(ApiError::license_limited(&edition));
        }
    }

    // Credits are counted per (sandbox) day, like Zoho's daily allotment.
    let today = now.date();
    if st.credits_day != Some(today) {
        st.credits_day = Some(today);
        st.credits_used = 0;
    }
    if let Some(budget) = st.settings.daily_credits {
        if st.credits_used >= budget {
            let midnight = today.next_day().map(|d| d.midnight().assume_utc());
            let wait = midnight
                .map(|m| (m - now).whole_seconds().max(1) as u64)
                .unwrap_or(3600);
            return Err(ApiError::threshold_exceeded(wait));
        }
    }
    st.credits_used += 1;

    Ok(Admitted {
        org_id,
        scopes,
        orgs: granted_orgs,
        in_flight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_cover_their_operations() {
        assert!(scope_covers("Desk.contacts.ALL", "Desk.contacts.READ"));
        assert!(scope_covers("Desk.contacts.READ", "Desk.contacts.READ"));
        assert!(!scope_covers("Desk.contacts.READ", "Desk.contacts.CREATE"));
        assert!(scope_covers(
            "Desk.activities.ALL",
            "Desk.activities.calls.CREATE"
        ));
        assert!(!scope_covers("Desk.tickets.ALL", "Desk.contacts.READ"));
        assert!(has_scopes(
            &["Desk.search.READ".into(), "Desk.contacts.ALL".into()],
            CONTACTS_SEARCH
        ));
        assert!(!has_scopes(&["Desk.contacts.ALL".into()], CONTACTS_SEARCH));
        assert!(has_scopes(&["Desk.calls.CREATE".into()], CALLS_CREATE));
    }
}
