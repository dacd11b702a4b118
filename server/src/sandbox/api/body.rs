//! `POST` bodies: a JSON object with only the keys the endpoint documents, then its fields
//! checked one by one. Zoho reports every offending field at once, so the checks collect
//! errors (`fieldName` a JSON pointer such as `/lastName`) in the order they run.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::super::state::OrgData;
use super::error::{field_err, ApiError, FieldError};
use super::query::query;

/// What a `POST` brought: its query string, headers and body (the handler's last extractor, so
/// read after the gate).
pub(super) struct Posted {
    query: Option<String>,
    headers: HeaderMap,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, BytesRejection> {
        let query = req.uri().query().map(str::to_owned);
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state).await?;
        Ok(Posted {
            query,
            headers,
            bytes,
        })
    }
}

impl Posted {
    /// The body to check, once the query string is found to have no parameters and the body to
    /// be a JSON object with only `allowed` keys.
    pub(super) fn body(self, allowed: &[&str]) -> Result<Body, ApiError> {
        query(self.query, &[])?;
        Body::read(&self.headers, &self.bytes, allowed)
    }
}

/// A body being checked: its fields and the errors found so far.
pub(super) struct Body {
    m: Map<String, Value>,
    errs: Vec<FieldError>,
}

impl Body {
    /// Reads a JSON object body, refusing unknown keys like Zoho does.
    fn read(headers: &HeaderMap, body: &[u8], allowed: &[&str]) -> Result<Self, ApiError> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "The Content-Type of the request must be application/json.",
            ));
        }
        let v: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::unprocessable("The request body is not valid JSON.".to_string())
        })?;
        let Value::Object(m) = v else {
            return Err(ApiError::unprocessable(
                "The request body must be a JSON object.".to_string(),
            ));
        };
        if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::unprocessable(format!(
                "An extra parameter '{k}' is found in the input."
            )));
        }
        Ok(Body {
            m,
            errs: Vec::new(),
        })
    }

    /// A field's value as sent (`None` when absent).
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.m.get(key)
    }

    /// Records an error on a field.
    pub(super) fn error(&mut self, key: &str, kind: &'static str, message: impl Into<String>) {
        self.errs.push(field_err(&format!("/{key}"), kind, message));
    }

    /// Whether a field already has an error.
    pub(super) fn has_error(&self, key: &str) -> bool {
        self.errs.iter().any(|e| e.field == format!("/{key}"))
    }

    /// 422 `INVALID_DATA` with every error found, if any.
    pub(super) fn finish(self) -> Result<(), ApiError> {
        if self.errs.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errs))
        }
    }

    /// An optional string field: type and maximum length.
    pub(super) fn opt_str(&mut self, key: &str, max: usize) -> Option<String> {
        match self.m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() <= max => Some(s.clone()),
            Some(Value::String(_)) => {
                self.error(
                    key,
                    "invalid",
                    format!("{key} is longer than {max} characters"),
                );
                None
            }
            Some(_) => {
                self.error(key, "invalid", format!("{key} must be a string"));
                None
            }
        }
    }

    /// Several optional string fields, checked in order.
    pub(super) fn opt_strs<const N: usize>(
        &mut self,
        fields: [(&str, usize); N],
    ) -> [Option<String>; N] {
        fields.map(|(key, max)| self.opt_str(key, max))
    }

    /// The description and postal address of a contact (postal code `zip`) or an account
    /// (`code`).
    pub(super) fn address(&mut self, code: &str) -> [Option<String>; 6] {
        self.opt_strs([
            ("description", 65535),
            ("street", 250),
            ("city", 30),
            ("state", 30),
            ("country", 30),
            (code, 30),
        ])
    }

    /// A required string field: as [`Body::opt_str`], and not blank.
    pub(super) fn req_str(&mut self, key: &str, max: usize) -> Option<String> {
        let v = self.opt_str(key, max);
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) && !self.has_error(key) {
            self.error(key, "missing", format!("{key} is required"));
            return None;
        }
        v
    }

    /// An optional record id: a number, or a string of digits.
    pub(super) fn opt_id(&mut self, key: &str) -> Option<u64> {
        match self.m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => s.parse().ok().or_else(|| {
                self.error(key, "invalid", format!("{key} must be a record id"));
                None
            }),
            Some(Value::Number(n)) => n.as_u64(),
            Some(_) => {
                self.error(key, "invalid", format!("{key} must be a record id"));
                None
            }
        }
    }

    /// A required record id.
    pub(super) fn req_id(&mut self, key: &str) -> Option<u64> {
        let v = self.opt_id(key);
        if v.is_none() && !self.has_error(key) {
            self.error(key, "missing", format!("{key} is required"));
        }
        v
    }

    /// Phone fields: ≤50 characters of digits, letters, spaces and `+ - . ( ) $ @ ? , : ' / ! _`.
    pub(super) fn check_phone(&mut self, key: &str, v: &Option<String>) {
        if let Some(p) = v {
            let ok = p
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || "+-.()$@?,:'/!_".contains(c));
            if !ok {
                self.error(
                    key,
                    "invalid",
                    format!("{key} contains characters that are not allowed"),
                );
            }
        }
    }

    pub(super) fn check_email(&mut self, key: &str, v: &Option<String>) {
        if let Some(e) = v {
            let ok = e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !e.contains(' ')
            });
            if !ok {
                self.error(
                    key,
                    "invalid",
                    format!("{key} is not a valid e-mail address"),
                );
            }
        }
    }

    /// A reference to another record of the org: `exists` says whether the id names one, `what`
    /// what it should name (`a department`).
    pub(super) fn check_ref(
        &mut self,
        key: &str,
        id: Option<u64>,
        exists: impl Fn(u64) -> bool,
        what: &str,
    ) {
        if id.is_some_and(|id| !exists(id)) {
            self.error(key, "invalid", format!("{key} does not name {what}"));
        }
    }

    /// A value that must be one of a list (absent values pass).
    pub(super) fn check_in(&mut self, key: &str, v: Option<&str>, allowed: &[&str], message: &str) {
        if v.is_some_and(|v| !allowed.contains(&v)) {
            self.error(key, "invalid", message);
        }
    }

    /// `departmentId` (tickets, calls): a department of the org.
    pub(super) fn check_department(&mut self, o: &OrgData, id: Option<u64>) {
        self.check_ref(
            "departmentId",
            id,
            |d| o.department(d).is_some(),
            "a department",
        );
    }

    /// `contactId` (tickets, calls): a contact of the org.
    pub(super) fn check_contact(&mut self, o: &OrgData, id: Option<u64>) {
        self.check_ref(
            "contactId",
            id,
            |c| o.contacts.contains_key(&c),
            "a contact",
        );
    }

    /// An agent reference (`ownerId`, `assigneeId`): an active agent of the org, and, for a
    /// record of a department (`department` given, even when it is itself missing), an agent
    /// of that department.
    pub(super) fn check_agent(
        &mut self,
        o: &OrgData,
        key: &str,
        id: Option<u64>,
        department: Option<Option<u64>>,
    ) {
        let ok = |id: u64| {
            o.agent(id).is_some_and(|ag| {
                ag.active
                    && department
                        .flatten()
                        .is_none_or(|d| ag.department_ids.contains(&d))
            })
        };
        let what = match department {
            None => "an active agent",
            Some(_) => "an active agent of the department",
        };
        self.check_ref(key, id, ok, what);
    }
}
