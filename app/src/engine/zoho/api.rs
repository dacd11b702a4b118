//! The connected org's Zoho Desk API, one method per operation (docs/zoho-desk-api.md):
//! paths, query strings and request bodies are built here and nowhere else, from typed
//! requests whose field names and shapes a test checks against Zoho's own OpenAPI files
//! (`server/tests/it/desk_requests.rs`). Every request goes through the engine's token handling
//! (a refused token is renewed once; an expired authorization pauses the work) and is counted
//! under its operation's name. What to do with an answer (retry, look up first, give up) is the
//! caller's; whether an error is worth retrying is [`super::ZohoError`]'s.

use serde::Serialize;
use serde_json::Value;

use super::connection::{DeskCtx, ZohoConnection};
use super::desk;
use crate::engine::numbers::PhoneField;
use crate::engine::EngineError;
use crate::model::ZohoModule;

/// The org's enabled departments: (id, name, is default).
pub type Departments = Vec<(String, String, bool)>;

/// `POST /contacts`: a contact with a last name (Zoho's one required field).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl NewContact {
    /// Puts `number` in the field libphonenumber chose for it.
    pub fn with_number(mut self, field: PhoneField, number: String) -> NewContact {
        match field {
            PhoneField::Mobile => self.mobile = Some(number),
            PhoneField::Phone => self.phone = Some(number),
        }
        self
    }
}

