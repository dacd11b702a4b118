//! The PBX's company contacts (phonebook): groups of contacts, edited by the admin, and the one
//! group Contact Sync fills from Zoho Desk (requirements §3, §10).
//!
//! The group bound to the helpdesk carries the Helpdesk tag. While it does, the group and its
//! contacts are read-only: every edit or delete by hand is refused with
//! [`EngineError::ReadOnly`]; only [`Phonebook::upsert_synced_contact`] writes into it. Releasing
//! the tag (disconnect, or sync switched off) leaves the group and its contacts, editable.

use time::OffsetDateTime;

use super::directory::extensions::is_email;
use super::lookup::ZohoRecord;
use super::store::contacts::PhonebookWriteError;
use super::store::Store;
use super::EngineError;
use crate::model::{
    ContactGroup, FieldError, FieldProblem, Missing, PhonebookContact, PhonebookContactInput,
    RuleSettings, SyncNote, ZohoModule,
};

/// A group name: 1 to 64 characters once trimmed.
pub const GROUP_NAME_MAX: usize = 64;
/// First name, last name, company.
pub const NAME_MAX: usize = 200;
pub const PHONE_MAX: usize = 50;
pub const EMAIL_MAX: usize = 254;
/// A Zoho record id.
pub const ZOHO_ID_MAX: usize = 100;

/// The Zoho modules a synced record comes from.
pub const ZOHO_MODULES: [&str; 2] = ["contacts", "accounts"];

/// A Zoho Desk record as Contact Sync writes it into the Helpdesk group: the contact's fields
/// as the phonebook's form has them (for an account, `last_name` is the account name and
/// `company` is usually empty), and where in Zoho it comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncedRecord {
    /// `contacts` or `accounts`.
    pub zoho_module: String,
    pub zoho_id: String,
    pub contact: PhonebookContactInput,
}

/// What [`Phonebook::upsert_synced_contact`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// The record was not in the group: it is now.
    Created,
    /// It was, with other values: they are replaced in place.
    Updated,
    /// It was, with the same values: nothing written.
    Unchanged,
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn field_error(field: &str, problem: FieldProblem) -> FieldError {
    FieldError {
        field: field.into(),
        problem,
    }
}

/// A phone number as the phonebook keeps it: digits, with `+ - ( )` and spaces, at least one
/// digit.
pub fn is_phone(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '))
}

/// A group name, trimmed: 1 to 64 characters.
pub fn validate_group_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        Err(field_error("name", FieldProblem::Required))
    } else if name.chars().count() > GROUP_NAME_MAX {
        Err(field_error("name", FieldProblem::TooLong))
    } else {
        Ok(name.to_string())
    }
}

/// An optional field, trimmed; empty means `None`.
fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An optional text field of at most `max` characters.
fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let v = optional(v);
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        errors.push(field_error(field, FieldProblem::TooLong));
    }
    v
}

/// An optional phone number.
fn phone(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) -> Option<String> {
    let v = optional(v);
    if let Some(p) = &v {
        if p.chars().count() > PHONE_MAX {
            errors.push(field_error(field, FieldProblem::TooLong));
        } else if !is_phone(p) {
            errors.push(field_error(field, FieldProblem::NotPhoneNumber));
        }
    }
    v
}

/// Checks a contact and returns it trimmed (empty optional fields become `None`). A contact
/// needs a last name and at least one phone number (field `phones` when it has none).
pub fn validate_contact(input: &PhonebookContactInput) -> (PhonebookContactInput, Vec<FieldError>) {
    let mut errors = Vec::new();
    let first_name = text(&mut errors, "first_name", &input.first_name, NAME_MAX);
    let last_name = input.last_name.trim().to_string();
    if last_name.is_empty() {
        errors.push(field_error("last_name", FieldProblem::Required));
    } else if last_name.chars().count() > NAME_MAX {
        errors.push(field_error("last_name", FieldProblem::TooLong));
    }
    let company = text(&mut errors, "company", &input.company, NAME_MAX);
    let email = optional(&input.email);
    if let Some(e) = &email {
        if e.len() > EMAIL_MAX || !is_email(e) {
            errors.push(field_error("email", FieldProblem::BadEmail));
        }
    }
    let business_phone = phone(&mut errors, "business_phone", &input.business_phone);
    let mobile_phone = phone(&mut errors, "mobile_phone", &input.mobile_phone);
    let home_phone = phone(&mut errors, "home_phone", &input.home_phone);
    if business_phone.is_none() && mobile_phone.is_none() && home_phone.is_none() {
        errors.push(field_error("phones", FieldProblem::Required));
    }
    (
        PhonebookContactInput {
            first_name,
            last_name,
            company,
            email,
            business_phone,
            mobile_phone,
            home_phone,
        },
        errors,
    )
}

