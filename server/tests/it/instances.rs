//! Several instances on one PostgreSQL (issue 17): two server processes share the database,
//! a call's events reach them alternately, and one is killed mid-load. Runs in the suite's
//! PostgreSQL pass (`HELPDESK_TEST_POSTGRES`); SQLite is one process's by design.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Row;

use crate::support;
use crate::support::app::TestApp;
use crate::support::flows::{connected, desk_post, save_rules};
use crate::support::process::Process;

/// One instance of the app as a process on the test app's database and key, behind the
/// same public URL, with the Zoho Desk sandbox of the test app (in this process) as its Zoho.
/// `sandbox`: it mounts one too, which makes the plain-http links of that public URL's sandbox
/// trusted there (pops; docs/decisions.md, 2026-12-02).
fn instance(app: &TestApp, sandbox: bool) -> Process {
    let vars = [
        ("DATABASE_URL", app.database_url.clone()),
        ("HELPDESK_DATA_DIR", app.dir.display().to_string()),
        ("HELPDESK_PUBLIC_URL", app.base.clone()),
        (
            "HELPDESK_SANDBOX",
            if sandbox { "1" } else { "0" }.to_string(),
        ),
        ("HELPDESK_DEFAULT_COUNTRY", "CN".to_string()),
        // A dead instance's jobs are taken over after 10 s instead of 2 minutes (longer
        // than any attempt takes here, even on a loaded machine: a live attempt is never taken
        // over).
        ("HELPDESK_JOB_LEASE_SECS", "10".to_string()),
        (
            "LEPTOS_SITE_ROOT",
            app.dir.join("no-site").display().to_string(),
        ),
    ];
    Process::spawn(&vars, app.dir.clone(), false)
}

