//! The fields each Desk API view carries, as Zoho's OpenAPI schemas list them
//! (`server/tests/data/zoho-desk-oas`): list views, single records and search results differ, and
//! Zoho's schemas forbid fields outside the list. Records are rendered in full and cut to a view.
//!
//! One table per record type names each field once, with a letter for every view that carries
//! it (a space where a view does not).

use serde_json::{Map, Value};

/// A record type's fields, each with the letters of the views that carry it.
type Fields = &'static [(&'static str, &'static str)];

/// The fields one kind of answer carries.
#[derive(Clone, Copy)]
pub struct View {
    fields: Fields,
    letter: char,
}

impl View {
    const fn new(fields: Fields, letter: char) -> Self {
        View { fields, letter }
    }

    fn carries(self, key: &str) -> bool {
        self.fields
            .iter()
            .any(|(field, views)| *field == key && views.contains(self.letter))
    }

    /// Keeps only the view's fields of a rendered record.
    pub fn pick(self, v: Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .filter(|(k, _)| self.carries(k))
                    .collect::<Map<String, Value>>(),
            ),
            other => other,
        }
    }
}

/// `GET /contacts`.
pub const CONTACT_LIST: View = View::new(CONTACT_FIELDS, 'L');
/// `GET /contacts/{id}` and `POST /contacts`.
pub const CONTACT_GET: View = View::new(CONTACT_FIELDS, 'G');
/// `GET /contacts/search` and `GET /search`.
pub const CONTACT_SEARCH: View = View::new(CONTACT_FIELDS, 'S');

/// Contacts' fields and the views that carry them: L list, G get, S search.
const CONTACT_FIELDS: Fields = &[
    ("account", "  S"),
    ("accountCount", "LG "),
    ("accountId", "LGS"),
    ("cf", " GS"),
    ("city", " GS"),
    ("country", " GS"),
    ("createdTime", "LGS"),
    ("customerHappiness", "LGS"),
    ("customFields", " GS"),
    ("description", " GS"),
    ("email", "LGS"),
    ("facebook", " GS"),
    ("firstName", "LGS"),
    ("id", "LGS"),
    ("isAnonymous", "LG "),
    ("isDeleted", " G "),
    ("isEndUser", "LGS"),
    ("isFollowing", " G "),
    ("isSpam", "LG "),
    ("isTrashed", " G "),
    ("lastName", "LGS"),
    ("layoutDetails", " G "),
    ("layoutId", " GS"),
    ("mobile", "LGS"),
    ("modifiedTime", " GS"),
    ("owner", "  S"),
    ("ownerId", "LGS"),
    ("phone", "LGS"),
    ("photoURL", "LGS"),
    ("secondaryEmail", "LGS"),
    ("state", " GS"),
    ("street", " GS"),
    ("title", " GS"),
    ("twitter", " GS"),
    ("type", "LGS"),
    ("webUrl", "LGS"),
    ("zip", " GS"),
    ("zohoCRMContact", "LGS"),
];

/// `GET /accounts`.
pub const ACCOUNT_LIST: View = View::new(ACCOUNT_FIELDS, 'L');
/// `GET /accounts/{id}` and `POST /accounts`.
pub const ACCOUNT_GET: View = View::new(ACCOUNT_FIELDS, 'G');
/// `GET /accounts/search` and `GET /search`.
pub const ACCOUNT_SEARCH: View = View::new(ACCOUNT_FIELDS, 'S');

/// Accounts' fields and the views that carry them: L list, G get, S search.
const ACCOUNT_FIELDS: Fields = &[
    ("accountName", "LGS"),
    ("annualrevenue", " GS"),
    ("associatedSLAIds", " G "),
    ("cf", " GS"),
    ("city", " GS"),
    ("code", " GS"),
    ("country", " GS"),
    ("createdTime", "LGS"),
    ("customerHappiness", "L  "),
    ("customFields", " GS"),
    ("description", " GS"),
    ("email", "LGS"),
    ("fax", " GS"),
    ("id", "LGS"),
    ("industry", " GS"),
    ("isDeleted", " G "),
    ("isFollowing", " G "),
    ("isTrashed", " G "),
    ("layoutDetails", " G "),
    ("layoutId", " GS"),
    ("modifiedTime", " GS"),
    ("owner", "  S"),
    ("ownerId", " GS"),
    ("phone", "LGS"),
    ("state", " GS"),
    ("street", " GS"),
    ("website", "LGS"),
    ("webUrl", "LGS"),
    ("zohoCRMAccount", "LG "),
];

/// `GET /agents` and `GET /myinfo`.
pub const AGENT_LIST: View = View::new(AGENT_FIELDS, 'L');
/// `GET /agents/{id}`.
pub const AGENT_GET: View = View::new(AGENT_FIELDS, 'G');

/// Agents' fields and the views that carry them: L list, G get.
const AGENT_FIELDS: Fields = &[
    ("aboutInfo", "LG"),
    ("associatedChatDepartmentIds", "LG"),
    ("associatedDepartmentIds", "LG"),
    ("cf", " G"),
    ("channelExpert", "LG"),
    ("countryCode", "LG"),
    ("emailId", "LG"),
    ("extn", "LG"),
    ("firstName", "LG"),
    ("id", "LG"),
    ("isConfirmed", "LG"),
    ("isZiaAgent", "L "),
    ("langCode", "LG"),
    ("lastName", "LG"),
    ("mobile", "LG"),
    ("name", "LG"),
    ("phone", "LG"),
    ("photoURL", "LG"),
    ("profileId", "LG"),
    ("roleId", "LG"),
    ("rolePermissionType", "LG"),
    ("status", "LG"),
    ("timeZone", "LG"),
    ("zuid", "LG"),
];

