//! The sandbox's records and how each is rendered in Zoho Desk's JSON shapes.
//!
//! Real Zoho answers carry the full record (absent values as `null`), ids as strings and
//! times as `yyyy-MM-ddThh:mm:ss.000Z`; the renderers below do the same, so that responses
//! validate against Zoho's own OpenAPI schemas (`server/tests/data/zoho-desk-oas`).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Zoho's timestamp format: UTC with milliseconds, e.g. `2016-07-14T08:27:26.000Z`.
pub fn zoho_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses Zoho's ISO format (`…T…:…:….SSSZ`, also accepted without millis).
pub fn parse_zoho_time(s: &str) -> Option<OffsetDateTime> {
    let fmt_ms = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(s, fmt_ms)
        .or_else(|_| time::PrimitiveDateTime::parse(s, fmt))
        .ok()
        .map(|p| p.assume_utc())
}

/// The opaque token at the end of a classic `webUrl` (`…#Contacts/dv/<hash>`).
pub fn web_hash(module: &str, id: u64) -> String {
    let digest = Sha256::digest(format!("sandbox-weburl:{module}:{id}").as_bytes());
    hex::encode(&digest[..20])
}

fn opt(s: &Option<String>) -> Value {
    match s {
        Some(v) => Value::String(v.clone()),
        None => Value::Null,
    }
}

/// What every renderer needs to know about the org the record lives in.
pub struct RenderCtx<'a> {
    /// `<public>/sandbox/desk`
    pub desk_base: &'a str,
    pub portal: &'a str,
}

impl RenderCtx<'_> {
    pub fn web_url(&self, module: &str, id: u64) -> String {
        format!(
            "{}/support/{}/ShowHomePage.do#{}/dv/{}",
            self.desk_base,
            self.portal,
            module,
            web_hash(module, id)
        )
    }
}

#[derive(Clone, Debug)]
pub struct Org {
    pub id: u64,
    pub portal_name: String,
    pub company_name: String,
    pub edition: String,
    pub is_default: bool,
    pub created: OffsetDateTime,
}

