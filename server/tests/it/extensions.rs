//! Black-box tests of the PBX extensions: validation, uniqueness, edit, delete, import.

use crate::support::app::*;
use serde_json::{json, Value};

async fn numbers(app: &TestApp) -> Vec<String> {
    let (s, list) = app.call("pbx/extensions", &[]).await;
    assert_eq!(s, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["number"].as_str().unwrap().to_string())
        .collect()
}

fn fields(body: &Value) -> Vec<(String, String)> {
    body["Invalid"]
        .as_array()
        .unwrap_or_else(|| panic!("not a field error: {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["problem"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn demo_extensions_are_seeded_with_the_sandbox() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    assert_eq!(
        numbers(&app).await,
        ["2001", "2005", "2006", "2007", "2008", "2009", "2010"]
    );
}

#[tokio::test]
async fn extensions_are_validated_unique_editable_and_deletable() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (s, id) = app
        .call(
            "pbx/extensions/create",
            &[
                ("input[number]", " 3001 "),
                ("input[name]", "Ann Lee"),
                ("input[email]", "ann@example.com"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_i64().unwrap().to_string();
    assert!(numbers(&app).await.contains(&"3001".to_string()));

    let (_, body) = app
        .call(
            "pbx/extensions/create",
            &[
                ("input[number]", "3001"),
                ("input[name]", "Dup"),
                ("input[email]", ""),
            ],
        )
        .await;
    assert_eq!(fields(&body), [("number".into(), "Duplicate".into())]);
    let (_, body) = app
        .call(
            "pbx/extensions/create",
            &[
                ("input[number]", "30a1"),
                ("input[name]", " "),
                ("input[email]", "ann at example"),
            ],
        )
        .await;
    assert_eq!(
        fields(&body),
        [
            ("number".into(), "NotExtensionNumber".into()),
            ("name".into(), "Required".into()),
            ("email".into(), "BadEmail".into())
        ]
    );

    let (s, body) = app
        .call(
            "pbx/extensions/update",
            &[
                ("id", &id),
                ("input[number]", "3002"),
                ("input[name]", "Ann Lee"),
                ("input[email]", ""),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let ann = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "3002")
        .unwrap();
    assert_eq!(ann["email"], Value::Null);
    let (_, body) = app
        .call(
            "pbx/extensions/update",
            &[
                ("id", &id),
                ("input[number]", "2005"),
                ("input[name]", "Ann Lee"),
            ],
        )
        .await;
    assert_eq!(fields(&body), [("number".into(), "Duplicate".into())]);

    assert_eq!(
        app.call("pbx/extensions/delete", &[("id", &id)]).await.0,
        200
    );
    assert!(!numbers(&app).await.contains(&"3002".to_string()));
    let (_, body) = app.call("pbx/extensions/delete", &[("id", &id)]).await;
    assert_eq!(body, json!("NotFound"));
}

#[tokio::test]
async fn import_stores_every_row_or_none() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let before = numbers(&app).await.len();
    let bad = json!([
        {"number": "4001", "name": "A", "email": "a@example.com"},
        {"number": "4001", "name": "B"},
        {"number": "2005", "name": "C"},
        {"number": "x", "name": "D", "email": "nope"}
    ])
    .to_string();
    let (_, body) = app.call("pbx/extensions/import", &[("json", &bad)]).await;
    assert_eq!(
        fields(&body),
        [
            ("2.number".into(), "Duplicate".into()),
            ("3.number".into(), "Duplicate".into()),
            ("4.number".into(), "NotExtensionNumber".into()),
            ("4.email".into(), "BadEmail".into())
        ]
    );
    assert_eq!(numbers(&app).await.len(), before, "nothing stored");
    let (_, body) = app
        .call("pbx/extensions/import", &[("json", "{not json")])
        .await;
    assert_eq!(body, json!("BadImport"));

    let good: Vec<Value> = (0..200)
        .map(|i| json!({"number": format!("5{i:03}"), "name": format!("Agent {i}"), "email": format!("a{i}@example.com")}))
        .collect();
    let (s, n) = app
        .call(
            "pbx/extensions/import",
            &[("json", &Value::Array(good).to_string())],
        )
        .await;
    assert_eq!((s, n), (200, json!(200)));
    assert_eq!(numbers(&app).await.len(), before + 200);
}

#[tokio::test]
async fn web_client_passwords_are_write_only_hashed_and_verified() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let k = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "2005")
        .unwrap()
        .clone();
    assert_eq!(k["web_password_set"], false);
    let id = k["id"].as_i64().unwrap().to_string();

    // Too short: refused, naming the field; nothing set.
    let (s, body) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "short")],
        )
        .await;
    assert_eq!(
        (s, body),
        (
            400,
            json!({"Invalid": [{"field": "web_password", "problem": "PasswordTooShort"}]})
        )
    );
    assert!(app
        .engine
        .directory
        .verify_web_client("2005", "short")
        .await
        .unwrap()
        .is_none());

    let (s, body) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "kristin-web-1")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The list says it is set, and never carries the password or its hash.
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let text = list.to_string();
    assert!(!text.contains("kristin-web-1") && !text.contains("argon2"));
    let k = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "2005")
        .unwrap();
    assert_eq!(k["web_password_set"], true);
    let ok = app
        .engine
        .directory
        .verify_web_client("2005", "kristin-web-1")
        .await
        .unwrap();
    assert_eq!(ok.map(|e| e.name), Some("Kristin Hale".to_string()));
    for (number, pw) in [
        ("2005", "kristin-web-2"),
        ("2006", "kristin-web-1"),
        ("9999", "x"),
    ] {
        assert!(app
            .engine
            .directory
            .verify_web_client(number, pw)
            .await
            .unwrap()
            .is_none());
    }

    // An empty password removes it.
    let (s, _) = app
        .call("pbx/extensions/password", &[("id", &id), ("password", "")])
        .await;
    assert_eq!(s, 200);
    assert!(app
        .engine
        .directory
        .verify_web_client("2005", "kristin-web-1")
        .await
        .unwrap()
        .is_none());

    // Only a signed-in admin may set one.
    let anon = TestApp::browser();
    let (s, _) = app
        .call_with(
            &anon,
            "pbx/extensions/password",
            &[("id", &id), ("password", "attacker-pass")],
        )
        .await;
    assert_eq!(s, 401);
}
