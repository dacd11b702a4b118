//! The database a test's server runs on: a new SQLite file in the test's folder or, when
//! `HELPDESK_TEST_POSTGRES` names a PostgreSQL server (`postgres://postgres@127.0.0.1`), a new
//! database on it named after the folder, so that a restart on the same folder finds the same
//! data. `make rust-test` runs the suite both ways.

use std::path::Path;
use std::sync::Mutex;

use sqlx::{Connection, Executor, Row};

const PREFIX: &str = "helpdesk_t_";

/// The PostgreSQL server the tests run on, if any.
pub fn postgres() -> Option<String> {
    std::env::var("HELPDESK_TEST_POSTGRES")
        .ok()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
}

/// `DATABASE_URL` for a server whose files are in `dir`.
pub fn url_for(dir: &Path) -> String {
    match postgres() {
        None => sqlite_url(dir),
        Some(server) => {
            let name = database_name(dir);
            let url = format!("{server}/{name}");
            // Its own thread and runtime: callers may be inside a runtime or not.
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(create(&server, &name))
            })
            .join()
            .unwrap();
            url
        }
    }
}

/// A SQLite file in `dir`, whichever backend the suite runs on (tests of the file itself).
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/helpdesk.db", dir.display())
}

fn database_name(dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    format!("{PREFIX}{:016x}", h.finish())
}

/// Creates the database unless it exists. The first call of a run drops the databases an
/// earlier run left behind.
async fn create(server: &str, name: &str) {
    static CLEANED: Mutex<bool> = Mutex::new(false);
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("HELPDESK_TEST_POSTGRES={server}: {e}"));
    let first = {
        let mut cleaned = CLEANED.lock().unwrap();
        !std::mem::replace(&mut *cleaned, true)
    };
    if first {
        let old: Vec<String> = sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{PREFIX}%"))
            .fetch_all(&mut admin)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        for db in old {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)").as_str())
                .await;
        }
    }
    match admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
    {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
        Err(e) => panic!("creating the test database {name}: {e}"),
    }
    let _ = admin.close().await;
}
