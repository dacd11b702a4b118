//! The runner's policy, as constants and pure functions: how many jobs run at once (Zoho's
//! limit per org, shared among instances), the lease, the retry schedule, and what each kind
//! of failure means (retry, wait for quota, pause, fail).

use crate::engine::store::jobs::Finish;
use crate::engine::zoho::ZohoError;
use crate::engine::EngineError;

/// How long a claimed job is ours by default (`HELPDESK_JOB_LEASE_SECS`): longer than a Zoho
/// request can take (20 s) plus margin. An instance that dies leaves its jobs to the others
/// (PostgreSQL) or to itself after a restart when this runs out.
pub const LEASE_MS: i64 = 120_000;
/// Jobs run at once when the org's edition is unknown (Zoho allows 5 concurrent requests even
/// on the Free edition).
pub const WORKERS: i64 = 4;

/// Jobs run at once for an org of this edition: one below Zoho's concurrency limit for it
/// (docs/zoho-desk-api.md §3.5: Free 5, Express and Standard 10, Professional 15, Enterprise
/// 25), which leaves a request for what admins do on the pages meanwhile. A 429 from Zoho is
/// retried later all the same.
pub fn workers_for(edition: Option<&str>) -> i64 {
    match edition.map(|e| e.trim().to_ascii_uppercase()).as_deref() {
        Some("EXPRESS" | "STANDARD") => 9,
        Some("PROFESSIONAL") => 14,
        Some("ENTERPRISE") => 24,
        _ => WORKERS,
    }
}
/// An instance whose heartbeat is older than this is gone: its share of Zoho's requests in
/// flight goes back to the others (the housekeeping beats every minute).
pub const INSTANCE_GONE_MS: i64 = 150_000;

/// This instance's share of `workers` (Zoho's requests in flight for the org, a limit per org)
/// when `instances` instances run jobs on one database: the same share each, at least one.
pub fn share_of(workers: i64, instances: i64) -> i64 {
    (workers / instances.max(1)).max(1)
}

/// The retry schedule: after the n-th failed attempt wait `SCHEDULE[n-1]` (the last repeats).
pub const SCHEDULE_SECS: &[i64] = &[5, 30, 120, 600, 1800, 3600];
/// A job still failing this long after it was made fails for good (retry by hand).
pub const GIVE_UP_MS: i64 = 24 * 3600 * 1000;
/// The least wait after a 429.
const RATE_LIMIT_FLOOR_SECS: i64 = 10;
/// The wait when the day's API credits are gone and Zoho did not say for how long.
const QUOTA_WAIT_SECS: i64 = 3600;

/// The delay before attempt `attempts + 1`, with ±20 % jitter (`jitter` in -1.0..=1.0).
pub fn backoff_ms(attempts: i64, jitter: f64) -> i64 {
    let i = (attempts.max(1) - 1) as usize;
    let base = SCHEDULE_SECS[i.min(SCHEDULE_SECS.len() - 1)] as f64 * 1000.0;
    (base * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0))).round() as i64
}

/// Classifies a failed attempt.
pub fn classify(e: &EngineError, attempts: i64, created_ms: i64, now: i64, jitter: f64) -> Finish {
    let retry = |delay_ms: i64, uncertain: bool| {
        if now - created_ms > GIVE_UP_MS {
            Finish::Failed(format!("gave up after {attempts} attempts over a day: {e}"))
        } else {
            Finish::Retry {
                at_ms: now + delay_ms,
                uncertain,
                error: e.to_string(),
            }
        }
    };
    match e {
        EngineError::AuthExpired => Finish::Paused(
            "the Zoho Desk authorization has expired: the work waits for it to be renewed".into(),
        ),
        EngineError::TokenRefresh(why) => Finish::Paused(format!(
            "the access token could not be renewed ({why}): the work waits"
        )),
        EngineError::NotConfigured => {
            Finish::Paused("the integration is not connected or is switched off".into())
        }
        EngineError::Zoho(z) => match z {
            ZohoError::Timeout | ZohoError::Decode(_) => retry(backoff_ms(attempts, jitter), true),
            ZohoError::Network(m) => retry(
                backoff_ms(attempts, jitter),
                m.as_str() != "connection failed",
            ),
            ZohoError::RateLimited { code, retry_after } => {
                let told = retry_after.map(|s| s as i64 * 1000);
                if code == "THRESHOLD_EXCEEDED" {
                    // The day's credits are gone: wait for the reset, not the schedule.
                    retry(told.unwrap_or(QUOTA_WAIT_SECS * 1000), false)
                } else {
                    let wait = backoff_ms(attempts, jitter)
                        .max(told.unwrap_or(0))
                        .max(RATE_LIMIT_FLOOR_SECS * 1000);
                    retry(wait, false)
                }
            }
            ZohoError::Api { status, .. } if *status >= 500 => {
                retry(backoff_ms(attempts, jitter), true)
            }
            ZohoError::Unauthorized => Finish::Paused("Zoho refused the access token".into()),
            ZohoError::OAuth(_) => retry(backoff_ms(attempts, jitter), false),
            ZohoError::Api { .. } => Finish::Failed(e.to_string()),
        },
        EngineError::Store(_) => retry(backoff_ms(attempts, jitter), true),
        _ => Finish::Failed(e.to_string()),
    }
}