impl Org {
    /// The org as Zoho lists it to a user; `user_is_admin`: whether that user administers it.
    pub fn to_json(&self, desk_base: &str, user_is_admin: bool) -> Value {
        json!({
            "id": self.id.to_string(),
            "companyName": self.company_name,
            "portalName": self.portal_name,
            "edition": self.edition,
            "isDefault": self.is_default,
            "isAdminInOrg": user_is_admin,
            "isPayloadEncryptionEnabled": false,
            "isSandboxPortal": false,
            "currencyCode": "USD",
            "currencyLocale": "US",
            "currencySymbol": "$",
            "employeeCount": "11-50",
            "description": null,
            "alias": null,
            "street": null,
            "city": null,
            "state": null,
            "country": "China",
            "zip": null,
            "mobile": null,
            "phoneNumber": null,
            "fax": null,
            "website": null,
            "primaryContact": "admin@example.com",
            "faviconURL": null,
            "logoURL": null,
            "portalURL": format!("{desk_base}/support/{}/ShowHomePage.do", self.portal_name),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Department {
    pub id: u64,
    pub name: String,
    pub is_default: bool,
    pub created: OffsetDateTime,
}

impl Department {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "nameInCustomerPortal": self.name,
            "isEnabled": true,
            "isDefault": self.is_default,
            "isVisibleInCustomerPortal": true,
            "isAssignToTeamEnabled": false,
            "chatStatus": "NOT_CREATED",
            "hasLogo": false,
            "creatorId": null,
            "description": null,
            "sanitizedName": self.name.to_lowercase().replace(' ', "-"),
            "createdTime": zoho_time(self.created),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Agent {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub active: bool,
    pub admin: bool,
    pub zuid: u64,
    pub extn: Option<String>,
    pub department_ids: Vec<u64>,
}

impl Agent {
    pub fn name(&self) -> String {
        if self.first_name.is_empty() {
            self.last_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "firstName": self.first_name,
            "lastName": self.last_name,
            "name": self.name(),
            "emailId": self.email,
            "status": if self.active { "ACTIVE" } else { "DISABLED" },
            "isConfirmed": true,
            "roleId": "1000",
            "profileId": if self.admin { "2000" } else { "2001" },
            "rolePermissionType": if self.admin { "Admin" } else { "AgentPublic" },
            "zuid": self.zuid.to_string(),
            "extn": self.extn,
            "phone": null,
            "mobile": null,
            "langCode": "en_US",
            "countryCode": "en_US",
            "timeZone": "Asia/Shanghai",
            "photoURL": null,
            "associatedDepartmentIds": self.department_ids.iter().map(u64::to_string).collect::<Vec<_>>(),
            "associatedChatDepartmentIds": [],
            "channelExpert": ["Phone", "Email", "Web"],
            "aboutInfo": null,
            "isZiaAgent": false,
        })
    }

    /// The short owner object embedded in contacts, accounts and tickets.
    pub fn owner_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "firstName": self.first_name,
            "lastName": self.last_name,
            "emailId": self.email,
            "photoURL": null,
            "zuid": self.zuid.to_string(),
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Contact {
    pub id: u64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub account_id: Option<u64>,
    pub owner_id: Option<u64>,
    pub kind: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
    pub created: Option<OffsetDateTime>,
    pub modified: Option<OffsetDateTime>,
}

impl Contact {
    pub fn full_name(&self) -> String {
        match &self.first_name {
            Some(f) if !f.is_empty() => format!("{} {}", f, self.last_name).trim().to_string(),
            _ => self.last_name.clone(),
        }
    }

    pub(crate) fn created(&self) -> OffsetDateTime {
        self.created.unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The record as `GET /contacts/{id}` and `POST /contacts` return it.
    pub fn to_json(&self, ctx: &RenderCtx, owner: Option<&Agent>) -> Value {
        json!({
            "id": self.id.to_string(),
            "firstName": opt(&self.first_name),
            "lastName": self.last_name,
            "email": opt(&self.email),
            "secondaryEmail": opt(&self.secondary_email),
            "phone": opt(&self.phone),
            "mobile": opt(&self.mobile),
            "accountId": self.account_id.map(|a| a.to_string()),
            "ownerId": self.owner_id.map(|a| a.to_string()),
            "owner": owner.map(Agent::owner_json),
            "type": opt(&self.kind),
            "title": opt(&self.title),
            "description": opt(&self.description),
            "street": opt(&self.street),
            "city": opt(&self.city),
            "state": opt(&self.state),
            "country": opt(&self.country),
            "zip": opt(&self.zip),
            "twitter": null,
            "facebook": null,
            "isDeleted": false,
            "isTrashed": false,
            "isFollowing": false,
            "isAnonymous": false,
            "isSpam": false,
            "isEndUser": false,
            "zohoCRMContact": null,
            "customerHappiness": {"badPercentage": "0", "okPercentage": "0", "goodPercentage": "0"},
            "cf": {},
            "customFields": {},
            "layoutId": null,
            "layoutDetails": null,
            "photoURL": null,
            "webUrl": ctx.web_url("Contacts", self.id),
            "accountCount": if self.account_id.is_some() { "1" } else { "0" },
            "createdTime": zoho_time(self.created()),
            "modifiedTime": zoho_time(self.modified.unwrap_or(self.created())),
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Account {
    pub id: u64,
    pub account_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub fax: Option<String>,
    pub industry: Option<String>,
    pub description: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub code: Option<String>,
    pub owner_id: Option<u64>,
    pub created: Option<OffsetDateTime>,
    pub modified: Option<OffsetDateTime>,
}

impl Account {
    pub(crate) fn created(&self) -> OffsetDateTime {
        self.created.unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn to_json(&self, ctx: &RenderCtx, owner: Option<&Agent>) -> Value {
        json!({
            "id": self.id.to_string(),
            "accountName": self.account_name,
            "phone": opt(&self.phone),
            "email": opt(&self.email),
            "website": opt(&self.website),
            "fax": opt(&self.fax),
            "industry": opt(&self.industry),
            "description": opt(&self.description),
            "street": opt(&self.street),
            "city": opt(&self.city),
            "state": opt(&self.state),
            "country": opt(&self.country),
            "code": opt(&self.code),
            "annualrevenue": null,
            "ownerId": self.owner_id.map(|a| a.to_string()),
            "owner": owner.map(Agent::owner_json),
            "isDeleted": false,
            "isTrashed": false,
            "isFollowing": false,
            "zohoCRMAccount": null,
            "associatedSLAIds": [],
            "cf": {},
            "customFields": {},
            "layoutId": null,
            "layoutDetails": null,
            "customerHappiness": {"badPercentage": "0", "okPercentage": "0", "goodPercentage": "0"},
            "webUrl": ctx.web_url("Accounts", self.id),
            "createdTime": zoho_time(self.created()),
            "modifiedTime": zoho_time(self.modified.unwrap_or(self.created())),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Ticket {
    pub id: u64,
    pub number: u64,
    pub subject: String,
    pub description: Option<String>,
    pub department_id: u64,
    pub contact_id: u64,
    pub assignee_id: Option<u64>,
    pub channel: String,
    pub status: String,
    pub priority: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Option<String>,
    pub created: OffsetDateTime,
    pub creator_id: u64,
}

impl Ticket {
    pub fn to_json(&self, ctx: &RenderCtx) -> Value {
        json!({
            "id": self.id.to_string(),
            "ticketNumber": self.number.to_string(),
            "subject": self.subject,
            "description": opt(&self.description),
            "departmentId": self.department_id.to_string(),
            "contactId": self.contact_id.to_string(),
            "assigneeId": self.assignee_id.map(|a| a.to_string()),
            "teamId": null,
            "productId": null,
            "accountId": null,
            "channel": self.channel,
            "status": self.status,
            "statusType": if self.status == "Closed" { "Closed" } else { "Open" },
            "priority": opt(&self.priority),
            "email": opt(&self.email),
            "phone": opt(&self.phone),
            "category": opt(&self.category),
            "subCategory": null,
            "classification": null,
            "resolution": null,
            "language": "English",
            "dueDate": null,
            "responseDueDate": null,
            "closedTime": null,
            "onholdTime": null,
            "customerResponseTime": zoho_time(self.created),
            "createdTime": zoho_time(self.created),
            "modifiedTime": zoho_time(self.created),
            "createdBy": self.creator_id.to_string(),
            "modifiedBy": self.creator_id.to_string(),
            "isSpam": false,
            "isOverDue": false,
            "isResponseOverdue": false,
            "isDeleted": false,
            "isTrashed": false,
            "isArchived": false,
            "isEscalated": false,
            "threadCount": "0",
            "commentCount": "0",
            "attachmentCount": "0",
            "taskCount": "0",
            "timeEntryCount": "0",
            "approvalCount": "0",
            "followerCount": "0",
            "sentiment": null,
            "webUrl": ctx.web_url("Cases", self.id),
            "cf": {},
            "customFields": {},
            "layoutId": null,
            "secondaryContacts": [],
            "sharedDepartments": [],
            "entitySkills": [],
            "channelCode": null,
            "isRead": false,
            "isFollowing": false,
            "tagCount": "0",
            "childTicketCount": "0",
            "slaId": null,
            "source": {"appName": null, "appPhotoURL": null, "extId": null, "permalink": null, "type": "SYSTEM"},
            "channelRelatedInfo": null,
            "layoutDetails": null,
            "lastThread": null,
            "relationshipType": "None",
        })
    }
}

#[derive(Clone, Debug)]
pub struct Call {
    pub id: u64,
    pub subject: String,
    pub department_id: u64,
    pub contact_id: u64,
    pub ticket_id: Option<u64>,
    pub owner_id: Option<u64>,
    pub direction: String,
    pub start: OffsetDateTime,
    pub duration: u64,
    pub status: String,
    pub priority: Option<String>,
    pub description: Option<String>,
    pub created: OffsetDateTime,
    pub creator_id: u64,
}

impl Call {
    pub fn is_closed(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "Missed" | "Canceled")
    }

    pub fn to_json(&self, ctx: &RenderCtx) -> Value {
        json!({
            "id": self.id.to_string(),
            "subject": self.subject,
            "departmentId": self.department_id.to_string(),
            "contactId": self.contact_id.to_string(),
            "ticketId": self.ticket_id.map(|t| t.to_string()),
            "ownerId": self.owner_id.map(|t| t.to_string()),
            "direction": self.direction,
            "status": self.status,
            "statusType": if self.is_closed() { "Closed" } else { "Open" },
            "priority": opt(&self.priority),
            "duration": self.duration.to_string(),
            "startTime": zoho_time(self.start),
            "completedTime": if self.is_closed() { Value::String(zoho_time(self.start + time::Duration::seconds(self.duration as i64))) } else { Value::Null },
            "activityTime": null,
            "createdTime": zoho_time(self.created),
            "modifiedTime": zoho_time(self.created),
            "creatorId": self.creator_id.to_string(),
            "modifiedBy": null,
            "description": opt(&self.description),
            "layoutId": null,
            "activityType": "Calls",
            "isTrashed": false,
            "isSpam": false,
            "isCommented": false,
            "reminder": [],
            "cf": {},
            "customFields": {},
            "callId": self.id.to_string(),
            "webUrl": ctx.web_url("Calls", self.id),
        })
    }
}
