//! Black-box tests of the company contacts (phonebook): groups, contacts, validation, the
//! Helpdesk tag (read-only while set) and the sync's upsert by Zoho record id.

use crate::support::app::*;
use app::engine::phonebook::{SyncedRecord, UpsertOutcome};
use app::engine::EngineError;
use app::model::{FieldProblem, PhonebookContactInput};
use serde_json::{json, Value};

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

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn groups(app: &TestApp) -> Vec<Value> {
    let (s, list) = app.call("pbx/contacts/groups", &[]).await;
    assert_eq!(s, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn group(app: &TestApp, id: i64) -> Value {
    groups(app)
        .await
        .into_iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("no group {id}"))
}

async fn create_group(app: &TestApp, name: &str) -> i64 {
    let (s, id) = app
        .call("pbx/contacts/groups/create", &[("name", name)])
        .await;
    assert_eq!(s, 200, "{id}");
    id.as_i64().unwrap()
}

async fn contacts(app: &TestApp, group_id: i64) -> Vec<Value> {
    let (s, list) = app
        .call("pbx/contacts", &[("group_id", &group_id.to_string())])
        .await;
    assert_eq!(s, 200, "{list}");
    list.as_array().unwrap().clone()
}

/// A contact form as the page sends it (every field, empty ones included).
fn contact_form<'a>(
    first: &'a str,
    last: &'a str,
    email: &'a str,
    business: &'a str,
    mobile: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("input[first_name]", first),
        ("input[last_name]", last),
        ("input[company]", "Acme"),
        ("input[email]", email),
        ("input[business_phone]", business),
        ("input[mobile_phone]", mobile),
        ("input[home_phone]", ""),
    ]
}

fn with<'a>(
    head: &[(&'static str, &'a str)],
    form: Vec<(&'static str, &'a str)>,
) -> Vec<(&'static str, &'a str)> {
    head.iter().copied().chain(form).collect()
}

fn record(zoho_id: &str, mobile: &str) -> SyncedRecord {
    SyncedRecord {
        zoho_module: "contacts".into(),
        zoho_id: zoho_id.into(),
        contact: PhonebookContactInput {
            first_name: Some("Jennifer".into()),
            last_name: "Lawrence".into(),
            company: Some("Zylker".into()),
            email: Some("jennifer@zylker.example.com".into()),
            business_phone: None,
            mobile_phone: Some(mobile.into()),
            home_phone: None,
        },
    }
}