/// `POST /tickets`.
pub const TICKET_CREATE: View = View::new(TICKET_FIELDS, 'C');
/// `GET /tickets/{id}`.
pub const TICKET_GET: View = View::new(TICKET_FIELDS, 'G');
/// `GET /tickets`.
pub const TICKET_LIST: View = View::new(TICKET_FIELDS, 'L');
/// `GET /contacts/{id}/tickets`.
pub const TICKET_BY_CONTACT: View = View::new(TICKET_FIELDS, 'B');
/// `GET /tickets/search` and `GET /search`.
pub const TICKET_SEARCH: View = View::new(TICKET_FIELDS, 'S');

/// Tickets' fields and the views that carry them: C create, G get, L list, B by contact, S search.
const TICKET_FIELDS: Fields = &[
    ("accountId", "CGLBS"),
    ("approvalCount", "CG   "),
    ("assignee", "    S"),
    ("assigneeId", "CGLBS"),
    ("attachmentCount", "CG   "),
    ("category", "CGL S"),
    ("cf", "CG  S"),
    ("channel", "CGLBS"),
    ("channelCode", "CGLB "),
    ("channelRelatedInfo", "CG   "),
    ("childTicketCount", "    S"),
    ("classification", "CG  S"),
    ("closedTime", "CGLBS"),
    ("commentCount", "CGLBS"),
    ("contact", "    S"),
    ("contactId", "CGLBS"),
    ("createdBy", " G  S"),
    ("createdTime", "CGLBS"),
    ("customerResponseTime", "CGLBS"),
    ("customFields", "CG  S"),
    ("department", "    S"),
    ("departmentId", "CGLBS"),
    ("description", "CG  S"),
    ("dueDate", "CGLBS"),
    ("email", "CGLBS"),
    ("entitySkills", "CG  S"),
    ("followerCount", " G   "),
    ("id", "CGLBS"),
    ("isArchived", "CGLBS"),
    ("isDeleted", "CG   "),
    ("isEscalated", "CG  S"),
    ("isFollowing", " G   "),
    ("isOverDue", "CG  S"),
    ("isRead", " GLBS"),
    ("isResponseOverdue", "CG   "),
    ("isSpam", "CGLBS"),
    ("isTrashed", "CG   "),
    ("language", "CGLBS"),
    ("lastThread", "  LBS"),
    ("layoutDetails", "CG   "),
    ("layoutId", "CGL S"),
    ("modifiedBy", "CG  S"),
    ("modifiedTime", "CG  S"),
    ("onholdTime", "CGLBS"),
    ("phone", "CGLBS"),
    ("priority", "CGLBS"),
    ("product", "    S"),
    ("productId", "CGLBS"),
    ("relationshipType", "  LB "),
    ("resolution", "CG  S"),
    ("responseDueDate", "CGLBS"),
    ("secondaryContacts", "CG  S"),
    ("sentiment", " GLB "),
    ("sharedDepartments", "CG  S"),
    ("slaId", "CG  S"),
    ("source", "CGLB "),
    ("status", "CGLBS"),
    ("statusType", "CGLBS"),
    ("subCategory", "CGL S"),
    ("subject", "CGLBS"),
    ("tagCount", " G   "),
    ("taskCount", "CG   "),
    ("team", "    S"),
    ("teamId", "CGLBS"),
    ("threadCount", "CGLBS"),
    ("ticketNumber", "CGLBS"),
    ("timeEntryCount", "CG   "),
    ("webUrl", "CGLBS"),
];

/// `GET /calls` and the calls of a contact or ticket.
pub const CALL_LIST: View = View::new(CALL_FIELDS, 'L');
/// `GET /calls/{id}` and `POST /calls`.
pub const CALL_GET: View = View::new(CALL_FIELDS, 'G');
/// `GET /calls/search`.
pub const CALL_SEARCH: View = View::new(CALL_FIELDS, 'S');

/// Calls' fields and the views that carry them: L list, G get, S search.
const CALL_FIELDS: Fields = &[
    ("activityTime", "LG "),
    ("activityType", "  S"),
    ("assignee", "  S"),
    ("callId", "LG "),
    ("cf", " GS"),
    ("completedTime", "LGS"),
    ("contact", "  S"),
    ("contactId", "LGS"),
    ("createdTime", "LGS"),
    ("creatorId", "LGS"),
    ("customFields", " GS"),
    ("department", "  S"),
    ("departmentId", "LGS"),
    ("description", " GS"),
    ("direction", "LGS"),
    ("duration", " GS"),
    ("id", "LGS"),
    ("isCommented", "L S"),
    ("isSpam", "LG "),
    ("isTrashed", "LG "),
    ("layoutId", "LGS"),
    ("modifiedBy", "LGS"),
    ("modifiedTime", "LGS"),
    ("ownerId", "LGS"),
    ("priority", "LGS"),
    ("reminder", " GS"),
    ("startTime", "LGS"),
    ("status", "LGS"),
    ("statusType", "LGS"),
    ("subject", "LGS"),
    ("ticket", "  S"),
    ("ticketId", "LGS"),
    ("webUrl", "LGS"),
];