/// Checks a Zoho record the way a contact is checked, plus its module and id. A record with
/// only a first name keeps it as the last name (the manual asks for a first *or* a last name).
pub fn validate_synced(rec: &SyncedRecord) -> (PhonebookContactInput, Vec<FieldError>) {
    let mut contact = rec.contact.clone();
    // A record with a first name only: the phonebook needs a last name.
    if contact.last_name.trim().is_empty() {
        if let Some(f) = contact.first_name.take() {
            contact.last_name = f;
        }
    }
    let (clean, mut errors) = validate_contact(&contact);
    if !ZOHO_MODULES.contains(&rec.zoho_module.as_str()) {
        errors.push(field_error("zoho_module", FieldProblem::Required));
    }
    let id = rec.zoho_id.trim();
    if id.is_empty() {
        errors.push(field_error("zoho_id", FieldProblem::Required));
    } else if id.len() > ZOHO_ID_MAX {
        errors.push(field_error("zoho_id", FieldProblem::TooLong));
    }
    (clean, errors)
}

/// `duplicate` names the field a unique key stands for.
fn write_error(e: PhonebookWriteError, duplicate: &str) -> EngineError {
    match e {
        PhonebookWriteError::Duplicate => {
            EngineError::Invalid(vec![field_error(duplicate, FieldProblem::Duplicate)])
        }
        PhonebookWriteError::NotFound => EngineError::NotFound,
        PhonebookWriteError::ReadOnly(group) => EngineError::ReadOnly(group),
        PhonebookWriteError::NotEmpty(group, contacts) => {
            EngineError::GroupNotEmpty { group, contacts }
        }
        PhonebookWriteError::Store(e) => e.into(),
    }
}

/// Why a record cannot go into the phonebook, if it cannot: the manual asks for "a first name
/// or a last name" and a phone number.
pub fn incomplete(rec: &ZohoRecord) -> Option<Missing> {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    let has_phone = !blank(&rec.phone) || !blank(&rec.mobile);
    let has_name = match rec.module {
        ZohoModule::Contacts => !blank(&rec.first_name) || !blank(&rec.last_name),
        ZohoModule::Accounts => !rec.name.trim().is_empty(),
    };
    match (has_name, has_phone) {
        (true, true) => None,
        (false, true) => Some(Missing::Name),
        (true, false) => Some(Missing::Phone),
        (false, false) => Some(Missing::NameAndPhone),
    }
}

/// The company contacts service: groups, their contacts, and the group Contact Sync fills.
#[derive(Clone, Debug)]
pub struct Phonebook {
    store: Store,
}

impl Phonebook {
    pub fn new(store: Store) -> Phonebook {
        Phonebook { store }
    }

    /// Every company contacts group, by name, with its number of contacts and Helpdesk tag.
    pub async fn phonebook_groups(&self) -> Result<Vec<ContactGroup>, EngineError> {
        Ok(self.store.contact_groups().await?)
    }

    /// A group that exists, or `NotFound`.
    async fn phonebook_group(&self, id: i64) -> Result<ContactGroup, EngineError> {
        self.store
            .contact_group(id)
            .await?
            .ok_or(EngineError::NotFound)
    }

    /// A group that exists and does not carry the Helpdesk tag.
    async fn editable_group(&self, id: i64) -> Result<ContactGroup, EngineError> {
        let g = self.phonebook_group(id).await?;
        if g.helpdesk {
            return Err(EngineError::ReadOnly(g.name));
        }
        Ok(g)
    }