#[tokio::test]
async fn groups_are_validated_unique_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    assert!(groups(&app).await.is_empty());

    let sales = create_group(&app, "  Sales ").await;
    assert_eq!(
        group(&app, sales).await,
        json!({"id": sales, "name": "Sales", "contacts": 0, "helpdesk": false})
    );
    for (name, problem) in [
        ("sales", "Duplicate"),
        ("   ", "Required"),
        (&"x".repeat(65)[..], "TooLong"),
    ] {
        let (_, body) = app
            .call("pbx/contacts/groups/create", &[("name", name)])
            .await;
        assert_eq!(fields(&body), pairs(&[("name", problem)]), "{name:?}");
    }
    let support = create_group(&app, "Support").await;
    // Sorted by name, whatever the case.
    let beta = create_group(&app, "beta partners").await;
    let names: Vec<Value> = groups(&app)
        .await
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("beta partners"), json!("Sales"), json!("Support")]
    );

    let (s, body) = app
        .call(
            "pbx/contacts/groups/rename",
            &[("id", &sales.to_string()), ("name", "Sales EMEA")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(group(&app, sales).await["name"], "Sales EMEA");
    // Its own name in another case is no clash; another group's is.
    let (s, _) = app
        .call(
            "pbx/contacts/groups/rename",
            &[("id", &sales.to_string()), ("name", "SALES EMEA")],
        )
        .await;
    assert_eq!(s, 200);
    let (_, body) = app
        .call(
            "pbx/contacts/groups/rename",
            &[("id", &beta.to_string()), ("name", "support")],
        )
        .await;
    assert_eq!(fields(&body), pairs(&[("name", "Duplicate")]));

    assert_eq!(
        app.call(
            "pbx/contacts/groups/delete",
            &[("id", &support.to_string())]
        )
        .await
        .0,
        200
    );
    assert_eq!(groups(&app).await.len(), 2);
    for endpoint in ["pbx/contacts/groups/delete", "pbx/contacts"] {
        let key = if endpoint == "pbx/contacts" {
            "group_id"
        } else {
            "id"
        };
        let (_, body) = app.call(endpoint, &[(key, &support.to_string())]).await;
        assert_eq!(body, json!("NotFound"), "{endpoint}");
    }
}

#[tokio::test]
async fn contacts_are_validated_edited_and_deleted() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let g = create_group(&app, "Suppliers").await;
    let gs = g.to_string();
    let head = [("group_id", gs.as_str())];

    let (_, body) = app
        .call(
            "pbx/contacts/create",
            &with(&head, contact_form("Ann", " ", "ann at example", "", "")),
        )
        .await;
    assert_eq!(
        fields(&body),
        pairs(&[
            ("last_name", "Required"),
            ("email", "BadEmail"),
            ("phones", "Required")
        ])
    );
    let (_, body) = app
        .call(
            "pbx/contacts/create",
            &with(
                &head,
                contact_form("", "Lee", "", "555.0101", &"1".repeat(51)),
            ),
        )
        .await;
    assert_eq!(
        fields(&body),
        pairs(&[
            ("business_phone", "NotPhoneNumber"),
            ("mobile_phone", "TooLong")
        ])
    );
    assert!(contacts(&app, g).await.is_empty(), "nothing stored");

    let (s, id) = app
        .call(
            "pbx/contacts/create",
            &with(
                &head,
                contact_form(" Ann ", "Lee", "ann@example.com", "+86 (20) 5550-101", ""),
            ),
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_i64().unwrap();
    assert_eq!(
        contacts(&app, g).await,
        [json!({
            "id": id, "group_id": g, "first_name": "Ann", "last_name": "Lee", "company": "Acme",
            "email": "ann@example.com", "business_phone": "+86 (20) 5550-101",
            "mobile_phone": null, "home_phone": null, "zoho_module": null, "zoho_id": null
        })]
    );
    assert_eq!(group(&app, g).await["contacts"], 1);

    let ids = id.to_string();
    let head = [("id", ids.as_str())];
    let (s, body) = app
        .call(
            "pbx/contacts/update",
            &with(&head, contact_form("", "Lee-Smith", "", "", "13800138000")),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let c = &contacts(&app, g).await[0];
    assert_eq!(
        (
            &c["first_name"],
            &c["last_name"],
            &c["email"],
            &c["business_phone"],
            &c["mobile_phone"]
        ),
        (
            &Value::Null,
            &json!("Lee-Smith"),
            &Value::Null,
            &Value::Null,
            &json!("13800138000")
        )
    );
    let (_, body) = app
        .call(
            "pbx/contacts/update",
            &with(&head, contact_form("", "Lee", "", "", "")),
        )
        .await;
    assert_eq!(fields(&body), pairs(&[("phones", "Required")]));

    assert_eq!(
        app.call("pbx/contacts/delete", &[("id", ids.as_str())])
            .await
            .0,
        200
    );
    assert!(contacts(&app, g).await.is_empty());
    let (_, body) = app
        .call("pbx/contacts/delete", &[("id", ids.as_str())])
        .await;
    assert_eq!(body, json!("NotFound"));
    let (_, body) = app
        .call(
            "pbx/contacts/update",
            &with(&head, contact_form("", "Lee", "", "", "5503309")),
        )
        .await;
    assert_eq!(body, json!("NotFound"));

    // Deleting a group deletes its contacts.
    let (s, _) = app
        .call(
            "pbx/contacts/create",
            &with(
                &[("group_id", gs.as_str())],
                contact_form("", "Keep", "", "5503309", ""),
            ),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        app.call("pbx/contacts/groups/delete", &[("id", gs.as_str())])
            .await
            .0,
        200
    );
    let (_, body) = app.call("pbx/contacts", &[("group_id", gs.as_str())]).await;
    assert_eq!(body, json!("NotFound"));
}

#[tokio::test]
async fn every_contacts_function_refuses_anonymous_callers() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let g = create_group(&app, "Team").await.to_string();
    let stranger = TestApp::browser();
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("pbx/contacts/groups", vec![]),
        ("pbx/contacts/groups/create", vec![("name", "Intruders")]),
        (
            "pbx/contacts/groups/rename",
            vec![("id", g.as_str()), ("name", "Owned")],
        ),
        ("pbx/contacts/groups/delete", vec![("id", g.as_str())]),
        ("pbx/contacts", vec![("group_id", g.as_str())]),
        (
            "pbx/contacts/create",
            with(
                &[("group_id", g.as_str())],
                contact_form("", "X", "", "5503309", ""),
            ),
        ),
        (
            "pbx/contacts/update",
            with(&[("id", "1")], contact_form("", "X", "", "5503309", "")),
        ),
        ("pbx/contacts/delete", vec![("id", "1")]),
    ];
    for (endpoint, form) in calls {
        let (s, body) = app.call_with(&stranger, endpoint, &form).await;
        assert_eq!((s, body), (401, json!("Unauthorized")), "{endpoint}");
    }
    assert_eq!(groups(&app).await.len(), 1);
    assert_eq!(group(&app, g.parse().unwrap()).await["name"], "Team");
}

