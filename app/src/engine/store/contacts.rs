//! Company contacts (the PBX phonebook) in the store: groups and their contacts.
//!
//! A group that carries the Helpdesk tag is read-only to everything but Contact Sync. Every
//! write by hand checks the tag in the same statement that writes (`... AND helpdesk = 0`), so a
//! group bound at the same moment cannot slip an edit through; when nothing was written, a
//! second look says why (no such record, or the tag).

use sqlx::Row;

use super::{DbRow, Store, StoreError};
use crate::model::{ContactGroup, PhonebookContact, PhonebookContactInput};

impl PhonebookContact {
    /// The fields a person edits (or Zoho fills), to compare with new values.
    pub fn fields(&self) -> PhonebookContactInput {
        PhonebookContactInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            company: self.company.clone(),
            email: self.email.clone(),
            business_phone: self.business_phone.clone(),
            mobile_phone: self.mobile_phone.clone(),
            home_phone: self.home_phone.clone(),
        }
    }
}

/// Why a phonebook write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PhonebookWriteError {
    /// A unique key: another group has the name, or the group already holds the Zoho record.
    #[error("duplicate")]
    Duplicate,
    #[error("no such record")]
    NotFound,
    /// The group (named) carries the Helpdesk tag.
    #[error("the group {0:?} is read-only")]
    ReadOnly(String),
    /// Binding to the helpdesk: the group (named) holds this many contacts.
    #[error("the group {0:?} has {1} contacts")]
    NotEmpty(String, i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn write_error(e: sqlx::Error) -> PhonebookWriteError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => PhonebookWriteError::Duplicate,
        // The group went away under the write.
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => PhonebookWriteError::NotFound,
        _ => PhonebookWriteError::Store(e.into()),
    }
}

const GROUP_COLUMNS: &str = "SELECT g.id, g.name, g.helpdesk, COUNT(c.id)
     FROM pbx_contact_group g LEFT JOIN pbx_contact c ON c.group_id = g.id";

fn group_row(r: DbRow) -> ContactGroup {
    ContactGroup {
        id: r.get(0),
        name: r.get(1),
        helpdesk: r.get::<i64, _>(2) != 0,
        contacts: r.get(3),
    }
}

const CONTACT_COLUMNS: &str = "SELECT id, group_id, first_name, last_name, company, email,
     business_phone, mobile_phone, home_phone, zoho_module, zoho_id FROM pbx_contact";

fn contact_row(r: DbRow) -> PhonebookContact {
    PhonebookContact {
        id: r.get(0),
        group_id: r.get(1),
        first_name: r.get(2),
        last_name: r.get(3),
        company: r.get(4),
        email: r.get(5),
        business_phone: r.get(6),
        mobile_phone: r.get(7),
        home_phone: r.get(8),
        zoho_module: r.get(9),
        zoho_id: r.get(10),
    }
}