    /// A new group's or a renamed group's name, unique among the other groups regardless of
    /// case (the store's unique keys back this up against a concurrent write).
    async fn unique_group_name(
        &self,
        raw: &str,
        except: Option<i64>,
    ) -> Result<String, EngineError> {
        let name = validate_group_name(raw).map_err(|e| EngineError::Invalid(vec![e]))?;
        let lower = name.to_lowercase();
        let taken = self
            .store
            .contact_groups()
            .await?
            .into_iter()
            .any(|g| Some(g.id) != except && g.name.to_lowercase() == lower);
        if taken {
            return Err(EngineError::Invalid(vec![field_error(
                "name",
                FieldProblem::Duplicate,
            )]));
        }
        Ok(name)
    }

    /// Creates an empty group; the name is trimmed, 1 to 64 characters, and unique (field
    /// `name`).
    pub async fn create_phonebook_group(&self, name: &str) -> Result<i64, EngineError> {
        let name = self.unique_group_name(name, None).await?;
        self.store
            .insert_contact_group(&name, now())
            .await
            .map_err(|e| write_error(e, "name"))
    }

    pub async fn rename_phonebook_group(&self, id: i64, name: &str) -> Result<(), EngineError> {
        self.editable_group(id).await?;
        let name = self.unique_group_name(name, Some(id)).await?;
        self.store
            .rename_contact_group(id, &name)
            .await
            .map_err(|e| write_error(e, "name"))
    }

    /// Deletes the group with its contacts.
    pub async fn delete_phonebook_group(&self, id: i64) -> Result<(), EngineError> {
        self.store
            .delete_contact_group(id)
            .await
            .map_err(|e| write_error(e, "name"))
    }

    /// The group's contacts, by last name.
    pub async fn phonebook_contacts(
        &self,
        group_id: i64,
    ) -> Result<Vec<PhonebookContact>, EngineError> {
        self.phonebook_group(group_id).await?;
        Ok(self.store.contacts(group_id).await?)
    }

    pub async fn create_phonebook_contact(
        &self,
        group_id: i64,
        input: PhonebookContactInput,
    ) -> Result<i64, EngineError> {
        self.editable_group(group_id).await?;
        let (clean, errors) = validate_contact(&input);
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        self.store
            .insert_contact(group_id, &clean, now())
            .await
            .map_err(|e| write_error(e, "last_name"))
    }

    pub async fn update_phonebook_contact(
        &self,
        id: i64,
        input: PhonebookContactInput,
    ) -> Result<(), EngineError> {
        let contact = self.store.contact(id).await?.ok_or(EngineError::NotFound)?;
        self.editable_group(contact.group_id).await?;
        let (clean, errors) = validate_contact(&input);
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        self.store
            .update_contact(id, &clean, now())
            .await
            .map_err(|e| write_error(e, "last_name"))
    }

    pub async fn delete_phonebook_contact(&self, id: i64) -> Result<(), EngineError> {
        self.store
            .delete_contact(id)
            .await
            .map_err(|e| write_error(e, "last_name"))
    }

    /// Binds the group to the helpdesk (sets the Helpdesk tag). Refused unless the group is
    /// empty ([`EngineError::GroupNotEmpty`] says how many contacts it has); binding the group
    /// that already carries the tag again is accepted and changes nothing. Only one group
    /// carries the tag: binding one clears it from any other.
    pub async fn bind_helpdesk_group(&self, id: i64) -> Result<(), EngineError> {
        self.store
            .bind_helpdesk_group(id)
            .await
            .map_err(|e| write_error(e, "name"))?;
        tracing::info!(group = id, "company contacts group bound to the helpdesk");
        Ok(())
    }

    /// Clears the Helpdesk tag from every group (on disconnect, or when sync is switched off);
    /// the groups and their contacts stay, and become editable.
    pub async fn release_helpdesk_group(&self) -> Result<(), EngineError> {
        let n = self.store.release_helpdesk_groups().await?;
        if n > 0 {
            tracing::info!("company contacts group released from the helpdesk");
        }
        Ok(())
    }