/// A call's events as a PBX sends them: ringing, answered (every other call), ended.
fn call_events(id: &str, number: &str, answered: bool, t0: i64) -> Vec<Value> {
    let at = |s: i64| {
        time::OffsetDateTime::from_unix_timestamp(t0 + s)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let base = json!({"call_id": id, "direction": "inbound", "external_number": number,
                      "extension": "2005"});
    let with = |extra: Value| {
        let mut e = base.clone();
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let mut out = vec![with(
        json!({"event_id": format!("{id}-r"), "kind": "ringing", "at": at(0)}),
    )];
    if answered {
        out.push(with(
            json!({"event_id": format!("{id}-a"), "kind": "answered", "at": at(4)}),
        ));
    }
    out.push(with(
        json!({"event_id": format!("{id}-e"), "kind": "ended", "at": at(30),
                         "result": if answered { "answered" } else { "no_answer" }}),
    ));
    out
}

async fn post_event(http: &reqwest::Client, base: &str, secret: &str, e: &Value) -> bool {
    let bytes = serde_json::to_vec(e).unwrap();
    let r = http
        .post(format!("{base}/api/pbx/call-events"))
        .header("Content-Type", "application/json")
        .header(
            "X-Helpdesk-Signature",
            app::engine::calls::sign(secret, &bytes),
        )
        .body(bytes)
        .send()
        .await;
    match r {
        Ok(r) => {
            assert_eq!(r.status(), 200, "{base}: {}", r.text().await.unwrap());
            true
        }
        // The instance is gone: a load balancer sends the delivery to the other one.
        Err(_) => false,
    }
}

/// Several instances need PostgreSQL: on SQLite (the suite's first pass) a test says it is
/// skipped.
fn without_postgres() -> bool {
    let skip = support::db::postgres().is_none();
    if skip {
        eprintln!("skipped: several instances need PostgreSQL (HELPDESK_TEST_POSTGRES)");
    }
    skip
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(app.engine.store.pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_work_and_a_killed_one_loses_and_doubles_nothing() {
    if without_postgres() {
        return;
    }
    // The admin's side (and the Zoho Desk sandbox) in this process; it runs no jobs.
    let app = connected().await;
    let (s, b) = save_rules(
        &app,
        &[
            ("create_contacts", "true"),
            ("create_inbound", "true"),
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
            ("ticket_inbound_missed", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let secret = app.webhook_secret();

    // Zoho answers in 100 ms: each instance has several jobs under way at any time.
    app.sandbox_control("", json!({"latency_ms": 100})).await;
    let mut a = instance(&app, false);
    let b = instance(&app, false);
    let http = reqwest::Client::new();
    let run = rand::random::<u32>();
    let t0 = app::engine::calls::now_ms() / 1000;
    const CALLS: usize = 90;
    let ids: Vec<String> = (0..CALLS).map(|i| format!("fo-{run}-{i:04}")).collect();
    let mut a_alive = true;
    let mut to_a = 0;
    for (i, id) in ids.iter().enumerate() {
        // One caller in ten is new to Zoho (a contact is created), the rest known.
        let number = if i % 10 == 9 {
            format!("+1 (212) 555-{:04}", 1000 + i)
        } else {
            "5503301".to_string()
        };
        for (k, e) in call_events(id, &number, i % 2 == 0, t0 + i as i64)
            .iter()
            .enumerate()
        {
            // Each call's events alternate between the instances.
            let first = if (i + k) % 2 == 0 && a_alive {
                &a.base
            } else {
                &b.base
            };
            if !post_event(&http, first, &secret, e).await {
                assert!(post_event(&http, &b.base, &secret, e).await);
            } else if first == &a.base {
                to_a += 1;
            }
        }
        if i == CALLS / 3 {
            // Mid-load, with its share of the work under way: SIGKILL.
            a.kill();
            a_alive = false;
        }
    }
    assert!(
        to_a > CALLS / 3,
        "the first instance took its share: {to_a}"
    );

    // The survivor finishes everything, the dead one's claimed jobs once their lease ran out.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = count(
            &app,
            "SELECT COUNT(*) FROM job WHERE state IN ('queued', 'running')",
        )
        .await;
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} jobs still pending");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM job WHERE state <> 'done'").await,
        0,
        "every job done"
    );

    // Zoho holds exactly one ticket and one call activity for every call.
    let (tickets, activities) = app.sandbox.descriptions();
    for id in &ids {
        let marker = app::engine::rules::call_marker(id);
        let t = tickets.iter().filter(|d| d.contains(&marker)).count();
        let c = activities.iter().filter(|d| d.contains(&marker)).count();
        if (t, c) != (1, 1) {
            let jobs = crate::support::flows::jobs_of(&app, id).await;
            panic!("{id}: {t} tickets, {c} call activities; its jobs: {jobs:#?}");
        }
    }
    // One contact for each new caller.
    let contacts = crate::support::flows::desk(&app, "/contacts?limit=99").await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for i in (0..CALLS).filter(|i| i % 10 == 9) {
        let digits = format!("1212555{:04}", 1000 + i);
        let made = contacts
            .iter()
            .filter(|c| {
                let phone: String = c["phone"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                phone.ends_with(&digits[1..])
            })
            .count();
        assert_eq!(made, 1, "contacts for {digits}");
    }
    drop(b);
}

/// A server function called at another instance, as the page (served by the first) does.
async fn call_at(
    app: &TestApp,
    base: &str,
    client: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = client
        .post(format!("{base}/api/{endpoint}"))
        .header("Origin", &app.base)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_one_instance_gets_the_pop_of_a_call_that_reached_the_other_once() {
    if without_postgres() {
        return;
    }
    // The first instance (in this process, with the sandbox) holds Kristin's live connection;
    // the PBX's events reach the second, whose job runner looks the caller up.
    let app = connected().await;
    let kristin = app.agent("2005", "web-client-2005").await;
    let mut tab = support::live::Live::open(&app, &kristin).await.unwrap();
    let other = instance(&app, true);
    let secret = app.webhook_secret();
    let http = reqwest::Client::new();
    let id = format!("pop-{}", rand::random::<u32>());
    let t0 = app::engine::calls::now_ms() / 1000;
    let events = call_events(&id, "5503301", true, t0);

    assert!(post_event(&http, &other.base, &secret, &events[0]).await);
    tab.expect_call(&id, "Ringing").await;
    let pop = tab.next_not_call().await.unwrap();
    assert_eq!(
        (
            pop["type"].as_str(),
            pop["call_id"].as_str(),
            pop["name"].as_str()
        ),
        (Some("pop"), Some(id.as_str()), Some("Paul Young")),
        "{pop}"
    );

    // One tab opens it, whichever instance each tab reached: the second instance says yes
    // first, then the first says no.
    let (s, b) = call_at(
        &app,
        &other.base,
        &kristin,
        "agent/pop",
        &[("call_id", &id)],
    )
    .await;
    assert_eq!((s, b), (200, Value::Bool(true)));
    let (s, b) = call_at(&app, &app.base, &kristin, "agent/pop", &[("call_id", &id)]).await;
    assert_eq!((s, b), (200, Value::Bool(false)));

    // The rest of the call reaches the tab as call updates only: no second pop.
    for e in &events[1..] {
        assert!(post_event(&http, &other.base, &secret, e).await);
    }
    tab.expect_call(&id, "Ended").await;

    // The admin switches the integration off at the first instance: the second follows (the
    // database's trigger tells it), and the calls it takes mean no Zoho work.
    let (s, _) = app.call("helpdesk/enable", &[("on", "false")]).await;
    assert_eq!(s, 200);
    let skips = |d: &Value| -> Vec<Value> {
        d["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["skip"].clone())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in 0.. {
        let off = format!("{id}-off-{n}");
        let e = &call_events(&off, "5503301", false, t0 + 60)[0];
        assert!(post_event(&http, &other.base, &secret, e).await);
        let (_, d) = app.call("calls/detail", &[("call_id", off.as_str())]).await;
        if skips(&d).iter().all(|s| s == "disabled") && !skips(&d).is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance never switched off: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_zohos_requests_in_flight_and_a_gone_one_gives_its_share_back() {
    if without_postgres() {
        return;
    }
    use app::engine::jobs::{workers_for, INSTANCE_GONE_MS};
    let app = connected().await;
    let now = app::engine::calls::now_ms();
    let all = workers_for(None) as usize;
    assert_eq!(app.engine.jobs.heartbeat(now).await.unwrap(), 1);
    assert_eq!(app.engine.jobs.job_slots(None), all);

    // A second instance counts itself in as it starts: each runs half of what the org allows.
    let mut other = instance(&app, false);
    assert_eq!(app.engine.jobs.heartbeat(now).await.unwrap(), 2);
    assert_eq!(app.engine.jobs.job_slots(None), all / 2);
    assert_eq!(app.engine.jobs.job_slots(Some("ENTERPRISE")), 12);

    // Killed: once its heartbeat is older than INSTANCE_GONE_MS (it started within a minute
    // of `now`), its share comes back to the survivor.
    other.kill();
    let later = now + INSTANCE_GONE_MS + 60_000;
    assert_eq!(app.engine.jobs.heartbeat(later).await.unwrap(), 1);
    assert_eq!(app.engine.jobs.job_slots(None), all);
}

/// What another instance's creation job says on the database's channel once it made a record
/// for `number`; returns when this instance has heard it (its cached lookup is gone).
async fn made_elsewhere(app: &TestApp, number: &str, account: bool) {
    let key = app.engine.numbers().key(number);
    let payload = json!({"t": "forget", "key": key, "account": account,
                         "from": "helpdesk-elsewhere"});
    sqlx::query("SELECT pg_notify('helpdesk', $1)")
        .bind(payload.to_string())
        .execute(app.engine.store.pool())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.engine.lookup.cache.get(&key).is_some() {
        assert!(Instant::now() < deadline, "the notice was never heard");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_by_another_instance_is_looked_for_at_once_and_a_contact_costs_nothing() {
    if without_postgres() {
        return;
    }
    let app = connected().await;
    let lists = || {
        app.engine.metrics.get(
            "helpdesk_zoho_requests_total",
            &[("operation", "GET /accounts")],
        )
    };
    // The org's accounts are read with a first unknown number, and a second is nobody too.
    assert_eq!(app.engine.lookup_number("5503388").await.unwrap(), None);
    assert_eq!(app.engine.lookup_number("5503389").await.unwrap(), None);
    assert_eq!(lists(), 1);

    // Another instance makes an account for the second number: this one reads the newest
    // accounts at its next lookup, within the minute it would otherwise wait.
    let (s, made) = desk_post(
        &app,
        "/accounts",
        &json!({"accountName": "Made Elsewhere", "phone": "550-3389"}),
    )
    .await;
    assert_eq!(s, 200, "{made}");
    made_elsewhere(&app, "5503389", true).await;
    let found = app.engine.lookup_number("5503389").await.unwrap();
    assert_eq!(found.map(|r| r.name).as_deref(), Some("Made Elsewhere"));
    assert_eq!(lists(), 2);

    // A contact made elsewhere (for the first number): forgotten, and no accounts read.
    made_elsewhere(&app, "5503388", false).await;
    assert_eq!(app.engine.lookup_number("5503388").await.unwrap(), None);
    assert_eq!(lists(), 2);
}

/// The store's side of a takeover, on the suite's backend (PostgreSQL writes a job's end and
/// its attempt in one statement, SQLite in one transaction): an attempt whose lease ran out and
/// whose job another instance claimed writes nothing, not even its attempt; the owner's does.
#[tokio::test]
async fn an_attempt_whose_job_another_instance_took_over_writes_nothing() {
    use app::engine::queue::{key, Job, JobResult};
    use app::engine::store::jobs::{Finish, NewJob};
    use app::model::JobState;
    let app = TestApp::spawn().await;
    let store = &app.engine.store;
    let job = NewJob {
        key: key::creation("+14155550134"),
        job: Job::Create(app::engine::rules::CreateWork {
            number: "+1 (415) 555-0134".into(),
            number_key: "+14155550134".into(),
            create_as: app::model::ZohoModule::Contacts,
        }),
        call_id: Some("takeover".into()),
        waits_for: None,
    };
    assert!(store.enqueue(&job, 1_000).await.unwrap());
    // One instance claims it with a lease until 2,000 and stalls past it; another takes over.
    let first = store.claim_jobs(1_000, 2_000, 4).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(store.reap_jobs(2_500, false).await.unwrap(), 1);
    let second = store.claim_jobs(2_500, 9_000, 4).await.unwrap();
    assert_eq!(second[0].attempts, first[0].attempts + 1);
    let done = |summary: &str| {
        Finish::Done(Box::new(JobResult {
            summary: summary.into(),
            ..JobResult::default()
        }))
    };
    let id = first[0].job_id;
    let before = store.job_attempts(&[id]).await.unwrap();
    let stale = done("stale");
    let written = store.finish_job(id, first[0].attempts, 1_000, 3_000, &stale);
    assert!(!written.await.unwrap());
    let row = store.job_by_key(&job.key).await.unwrap().unwrap();
    assert_eq!(row.state, JobState::Running);
    assert_eq!(store.job_attempts(&[id]).await.unwrap(), before);
    // The owner's end is written, with its attempt.
    let mine = done("mine");
    let written = store.finish_job(id, second[0].attempts, 2_500, 3_100, &mine);
    assert!(written.await.unwrap());
    let row = store.job_by_key(&job.key).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.result.unwrap().summary.as_str()),
        (JobState::Done, "mine")
    );
    let after = store.job_attempts(&[id]).await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    let last = after.iter().max_by_key(|a| a.finished_ms).unwrap();
    assert_eq!(
        (last.finished_ms, last.detail.as_deref()),
        (3_100, Some("mine"))
    );
}