impl Store {
    /// Every group, by name (case-insensitive).
    pub async fn contact_groups(&self) -> Result<Vec<ContactGroup>, StoreError> {
        let rows = sqlx::query(&format!(
            "{GROUP_COLUMNS} GROUP BY g.id, g.name, g.helpdesk ORDER BY LOWER(g.name), g.id"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(group_row).collect())
    }

    pub async fn contact_group(&self, id: i64) -> Result<Option<ContactGroup>, StoreError> {
        let row = sqlx::query(&format!(
            "{GROUP_COLUMNS} WHERE g.id = $1 GROUP BY g.id, g.name, g.helpdesk"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(group_row))
    }

    /// Why a write to the group found nothing to write: it is gone, or it is tagged.
    async fn why_not_written(&self, group_id: Option<i64>) -> PhonebookWriteError {
        let Some(id) = group_id else {
            return PhonebookWriteError::NotFound;
        };
        match self.contact_group(id).await {
            Ok(Some(g)) if g.helpdesk => PhonebookWriteError::ReadOnly(g.name),
            Ok(_) => PhonebookWriteError::NotFound,
            Err(e) => e.into(),
        }
    }

    pub async fn insert_contact_group(
        &self,
        name: &str,
        now: i64,
    ) -> Result<i64, PhonebookWriteError> {
        Ok(sqlx::query(
            "INSERT INTO pbx_contact_group (name, helpdesk, created_at) VALUES ($1, 0, $2)
             RETURNING id",
        )
        .bind(name)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(write_error)?
        .get(0))
    }

    pub async fn rename_contact_group(
        &self,
        id: i64,
        name: &str,
    ) -> Result<(), PhonebookWriteError> {
        let r =
            sqlx::query("UPDATE pbx_contact_group SET name = $1 WHERE id = $2 AND helpdesk = 0")
                .bind(name)
                .bind(id)
                .execute(self.pool())
                .await
                .map_err(write_error)?;
        if r.rows_affected() == 0 {
            return Err(self.why_not_written(Some(id)).await);
        }
        Ok(())
    }

    /// Deletes the group and its contacts (the foreign key cascades).
    pub async fn delete_contact_group(&self, id: i64) -> Result<(), PhonebookWriteError> {
        let r = sqlx::query("DELETE FROM pbx_contact_group WHERE id = $1 AND helpdesk = 0")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(write_error)?;
        if r.rows_affected() == 0 {
            return Err(self.why_not_written(Some(id)).await);
        }
        Ok(())
    }

    /// The group's contacts, by last name, then first name.
    pub async fn contacts(&self, group_id: i64) -> Result<Vec<PhonebookContact>, StoreError> {
        let rows = sqlx::query(&format!(
            "{CONTACT_COLUMNS} WHERE group_id = $1
             ORDER BY LOWER(last_name), LOWER(COALESCE(first_name, '')), id"
        ))
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(contact_row).collect())
    }

    pub async fn contact(&self, id: i64) -> Result<Option<PhonebookContact>, StoreError> {
        let row = sqlx::query(&format!("{CONTACT_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(contact_row))
    }

    /// The contact a Zoho record became in the group, if any.
    pub async fn synced_contact(
        &self,
        group_id: i64,
        zoho_id: &str,
    ) -> Result<Option<PhonebookContact>, StoreError> {
        let row = sqlx::query(&format!(
            "{CONTACT_COLUMNS} WHERE group_id = $1 AND zoho_id = $2"
        ))
        .bind(group_id)
        .bind(zoho_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(contact_row))
    }

    /// Adds a contact by hand: refused in a group with the Helpdesk tag.
    pub async fn insert_contact(
        &self,
        group_id: i64,
        c: &PhonebookContactInput,
        now: i64,
    ) -> Result<i64, PhonebookWriteError> {
        let row = sqlx::query(
            "INSERT INTO pbx_contact (group_id, first_name, last_name, company, email,
                 business_phone, mobile_phone, home_phone, updated_at)
             SELECT id, $2, $3, $4, $5, $6, $7, $8, $9 FROM pbx_contact_group
             WHERE id = $1 AND helpdesk = 0
             RETURNING id",
        )
        .bind(group_id)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.company)
        .bind(&c.email)
        .bind(&c.business_phone)
        .bind(&c.mobile_phone)
        .bind(&c.home_phone)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .map_err(write_error)?;
        match row {
            Some(r) => Ok(r.get(0)),
            None => Err(self.why_not_written(Some(group_id)).await),
        }
    }

    /// Edits a contact by hand: refused in a group with the Helpdesk tag.
    pub async fn update_contact(
        &self,
        id: i64,
        c: &PhonebookContactInput,
        now: i64,
    ) -> Result<(), PhonebookWriteError> {
        let r = sqlx::query(
            "UPDATE pbx_contact SET first_name = $1, last_name = $2, company = $3, email = $4,
                 business_phone = $5, mobile_phone = $6, home_phone = $7, updated_at = $8
             WHERE id = $9
               AND group_id IN (SELECT id FROM pbx_contact_group WHERE helpdesk = 0)",
        )
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.company)
        .bind(&c.email)
        .bind(&c.business_phone)
        .bind(&c.mobile_phone)
        .bind(&c.home_phone)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(write_error)?;
        if r.rows_affected() == 0 {
            let group = self.contact(id).await?.map(|c| c.group_id);
            return Err(self.why_not_written(group).await);
        }
        Ok(())
    }