    /// Writes a Zoho record into the group (the Helpdesk group; any group is accepted), keyed
    /// by (group, Zoho record id): added the first time, updated in place when a field changed,
    /// left alone otherwise. A record the phonebook cannot hold (no name, no phone number, a
    /// malformed number or e-mail) is refused with [`EngineError::Invalid`], whose fields say
    /// why (for the integration log).
    pub async fn upsert_synced_contact(
        &self,
        group_id: i64,
        rec: &SyncedRecord,
    ) -> Result<UpsertOutcome, EngineError> {
        let (clean, errors) = validate_synced(rec);
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        let zoho_id = rec.zoho_id.trim();
        // Twice at most: a concurrent upsert of the same record can insert it between our look
        // and our insert; the second look then finds it.
        for _ in 0..2 {
            match self.store.synced_contact(group_id, zoho_id).await? {
                Some(existing) => {
                    if existing.fields() == clean
                        && existing.zoho_module.as_deref() == Some(rec.zoho_module.as_str())
                    {
                        return Ok(UpsertOutcome::Unchanged);
                    }
                    self.store
                        .update_synced_contact(existing.id, &rec.zoho_module, &clean, now())
                        .await
                        .map_err(|e| write_error(e, "zoho_id"))?;
                    return Ok(UpsertOutcome::Updated);
                }
                None => {
                    match self
                        .store
                        .insert_synced_contact(group_id, &rec.zoho_module, zoho_id, &clean, now())
                        .await
                    {
                        Ok(_) => return Ok(UpsertOutcome::Created),
                        Err(PhonebookWriteError::Duplicate) => continue,
                        Err(e) => return Err(write_error(e, "zoho_id")),
                    }
                }
            }
        }
        Err(write_error(PhonebookWriteError::Duplicate, "zoho_id"))
    }

