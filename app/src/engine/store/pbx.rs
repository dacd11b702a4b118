//! The PBX connection row (`pbx_connection`, one row at most) and its sealed Client Secret
//! (in `app_secret`, so that `server rotate-key` re-seals it with the others).

use sqlx::Row;

use super::{Store, StoreError};

/// The name of the Client Secret's row in `app_secret`.
pub const PBX_SECRET_NAME: &str = "pbx_client_secret";
/// The PBX's webhook secret (it signs the events it pushes).
pub const PBX_PUSH_SECRET_NAME: &str = "pbx_push_secret";

/// The PBX connection as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PbxConnectionRow {
    pub base_url: String,
    pub client_id: String,
    /// `untested`, `connected` or `failed` (the table's CHECK holds it to these).
    pub status: String,
    pub last_error: Option<String>,
    pub extension_count: Option<i64>,
    pub checked_ms: Option<i64>,
    /// `webhook` or `websocket` (the table's CHECK holds it to these).
    pub events_via: String,
    /// Click to call asks the agent's phone to pick up by itself.
    pub auto_answer: bool,
}

impl Store {
    pub async fn pbx_connection(&self) -> Result<Option<PbxConnectionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT base_url, client_id, status, last_error, extension_count, checked_ms,
                    events_via, auto_answer
             FROM pbx_connection WHERE connection_id = 1",
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| PbxConnectionRow {
            base_url: r.get("base_url"),
            client_id: r.get("client_id"),
            status: r.get("status"),
            last_error: r.get("last_error"),
            extension_count: r.get("extension_count"),
            checked_ms: r.get("checked_ms"),
            events_via: r.get("events_via"),
            auto_answer: r.get::<i64, _>("auto_answer") != 0,
        }))
    }

    pub async fn save_pbx_connection(
        &self,
        row: &PbxConnectionRow,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pbx_connection (connection_id, base_url, client_id, status, last_error,
                                         extension_count, checked_ms, updated_ms, events_via,
                                         auto_answer)
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (connection_id) DO UPDATE SET base_url = $1, client_id = $2,
                 status = $3, last_error = $4, extension_count = $5, checked_ms = $6,
                 updated_ms = $7, events_via = $8, auto_answer = $9",
        )
        .bind(&row.base_url)
        .bind(&row.client_id)
        .bind(&row.status)
        .bind(&row.last_error)
        .bind(row.extension_count)
        .bind(row.checked_ms)
        .bind(now_ms)
        .bind(&row.events_via)
        .bind(i64::from(row.auto_answer))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets the PBX connection and its secrets, in one transaction.
    pub async fn delete_pbx_connection(&self) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM pbx_connection")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM app_secret WHERE name IN ($1, $2)")
            .bind(PBX_SECRET_NAME)
            .bind(PBX_PUSH_SECRET_NAME)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