/// `POST /accounts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccount {
    pub account_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /tickets`: the ticket of a call.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTicket {
    pub subject: String,
    pub department_id: String,
    pub contact_id: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub description: String,
    /// The agent who owns it; `None` leaves it unassigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
}

/// `POST /calls`: the call activity of a call.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCall {
    pub subject: String,
    pub department_id: String,
    pub contact_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// ISO 8601 with milliseconds, UTC (`2026-12-02T08:00:00.000Z`).
    pub start_time: String,
    /// Seconds, as a string (Zoho's type).
    pub duration: String,
    /// `Completed` or `Missed`.
    pub status: String,
    pub description: String,
    /// The agent who owns it; `None`: no owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The call's ticket, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
}

/// A query value, percent-encoded.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A read by id of a record the org does not have: 404, or 422 `INVALID_DATA` (Zoho's code
/// for invalid ids; which of the two a read by id answers is not documented). `None` then.
fn missing(answer: Result<Option<Value>, EngineError>) -> Result<Option<Value>, EngineError> {
    match answer {
        Err(EngineError::Zoho(super::ZohoError::Api { status: 404, .. })) => Ok(None),
        Err(EngineError::Zoho(super::ZohoError::Api {
            status: 422, code, ..
        })) if code == "INVALID_DATA" => Ok(None),
        other => other,
    }
}

/// The records of a list or search answer (`None`: Zoho's 204, no records).
fn records(answer: Option<Value>) -> Vec<Value> {
    match answer {
        Some(Value::Object(mut m)) => match m.remove("data") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The Desk API of the connected org.
pub(crate) struct Desk<'e> {
    zoho: &'e ZohoConnection,
    ctx: &'e DeskCtx,
}

impl<'e> Desk<'e> {
    pub fn new(zoho: &'e ZohoConnection, ctx: &'e DeskCtx) -> Desk<'e> {
        Desk { zoho, ctx }
    }

    async fn get(
        &self,
        operation: &'static str,
        path: String,
    ) -> Result<Option<Value>, EngineError> {
        let (http, url, org) = (&self.zoho.http, &self.ctx.desk_url, &self.ctx.org_id);
        self.zoho
            .with_token(operation, |t| {
                let path = path.clone();
                async move { desk::get(http, url, &path, &t, Some(org)).await }
            })
            .await
    }

    async fn post<B: Serialize>(
        &self,
        operation: &'static str,
        path: &'static str,
        body: &B,
    ) -> Result<Value, EngineError> {
        let body = serde_json::to_value(body).expect("plain data");
        let (http, url, org) = (&self.zoho.http, &self.ctx.desk_url, &self.ctx.org_id);
        let answer = self
            .zoho
            .with_token(operation, |t| {
                let body = body.clone();
                async move { desk::post(http, url, path, &t, org, &body).await }
            })
            .await?;
        Ok(answer.unwrap_or_default())
    }

    // --- reads ---------------------------------------------------------------------------------

    /// `GET /contacts/search?phone=…` (or `mobile`): the contacts whose stored number matches
    /// one of `forms` (Zoho's patterns: `*0134` ends with, else exact), a page of them.
    pub async fn search_contacts_by_phone(
        &self,
        field: PhoneField,
        forms: &[String],
        from: usize,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let or_list = forms.iter().map(|f| enc(f)).collect::<Vec<_>>().join(",");
        let path = format!(
            "/contacts/search?{}={or_list}&from={from}&limit={limit}",
            field.as_str()
        );
        Ok(records(self.get("GET /contacts/search", path).await?))
    }

    /// `GET /accounts/search?_all=…`: accounts with these words anywhere (Zoho has no phone
    /// search for accounts).
    pub async fn search_accounts(
        &self,
        words: &str,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let path = format!("/accounts/search?_all={}&limit={limit}", enc(words));
        Ok(records(self.get("GET /accounts/search", path).await?))
    }

    /// `GET /accounts`, a page sorted by `sort_by` (`createdTime`, `-createdTime`…). `from`
    /// counts from 1 (Zoho's OpenAPI file: minimum 1, default 1).
    pub async fn accounts_page(
        &self,
        sort_by: &str,
        from: usize,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let path = format!("/accounts?sortBy={sort_by}&from={from}&limit={limit}");
        Ok(records(self.get("GET /accounts", path).await?))
    }

    /// `GET /contacts/{id}`: `None` when Zoho has no such contact ([`missing`]).
    pub async fn contact(&self, id: &str) -> Result<Option<Value>, EngineError> {
        let path = format!("/contacts/{}", enc(id));
        missing(self.get("GET /contacts/{id}", path).await)
    }

    /// `GET /accounts/{id}`: `None` when Zoho has no such account ([`missing`]).
    pub async fn account(&self, id: &str) -> Result<Option<Value>, EngineError> {
        let path = format!("/accounts/{}", enc(id));
        missing(self.get("GET /accounts/{id}", path).await)
    }

    /// `GET /contacts` or `/accounts`, newest first: lists are served from Zoho's data, not its
    /// lagging search index, so a record made a moment ago is there.
    pub async fn newest(
        &self,
        module: ZohoModule,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let (op, base) = match module {
            ZohoModule::Contacts => ("GET /contacts", "/contacts"),
            ZohoModule::Accounts => ("GET /accounts", "/accounts"),
        };
        let path = format!("{base}?sortBy=-createdTime&limit={limit}");
        Ok(records(self.get(op, path).await?))
    }

    /// `GET /contacts/{id}/tickets`, a page.
    pub async fn contact_tickets(
        &self,
        contact_id: &str,
        from: usize,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let op = "GET /contacts/{id}/tickets";
        self.contact_page(op, "tickets", contact_id, from, limit)
            .await
    }

    /// A page of a contact's records of one kind (`op` names the operation in the metrics);
    /// none for a contact the org no longer has ([`missing`]).
    async fn contact_page(
        &self,
        op: &'static str,
        kind: &str,
        contact_id: &str,
        from: usize,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let id = enc(contact_id);
        let path = format!("/contacts/{id}/{kind}?from={from}&limit={limit}");
        Ok(records(missing(self.get(op, path).await)?))
    }

    /// `GET /tickets/{id}` (the whole ticket, description included).
    pub async fn ticket(&self, id: &str) -> Result<Value, EngineError> {
        let path = format!("/tickets/{}", enc(id));
        Ok(self
            .get("GET /tickets/{id}", path)
            .await?
            .unwrap_or_default())
    }

    /// `GET /contacts/{id}/calls`, a page.
    pub async fn contact_calls(
        &self,
        contact_id: &str,
        from: usize,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let op = "GET /contacts/{id}/calls";
        self.contact_page(op, "calls", contact_id, from, limit)
            .await
    }

    /// `GET /calls/{id}` (the whole call activity, description included).
    pub async fn call(&self, id: &str) -> Result<Value, EngineError> {
        let path = format!("/calls/{}", enc(id));
        Ok(self.get("GET /calls/{id}", path).await?.unwrap_or_default())
    }

    /// `GET /departments?isEnabled=true`: the org's enabled departments (up to 200), as
    /// (id, name, is default).
    pub async fn departments(&self) -> Result<Departments, EngineError> {
        let path = "/departments?isEnabled=true&limit=200".to_string();
        let list = records(self.get("GET /departments", path).await?);
        Ok(list
            .iter()
            .filter_map(|d| {
                Some((
                    d.get("id")?.as_str()?.to_string(),
                    d.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    d.get("isDefault").and_then(Value::as_bool).unwrap_or(false),
                ))
            })
            .collect())
    }

    /// `GET /agents/count`: how many agents the org has (`None` when Zoho does not say).
    pub async fn agent_count(&self) -> Result<Option<usize>, EngineError> {
        let v = self
            .get("GET /agents/count", "/agents/count".into())
            .await?;
        Ok(v.as_ref()
            .and_then(|v| v.get("count"))
            .and_then(Value::as_u64)
            .map(|n| n as usize))
    }

    /// `GET /agents`, a page.
    pub async fn agents(&self, from: usize, limit: usize) -> Result<Vec<Value>, EngineError> {
        let path = format!("/agents?from={from}&limit={limit}");
        Ok(records(self.get("GET /agents", path).await?))
    }

    // --- creations -----------------------------------------------------------------------------

    pub async fn create_contact(&self, c: &NewContact) -> Result<Value, EngineError> {
        self.post("POST /contacts", "/contacts", c).await
    }

    pub async fn create_account(&self, a: &NewAccount) -> Result<Value, EngineError> {
        self.post("POST /accounts", "/accounts", a).await
    }

    pub async fn create_ticket(&self, t: &NewTicket) -> Result<Value, EngineError> {
        self.post("POST /tickets", "/tickets", t).await
    }

    pub async fn create_call(&self, c: &NewCall) -> Result<Value, EngineError> {
        self.post("POST /calls", "/calls", c).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_by_id_of_a_record_the_org_lacks_is_none_and_other_refusals_stay_errors() {
        let api = |status: u16, code: &str| {
            Err(EngineError::Zoho(super::super::ZohoError::Api {
                status,
                code: code.into(),
                message: "m".into(),
            }))
        };
        assert_eq!(missing(api(404, "URL_NOT_FOUND")).unwrap(), None);
        assert_eq!(missing(api(422, "INVALID_DATA")).unwrap(), None);
        assert!(missing(api(422, "UNPROCESSABLE_ENTITY")).is_err());
        assert!(missing(api(403, "FORBIDDEN")).is_err());
        assert!(missing(api(500, "INTERNAL_SERVER_ERROR")).is_err());
        let found = serde_json::json!({"id": "1"});
        assert_eq!(missing(Ok(Some(found.clone()))).unwrap(), Some(found));
    }

    #[test]
    fn bodies_carry_zoho_names_and_leave_out_what_is_unset() {
        let c = NewContact {
            first_name: None,
            last_name: "Young".into(),
            phone: None,
            mobile: None,
            description: None,
        }
        .with_number(PhoneField::Mobile, "+8613800138000".into());
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"lastName": "Young", "mobile": "+8613800138000"})
        );
        let t = NewTicket {
            subject: "s".into(),
            department_id: "1".into(),
            contact_id: "2".into(),
            channel: "Phone".into(),
            phone: None,
            description: "d".into(),
            assignee_id: None,
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["departmentId"], "1");
        assert!(v.get("assigneeId").is_none());
    }

    #[test]
    fn list_answers_and_no_content_read_as_records() {
        assert_eq!(records(None), Vec::<Value>::new());
        assert_eq!(
            records(Some(serde_json::json!({"data": [{"id": "1"}]}))).len(),
            1
        );
        assert!(records(Some(serde_json::json!({"count": 3}))).is_empty());
    }

    #[test]
    fn path_values_are_encoded() {
        assert_eq!(enc("+1 415"), "%2B1+415");
        assert_eq!(enc("*0134"), "*0134");
    }
}