#[tokio::test]
async fn the_helpdesk_group_is_filled_by_sync_and_read_only_until_released() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let engine = &app.engine;

    // Only an empty group can be bound.
    let used = create_group(&app, "Used").await;
    let (s, _) = app
        .call(
            "pbx/contacts/create",
            &with(
                &[("group_id", &used.to_string())],
                contact_form("", "Someone", "", "5503309", ""),
            ),
        )
        .await;
    assert_eq!(s, 200);
    match engine.phonebook.bind_helpdesk_group(used).await {
        Err(EngineError::GroupNotEmpty { group, contacts }) => {
            assert_eq!((group.as_str(), contacts), ("Used", 1))
        }
        other => panic!("bound a non-empty group: {other:?}"),
    }
    assert!(matches!(
        engine.phonebook.bind_helpdesk_group(9999).await,
        Err(EngineError::NotFound)
    ));
    assert_eq!(group(&app, used).await["helpdesk"], false);

    let hd = create_group(&app, "Helpdesk_Synchronization").await;
    engine.phonebook.bind_helpdesk_group(hd).await.unwrap();
    assert_eq!(group(&app, hd).await["helpdesk"], true);

    // The sync fills it: created once, then updated in place, never duplicated.
    let rec = record("1892000000042032", "+8613800138000");
    assert_eq!(
        engine
            .phonebook
            .upsert_synced_contact(hd, &rec)
            .await
            .unwrap(),
        UpsertOutcome::Created
    );
    assert_eq!(
        engine
            .phonebook
            .upsert_synced_contact(hd, &rec)
            .await
            .unwrap(),
        UpsertOutcome::Unchanged
    );
    let moved = record("1892000000042032", "+86 138 0013 9999");
    assert_eq!(
        engine
            .phonebook
            .upsert_synced_contact(hd, &moved)
            .await
            .unwrap(),
        UpsertOutcome::Updated
    );
    let list = contacts(&app, hd).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["mobile_phone"], "+86 138 0013 9999");
    assert_eq!(list[0]["zoho_id"], "1892000000042032");
    assert_eq!(list[0]["zoho_module"], "contacts");
    assert_eq!(
        engine
            .phonebook
            .upsert_synced_contact(hd, &record("1892000000042099", "5503309"))
            .await
            .unwrap(),
        UpsertOutcome::Created
    );
    assert_eq!(group(&app, hd).await["contacts"], 2);
    // A record without a phone number is refused with the reason (for the integration log).
    let mut no_phone = record("1892000000042100", "");
    no_phone.contact.mobile_phone = None;
    match engine.phonebook.upsert_synced_contact(hd, &no_phone).await {
        Err(EngineError::Invalid(f)) => {
            assert_eq!(f.len(), 1);
            assert_eq!(
                (f[0].field.as_str(), f[0].problem),
                ("phones", FieldProblem::Required)
            );
        }
        other => panic!("synced a record without a phone: {other:?}"),
    }
    // Binding the bound group again changes nothing (it is not empty, but it is the one).
    engine.phonebook.bind_helpdesk_group(hd).await.unwrap();

    // Every edit by hand is refused, with the reason.
    let hds = hd.to_string();
    let synced = list[0]["id"].as_i64().unwrap().to_string();
    let refused: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "pbx/contacts/groups/rename",
            vec![("id", hds.as_str()), ("name", "Mine now")],
        ),
        ("pbx/contacts/groups/delete", vec![("id", hds.as_str())]),
        (
            "pbx/contacts/create",
            with(
                &[("group_id", hds.as_str())],
                contact_form("", "Manual", "", "5503309", ""),
            ),
        ),
        (
            "pbx/contacts/update",
            with(
                &[("id", synced.as_str())],
                contact_form("", "Edited", "", "5503309", ""),
            ),
        ),
        ("pbx/contacts/delete", vec![("id", synced.as_str())]),
    ];
    for (endpoint, form) in &refused {
        let (_, body) = app.call(endpoint, form).await;
        assert_eq!(
            body,
            json!({"ReadOnly": "Helpdesk_Synchronization"}),
            "{endpoint}"
        );
    }
    // The engine refuses too, whoever calls it.
    assert!(matches!(
        engine.phonebook.delete_phonebook_group(hd).await,
        Err(EngineError::ReadOnly(_))
    ));
    assert_eq!(contacts(&app, hd).await.len(), 2);

    // Only one group carries the tag: binding another takes it from the first.
    let next = create_group(&app, "Next").await;
    engine.phonebook.bind_helpdesk_group(next).await.unwrap();
    let tagged: Vec<Value> = groups(&app)
        .await
        .into_iter()
        .filter(|g| g["helpdesk"] == true)
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(tagged, [json!("Next")]);
    engine.phonebook.bind_helpdesk_group(hd).await.unwrap_err();

    // Released (disconnect, or sync off): every group is editable, and the contacts stay.
    engine.phonebook.bind_helpdesk_group(next).await.unwrap();
    engine.phonebook.release_helpdesk_group().await.unwrap();
    assert!(groups(&app).await.iter().all(|g| g["helpdesk"] == false));
    for (endpoint, form) in [
        (
            "pbx/contacts/update",
            with(
                &[("id", synced.as_str())],
                contact_form("", "Edited", "", "5503309", ""),
            ),
        ),
        ("pbx/contacts/delete", vec![("id", synced.as_str())]),
        (
            "pbx/contacts/groups/rename",
            vec![("id", hds.as_str()), ("name", "Former helpdesk")],
        ),
    ] {
        let (s, body) = app.call(endpoint, &form).await;
        assert_eq!(s, 200, "{endpoint}: {body}");
    }
    assert_eq!(contacts(&app, hd).await.len(), 1);
    assert_eq!(group(&app, hd).await["name"], "Former helpdesk");
}

