//! The PBX's company contacts (phonebook) and their groups.

use serde::{Deserialize, Serialize};

/// A company contacts group (the phonebook page's list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactGroup {
    pub id: i64,
    pub name: String,
    /// How many contacts it holds.
    pub contacts: i64,
    /// Carries the Helpdesk tag: Contact Sync fills it, and it is read-only.
    pub helpdesk: bool,
}

/// A contact of a company contacts group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookContact {
    pub id: i64,
    pub group_id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub home_phone: Option<String>,
    /// `contacts` or `accounts` when synced from Zoho Desk.
    pub zoho_module: Option<String>,
    pub zoho_id: Option<String>,
}

/// The add / edit form of a contact. Empty optional fields mean "none".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookContactInput {
    #[serde(default)]
    pub first_name: Option<String>,
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub business_phone: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub home_phone: Option<String>,
}
