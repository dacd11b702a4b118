//! The Zoho Desk REST API v1 (`{desk}/api/v1/…`): `Authorization: Zoho-oauthtoken …` and the
//! `orgId` header; `{"data": […]}` lists, 204 for empty; `{"errorCode", "message"}` errors.

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::{read_capped, ZohoError};
use crate::engine::secrets::Sensitive;

/// An organization as `GET /accessibleOrganizations` lists it (the fields we use). Zoho
/// writes ids as strings but has been seen to send numbers, and names as `null`.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    #[serde(default, deserialize_with = "text_or_null")]
    pub company_name: String,
    #[serde(default)]
    pub portal_name: Option<String>,
    #[serde(default)]
    pub edition: Option<String>,
    /// Whether the consenting user administers this org (`null` or absent: unknown).
    #[serde(default)]
    pub is_admin_in_org: Option<bool>,
}

/// An id sent as a JSON string or number.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("not an id: {other}"))),
    }
}

/// A text that may be `null` (read as empty).
fn text_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A Desk request with the token (and the org, for org-scoped calls).
fn authed(
    req: reqwest::RequestBuilder,
    token: &Sensitive,
    org_id: Option<&str>,
) -> reqwest::RequestBuilder {
    let req = req.header(
        "Authorization",
        format!("Zoho-oauthtoken {}", token.expose()),
    );
    match org_id {
        Some(org) => req.header("orgId", org),
        None => req,
    }
}

/// Sends a GET and returns the JSON body (`None` for 204 No Content).
pub async fn get(
    http: &reqwest::Client,
    desk_url: &str,
    path_and_query: &str,
    token: &Sensitive,
    org_id: Option<&str>,
) -> Result<Option<Value>, ZohoError> {
    let req = authed(
        http.get(format!("{desk_url}/api/v1{path_and_query}")),
        token,
        org_id,
    );
    let resp = req.send().await.map_err(ZohoError::from_reqwest)?;
    answer(resp).await
}

/// Sends a POST with a JSON body and returns the JSON answer.
pub async fn post(
    http: &reqwest::Client,
    desk_url: &str,
    path: &str,
    token: &Sensitive,
    org_id: &str,
    body: &Value,
) -> Result<Option<Value>, ZohoError> {
    let req = authed(
        http.post(format!("{desk_url}/api/v1{path}")),
        token,
        Some(org_id),
    );
    let resp = req
        .json(body)
        .send()
        .await
        .map_err(ZohoError::from_reqwest)?;
    answer(resp).await
}

/// Turns a Desk answer into JSON or a classified error.
pub async fn answer(resp: reqwest::Response) -> Result<Option<Value>, ZohoError> {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if status == StatusCode::NO_CONTENT {
        return Ok(None);
    }
    let body = read_capped(resp).await?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if status.is_success() {
        return json
            .map(Some)
            .ok_or_else(|| ZohoError::Decode("the answer is not JSON".into()));
    }
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let code = field("errorCode");
    match status.as_u16() {
        401 => Err(ZohoError::Unauthorized),
        429 => Err(ZohoError::RateLimited { code, retry_after }),
        s => Err(ZohoError::Api {
            status: s,
            message: {
                // INVALID_DATA names the offending fields: keep them (e.g. `/assigneeId`).
                let fields: Vec<&str> = json
                    .as_ref()
                    .and_then(|j| j.get("errors"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| e.get("fieldName").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                if fields.is_empty() {
                    field("message")
                } else {
                    format!("{} ({})", field("message"), fields.join(", "))
                }
            },
            code: if code.is_empty() {
                format!("HTTP_{s}")
            } else {
                code
            },
        }),
    }
}

/// `GET /organizations`: the Desk orgs the token's user belongs to.
/// The organizations this token reaches: the ones the user granted at consent (not every
/// organization of the user, which `/organizations` lists).
pub async fn organizations(
    http: &reqwest::Client,
    desk_url: &str,
    token: &Sensitive,
) -> Result<Vec<Organization>, ZohoError> {
    let Some(v) = get(http, desk_url, "/accessibleOrganizations", token, None).await? else {
        return Ok(Vec::new());
    };
    serde_json::from_value(v.get("data").cloned().unwrap_or(Value::Array(vec![])))
        .map_err(|e| ZohoError::Decode(format!("organizations: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizations_in_zohos_shapes() {
        let orgs: Vec<Organization> = serde_json::from_value(serde_json::json!([
            {"id": "60001234567", "companyName": "PBX Sandbox Co.", "portalName": "pbxsandbox", "edition": "STANDARD"},
            {"id": 60001234568_u64, "companyName": null, "portalName": null},
        ]))
        .unwrap();
        assert_eq!(orgs[0].id, "60001234567");
        assert_eq!(
            (orgs[1].id.as_str(), orgs[1].company_name.as_str()),
            ("60001234568", "")
        );
        assert!(serde_json::from_value::<Organization>(serde_json::json!({"id": null})).is_err());
    }
}