/// The company contacts page is plain HTML, its forms work with no script: a new group
/// becomes the selected one; a refusal comes back with what was typed and why (a field's
/// beside it, another one as a notice); deleting the selected group leaves no selection.
#[tokio::test]
async fn the_contacts_page_is_plain_html_forms_that_keep_what_was_typed() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    const PAGE: &str = "/pbx/contacts";
    let html = app.get_text(PAGE).await;
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "{html}"
    );

    let (s, to) = app
        .submit(PAGE, "pbx/contacts/groups/create", &[("name", "Suppliers")])
        .await;
    let id = groups(&app).await.last().unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        (s, to.clone()),
        (302, format!("{PAGE}?group={id}")),
        "selected"
    );
    let selected = to;
    // Taken (whatever the case): refused beside the field, with the name as typed.
    let (_, to) = app
        .submit(
            &selected,
            "pbx/contacts/groups/create",
            &[("name", "suppliers")],
        )
        .await;
    assert_eq!(to, selected);
    let html = app.get_text(&to).await;
    assert!(
        html.contains("Another group already has this name."),
        "{html}"
    );
    assert!(html.contains(r#"value="suppliers""#), "{html}");

    // A contact needs a phone: refused, what was typed comes back.
    let gid = id.to_string();
    let form = contact_form("Ana", "Lima-Hale", "ana@example.com", "", "");
    let (_, to) = app
        .submit(
            &selected,
            "pbx/contacts/create",
            &with(&[("group_id", gid.as_str())], form),
        )
        .await;
    let html = app.get_text(&to).await;
    assert!(
        html.contains("Enter at least one phone number: business, mobile or home."),
        "{html}"
    );
    assert!(html.contains(r#"value="Lima-Hale""#) && html.contains(r#"value="ana@example.com""#));
    let form = contact_form("Ana", "Lima-Hale", "", "", "0086-138-0013-8000");
    let (_, to) = app
        .submit(
            &selected,
            "pbx/contacts/create",
            &with(&[("group_id", gid.as_str())], form),
        )
        .await;
    assert_eq!(to, selected);
    let contact = contacts(&app, id).await[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let html = app.get_text(&to).await;
    assert!(html.contains("0086-138-0013-8000"), "{html}");
    assert!(
        !html.contains(r#"value="Lima-Hale""#),
        "the form is empty again: {html}"
    );

    // Edit is a view of the page: it closes once saved.
    let edit = format!("{selected}&edit={contact}");
    let html = app.get_text(&edit).await;
    assert!(
        html.contains(r#"value="Lima-Hale""#),
        "the form holds the contact: {html}"
    );
    let form = contact_form("Ana", "Lima", "", "", "+1 (415) 555-0134");
    let (_, to) = app
        .submit(
            &edit,
            "pbx/contacts/update",
            &with(&[("id", contact.as_str())], form),
        )
        .await;
    assert_eq!(to, selected);
    assert!(app.get_text(&to).await.contains("+1 (415) 555-0134"));

    // Deleted twice (a second tab): the second says it is gone.
    let confirm = format!("{selected}&delete={contact}");
    let html = app.get_text(&confirm).await;
    assert!(html.contains("Delete the contact Ana Lima?"), "{html}");
    let (_, to) = app
        .submit(&confirm, "pbx/contacts/delete", &[("id", &contact)])
        .await;
    assert_eq!(to, selected);
    let (_, to) = app
        .submit(&confirm, "pbx/contacts/delete", &[("id", &contact)])
        .await;
    let html = app.get_text(&to).await;
    assert!(
        html.contains("This group or contact no longer exists; the list has been reloaded."),
        "{html}"
    );

    // The selected group deleted: no group selected any more.
    let confirm = format!("{selected}&delete_group={id}");
    let (_, to) = app
        .submit(&confirm, "pbx/contacts/groups/delete", &[("id", &gid)])
        .await;
    assert_eq!(to, PAGE);
    assert!(groups(&app).await.iter().all(|g| g["id"] != id));
}
