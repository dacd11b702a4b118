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

/// The extensions page is plain HTML, its forms work with no script at all: a refused form
/// comes back to the page with what was typed and why (once: the next visit is clean), never
/// with a password; a done one closes the row's view it came from; a browser whose session
/// ended goes to sign in and then back.
#[tokio::test]
async fn the_extensions_page_is_plain_html_forms_that_keep_what_was_typed() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let html = app.get_text("/pbx/extensions").await;
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "no script to download: {html}"
    );
    assert!(
        html.contains(r#"action="/api/pbx/extensions/create""#),
        "{html}"
    );

    // Refused: back to the page, which shows why beside each field, with the text as typed.
    let typed = [
        ("input[number]", "+1 (415) 555-0134"),
        ("input[name]", "O'Neil"),
        ("input[email]", "oneil@"),
    ];
    let (s, to) = app
        .submit("/pbx/extensions", "pbx/extensions/create", &typed)
        .await;
    assert_eq!((s, to.as_str()), (302, "/pbx/extensions"));
    let html = app.get_text(&to).await;
    assert!(html.contains("Digits only, 1 to 15 of them."), "{html}");
    assert!(html.contains("Enter an e-mail address such as name@example.com."));
    assert!(html.contains(r#"value="+1 (415) 555-0134""#), "{html}");
    assert!(html.contains(r#"value="O&#x27;Neil""#) || html.contains(r#"value="O'Neil""#));
    // Said once: the page drawn again is clean.
    let html = app.get_text("/pbx/extensions").await;
    assert!(
        !html.contains("Digits only") && !html.contains("555-0134"),
        "{html}"
    );

    // Done: in the table.
    let (s, to) = app
        .submit(
            "/pbx/extensions",
            "pbx/extensions/create",
            &[
                ("input[number]", "3100"),
                ("input[name]", "Ann"),
                ("input[email]", ""),
            ],
        )
        .await;
    assert_eq!((s, to.as_str()), (302, "/pbx/extensions"));
    assert!(numbers(&app).await.contains(&"3100".to_string()));
    let id = app.extension_id("3100").await;

    // A row's edit form is a view of the page; refused, it stays open with what was typed.
    let edit = format!("/pbx/extensions?edit={id}");
    let html = app.get_text(&edit).await;
    assert!(html.contains(&format!(r#"id="edit-{id}""#)), "{html}");
    let (s, to) = app
        .submit(
            &edit,
            "pbx/extensions/update",
            &[
                ("id", &id),
                ("input[number]", "2005"),
                ("input[name]", "Ann B"),
            ],
        )
        .await;
    assert_eq!((s, to.as_str()), (302, edit.as_str()));
    let html = app.get_text(&to).await;
    assert!(
        html.contains("Another extension already has this number."),
        "{html}"
    );
    assert!(html.contains(r#"value="Ann B""#), "{html}");
    let (s, to) = app
        .submit(
            &edit,
            "pbx/extensions/update",
            &[
                ("id", &id),
                ("input[number]", "3100"),
                ("input[name]", "Ann B"),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_str()),
        (302, "/pbx/extensions"),
        "done: the view closes"
    );
    assert!(app.get_text("/pbx/extensions").await.contains("Ann B"));

    // A refused password is said, and what was typed is kept nowhere.
    let dialog = format!("/pbx/extensions?password={id}");
    let (s, to) = app
        .submit(
            &dialog,
            "pbx/extensions/password",
            &[("id", &id), ("password", "short7x")],
        )
        .await;
    assert_eq!((s, to.as_str()), (302, dialog.as_str()));
    let html = app.get_text(&to).await;
    assert!(html.contains("At least 8 characters."), "{html}");
    assert!(!html.contains("short7x"), "{html}");

    // A refused import comes back as it was typed; a done one says how many.
    let (_, to) = app
        .submit(
            "/pbx/extensions",
            "pbx/extensions/import",
            &[("json", "[{\"number\": \"31\"")],
        )
        .await;
    let html = app.get_text(&to).await;
    assert!(
        html.contains("This is not a JSON array of extensions."),
        "{html}"
    );
    assert!(
        html.contains("[{&quot;number&quot;: &quot;31&quot;")
            || html.contains("[{\"number\": \"31\""),
        "{html}"
    );
    let rows = r#"[{"number": "3101", "name": "Bo"}, {"number": "3102", "name": "Cy"}]"#;
    let (_, to) = app
        .submit(
            "/pbx/extensions",
            "pbx/extensions/import",
            &[("json", rows)],
        )
        .await;
    assert!(app.get_text(&to).await.contains("Imported 2 extensions."));

    // Deleted from its confirmation.
    let (s, to) = app
        .submit(
            &format!("/pbx/extensions?delete={id}"),
            "pbx/extensions/delete",
            &[("id", &id)],
        )
        .await;
    assert_eq!((s, to.as_str()), (302, "/pbx/extensions"));
    assert!(!numbers(&app).await.contains(&"3100".to_string()));

    // Signed out meanwhile: to sign in, then back to the page.
    let anonymous = TestApp::browser();
    let r = anonymous
        .post(format!("{}/api/pbx/extensions/delete", app.base))
        .header("Accept", "text/html")
        .header("Origin", &app.base)
        .header("Referer", format!("{}/pbx/extensions", app.base))
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/login?next=%2Fpbx%2Fextensions");
}