    /// Writes a matched record into the sync group; returns what happened, in words for the log.
    /// `rules` are the settings as they are now.
    pub(crate) async fn sync_record(
        &self,
        rules: &RuleSettings,
        group_id: i64,
        rec: &ZohoRecord,
    ) -> Result<SyncNote, EngineError> {
        if let Some(missing) = incomplete(rec) {
            return Ok(SyncNote::Incomplete { missing });
        }
        // The rules may have changed since the call: sync only into the group the rules sync
        // to now (saving the rules binds and releases the tag with them; never write into a
        // group the admin took back).
        if !(rules.sync_contacts && rules.sync_group_id == Some(group_id)) {
            return Ok(SyncNote::GroupReleased);
        }
        let synced = SyncedRecord {
            zoho_module: rec.module.as_str().to_string(),
            zoho_id: rec.id.clone(),
            contact: PhonebookContactInput {
                first_name: rec.first_name.clone(),
                last_name: match rec.module {
                    ZohoModule::Contacts => rec.last_name.clone().unwrap_or_default(),
                    ZohoModule::Accounts => rec.name.clone(),
                },
                company: rec.company.clone(),
                email: rec.email.clone(),
                business_phone: rec.phone.clone(),
                mobile_phone: rec.mobile.clone(),
                home_phone: None,
            },
        };
        Ok(match self.upsert_synced_contact(group_id, &synced).await {
            Ok(UpsertOutcome::Created) => SyncNote::Added,
            Ok(UpsertOutcome::Updated) => SyncNote::Updated,
            Ok(UpsertOutcome::Unchanged) => SyncNote::Unchanged,
            // The phonebook's own rules refused the record (a phone it cannot dial, a name too
            // long): the lookup still counts, the sync is reported with the fields.
            Err(EngineError::Invalid(list)) => SyncNote::Refused {
                fields: list.into_iter().map(|f| f.field).collect(),
            },
            Err(e) => return Err(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(errs: &[FieldError]) -> Vec<(&str, FieldProblem)> {
        errs.iter().map(|e| (e.field.as_str(), e.problem)).collect()
    }

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(validate_group_name("  Sales  ").unwrap(), "Sales");
        assert_eq!(validate_group_name("销售部").unwrap(), "销售部");
        assert_eq!(
            validate_group_name("   ").unwrap_err().problem,
            FieldProblem::Required
        );
        assert_eq!(
            validate_group_name(&"组".repeat(64)).unwrap(),
            "组".repeat(64)
        );
        assert_eq!(
            validate_group_name(&"x".repeat(65)).unwrap_err().problem,
            FieldProblem::TooLong
        );
    }

    #[test]
    fn phone_numbers_are_digits_with_a_few_signs() {
        for ok in ["5503309", "+86 138 0013 8000", "(020) 555-0101", "2005"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["", "+", "- ()", "555.0101", "call me", "123x4", "１２３"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    #[test]
    fn contacts_need_a_last_name_and_a_phone() {
        let ok = PhonebookContactInput {
            first_name: Some("  Jennifer ".into()),
            last_name: " Lawrence ".into(),
            company: Some("".into()),
            email: Some(" jen@example.com ".into()),
            business_phone: None,
            mobile_phone: Some(" +86 138 0013 8000 ".into()),
            home_phone: Some("  ".into()),
        };
        let (clean, errs) = validate_contact(&ok);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(clean.first_name.as_deref(), Some("Jennifer"));
        assert_eq!(clean.last_name, "Lawrence");
        assert_eq!(clean.company, None);
        assert_eq!(clean.email.as_deref(), Some("jen@example.com"));
        assert_eq!(clean.mobile_phone.as_deref(), Some("+86 138 0013 8000"));
        assert_eq!(clean.home_phone, None);

        let (_, errs) = validate_contact(&PhonebookContactInput::default());
        assert_eq!(
            problems(&errs),
            [
                ("last_name", FieldProblem::Required),
                ("phones", FieldProblem::Required)
            ]
        );

        let bad = PhonebookContactInput {
            first_name: Some("x".repeat(201)),
            last_name: "y".repeat(201),
            company: Some("z".repeat(201)),
            email: Some("not an email".into()),
            business_phone: Some("555.0101".into()),
            mobile_phone: Some("1".repeat(51)),
            home_phone: Some("12345".into()),
        };
        let (_, errs) = validate_contact(&bad);
        assert_eq!(
            problems(&errs),
            [
                ("first_name", FieldProblem::TooLong),
                ("last_name", FieldProblem::TooLong),
                ("company", FieldProblem::TooLong),
                ("email", FieldProblem::BadEmail),
                ("business_phone", FieldProblem::NotPhoneNumber),
                ("mobile_phone", FieldProblem::TooLong),
            ]
        );
    }

    #[test]
    fn synced_records_need_a_name_a_phone_a_module_and_an_id() {
        let rec = SyncedRecord {
            zoho_module: "contacts".into(),
            zoho_id: "1892000000042032".into(),
            contact: PhonebookContactInput {
                first_name: Some("Jennifer".into()),
                last_name: " ".into(),
                mobile_phone: Some("+8613800138000".into()),
                ..Default::default()
            },
        };
        let (clean, errs) = validate_synced(&rec);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            (clean.first_name, clean.last_name.as_str()),
            (None, "Jennifer")
        );

        let (_, errs) = validate_synced(&SyncedRecord {
            zoho_module: "leads".into(),
            ..Default::default()
        });
        assert_eq!(
            problems(&errs),
            [
                ("last_name", FieldProblem::Required),
                ("phones", FieldProblem::Required),
                ("zoho_module", FieldProblem::Required),
                ("zoho_id", FieldProblem::Required),
            ]
        );
    }

    fn contact() -> ZohoRecord {
        ZohoRecord {
            module: ZohoModule::Contacts,
            id: "1".into(),
            first_name: Some("Phillip".into()),
            last_name: Some("Huff".into()),
            name: "Phillip Huff".into(),
            company: None,
            email: None,
            phone: Some("5503301".into()),
            mobile: None,
            web_url: None,
            modified: None,
            others: 0,
        }
    }

    #[test]
    fn incomplete_records_are_named() {
        assert_eq!(incomplete(&contact()), None);
        // A first name or a last name will do.
        let mut c = contact();
        c.first_name = None;
        assert_eq!(incomplete(&c), None);
        let mut c = contact();
        c.last_name = None;
        assert_eq!(incomplete(&c), None);
        c.first_name = Some("  ".into());
        assert_eq!(incomplete(&c), Some(Missing::Name));
        let mut c = contact();
        c.phone = None;
        assert_eq!(incomplete(&c), Some(Missing::Phone));
        c.mobile = Some("138".into());
        assert_eq!(incomplete(&c), None);
        c.mobile = None;
        c.first_name = None;
        c.last_name = None;
        assert_eq!(incomplete(&c), Some(Missing::NameAndPhone));
        let mut a = contact();
        a.module = ZohoModule::Accounts;
        a.first_name = None;
        a.last_name = None;
        assert_eq!(incomplete(&a), None);
        a.name = String::new();
        assert_eq!(incomplete(&a), Some(Missing::Name));
    }
}