    /// Deletes a contact by hand: refused in a group with the Helpdesk tag.
    pub async fn delete_contact(&self, id: i64) -> Result<(), PhonebookWriteError> {
        let r = sqlx::query(
            "DELETE FROM pbx_contact WHERE id = $1
               AND group_id IN (SELECT id FROM pbx_contact_group WHERE helpdesk = 0)",
        )
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(write_error)?;
        if r.rows_affected() == 0 {
            let group = self.contact(id).await?.map(|c| c.group_id);
            return Err(self.why_not_written(group).await);
        }
        Ok(())
    }

    /// Adds a Zoho record to a group (any group, tagged or not: this is how Contact Sync fills
    /// the Helpdesk group). `Duplicate` when the group already holds the record.
    pub async fn insert_synced_contact(
        &self,
        group_id: i64,
        zoho_module: &str,
        zoho_id: &str,
        c: &PhonebookContactInput,
        now: i64,
    ) -> Result<i64, PhonebookWriteError> {
        Ok(sqlx::query(
            "INSERT INTO pbx_contact (group_id, first_name, last_name, company, email,
                 business_phone, mobile_phone, home_phone, zoho_module, zoho_id, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING id",
        )
        .bind(group_id)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.company)
        .bind(&c.email)
        .bind(&c.business_phone)
        .bind(&c.mobile_phone)
        .bind(&c.home_phone)
        .bind(zoho_module)
        .bind(zoho_id)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(write_error)?
        .get(0))
    }

    /// Rewrites a synced contact with the record's current values.
    pub async fn update_synced_contact(
        &self,
        id: i64,
        zoho_module: &str,
        c: &PhonebookContactInput,
        now: i64,
    ) -> Result<(), PhonebookWriteError> {
        let r = sqlx::query(
            "UPDATE pbx_contact SET first_name = $1, last_name = $2, company = $3, email = $4,
                 business_phone = $5, mobile_phone = $6, home_phone = $7, zoho_module = $8,
                 updated_at = $9
             WHERE id = $10",
        )
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.company)
        .bind(&c.email)
        .bind(&c.business_phone)
        .bind(&c.mobile_phone)
        .bind(&c.home_phone)
        .bind(zoho_module)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(write_error)?;
        if r.rows_affected() == 0 {
            return Err(PhonebookWriteError::NotFound);
        }
        Ok(())
    }

    /// Puts the Helpdesk tag on the group, and takes it off every other, in one transaction.
    /// Refused when the group holds contacts, unless it already carries the tag (binding the
    /// bound group again changes nothing).
    pub async fn bind_helpdesk_group(&self, id: i64) -> Result<(), PhonebookWriteError> {
        let mut tx = self.pool().begin().await.map_err(write_error)?;
        // The write comes first, so that SQLite takes its write lock before anything is read.
        let r = sqlx::query(
            "UPDATE pbx_contact_group SET helpdesk = 1
             WHERE id = $1
               AND (helpdesk <> 0 OR NOT EXISTS (SELECT 1 FROM pbx_contact WHERE group_id = $1))",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(write_error)?;
        if r.rows_affected() == 0 {
            tx.rollback().await.map_err(write_error)?;
            return Err(match self.contact_group(id).await? {
                Some(g) => PhonebookWriteError::NotEmpty(g.name, g.contacts),
                None => PhonebookWriteError::NotFound,
            });
        }
        sqlx::query("UPDATE pbx_contact_group SET helpdesk = 0 WHERE id <> $1 AND helpdesk <> 0")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(write_error)?;
        tx.commit().await.map_err(write_error)?;
        Ok(())
    }

    /// Takes the Helpdesk tag off every group; returns how many carried it.
    pub async fn release_helpdesk_groups(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE pbx_contact_group SET helpdesk = 0 WHERE helpdesk <> 0")
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