/// Call activities exist from the Standard edition up (requirements §6).
pub fn call_logs_available(edition: Option<&str>) -> bool {
    !matches!(edition, Some("FREE") | Some("EXPRESS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_share_the_orgs_requests_in_flight() {
        assert_eq!(share_of(24, 1), 24);
        assert_eq!(share_of(24, 2), 12);
        // Never more than the org allows in all, never nothing for an instance.
        assert_eq!(share_of(9, 2), 4);
        assert_eq!(share_of(4, 3), 1);
        assert_eq!(share_of(4, 8), 1);
        assert_eq!(share_of(4, 0), 4);
    }

    #[test]
    fn jobs_at_once_stay_below_the_editions_concurrency() {
        assert_eq!(workers_for(None), 4);
        assert_eq!(workers_for(Some("FREE")), 4);
        assert_eq!(workers_for(Some("Standard")), 9);
        assert_eq!(workers_for(Some("PROFESSIONAL")), 14);
        assert_eq!(workers_for(Some("ENTERPRISE")), 24);
        // An edition this app does not know: the smallest limit.
        assert_eq!(workers_for(Some("ZOHOONE")), 4);
    }

    #[test]
    fn backoff_follows_the_schedule_with_jitter() {
        assert_eq!(backoff_ms(1, 0.0), 5_000);
        assert_eq!(backoff_ms(2, 0.0), 30_000);
        assert_eq!(backoff_ms(6, 0.0), 3_600_000);
        assert_eq!(backoff_ms(60, 0.0), 3_600_000);
        assert_eq!(backoff_ms(1, 1.0), 6_000);
        assert_eq!(backoff_ms(1, -1.0), 4_000);
    }

    fn zoho(e: ZohoError) -> EngineError {
        EngineError::Zoho(e)
    }

    #[test]
    fn failures_are_classified() {
        let now = 1_000_000;
        let f = classify(&zoho(ZohoError::Timeout), 1, now, now, 0.0);
        assert_eq!(
            f,
            Finish::Retry {
                at_ms: now + 5_000,
                uncertain: true,
                error: "Zoho did not answer in time".into()
            }
        );
        let f = classify(
            &zoho(ZohoError::Network("connection failed".into())),
            2,
            now,
            now,
            0.0,
        );
        assert!(
            matches!(f, Finish::Retry { uncertain: false, at_ms, .. } if at_ms == now + 30_000)
        );
        // 429 with Retry-After: the later of the schedule, the header and the floor.
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "TOO_MANY_REQUESTS".into(),
                retry_after: Some(45),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 45_000));
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "TOO_MANY_REQUESTS".into(),
                retry_after: None,
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 10_000));
        // Daily credits gone: wait for the reset Zoho names.
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "THRESHOLD_EXCEEDED".into(),
                retry_after: Some(7200),
            }),
            9,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 7_200_000));
        let f = classify(
            &zoho(ZohoError::Api {
                status: 503,
                code: "SERVICE_UNAVAILABLE".into(),
                message: String::new(),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(
            f,
            Finish::Retry {
                uncertain: true,
                ..
            }
        ));
        let f = classify(
            &zoho(ZohoError::Api {
                status: 422,
                code: "INVALID_DATA".into(),
                message: "bad".into(),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Failed(_)));
        assert!(matches!(
            classify(&EngineError::AuthExpired, 1, now, now, 0.0),
            Finish::Paused(_)
        ));
        // A day of failures: over.
        let f = classify(&zoho(ZohoError::Timeout), 30, 0, GIVE_UP_MS + 1, 0.0);
        assert!(matches!(f, Finish::Failed(w) if w.contains("gave up after 30 attempts")));
    }

    #[test]
    fn call_logs_need_standard_or_above() {
        assert!(!call_logs_available(Some("FREE")));
        assert!(!call_logs_available(Some("EXPRESS")));
        assert!(call_logs_available(Some("PROFESSIONAL")));
        assert!(call_logs_available(None));
    }
}
