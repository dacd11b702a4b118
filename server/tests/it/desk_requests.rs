//! The typed Zoho Desk requests (`app::engine::zoho::api`) as they go over the wire, checked
//! against Zoho's own OpenAPI files (`server/tests/data/zoho-desk-oas`): names, types, required
//! fields and no field Zoho does not know. Then the same bodies sent to the sandbox, whose
//! own checks are as strict as Zoho's, are accepted.

use crate::support::oas::Oas;
use app::engine::numbers::PhoneField;
use app::engine::zoho::api::{NewAccount, NewCall, NewContact, NewTicket};
use serde_json::{json, Value};

/// Fields Zoho's API documentation accepts in a create body that its OpenAPI request schema
/// leaves out (docs/zoho-desk-api.md §"Calls": `description`, ≤ 65535, which the response
/// schema carries too). They are checked here, the rest against the OpenAPI file.
fn documented_extras(file: &str) -> &'static [&'static str] {
    match file {
        "Call" => &["description"],
        _ => &[],
    }
}

/// The fields Zoho's API documentation makes mandatory (its OpenAPI files list every field
/// of a create body as required, the nullable ones too).
fn mandatory(file: &str) -> &'static [&'static str] {
    match file {
        "Contact" => &["lastName"],
        "Account" => &["accountName"],
        "Ticket" => &["subject", "departmentId", "contactId"],
        _ => &[
            "subject",
            "departmentId",
            "contactId",
            "direction",
            "startTime",
            "duration",
            "status",
        ],
    }
}

fn check(oas: &Oas, file: &str, path: &str, body: &impl serde::Serialize) -> Value {
    let v = serde_json::to_value(body).unwrap();
    let mut rest = v.clone();
    for f in documented_extras(file) {
        if let Some(x) = rest.as_object_mut().unwrap().remove(*f) {
            assert!(
                x.as_str().is_some_and(|t| t.chars().count() <= 65_535),
                "{file}: {f} is a text of at most 65535 characters: {x}"
            );
        }
    }
    if let Err(errors) = oas.check_request(file, path, "post", &rest) {
        panic!("{file} POST {path}: {v}\n{}", errors.join("\n"));
    }
    for f in mandatory(file) {
        assert!(v.get(*f).is_some(), "{file}: {f} is mandatory: {v}");
    }
    v
}

#[test]
fn every_creation_body_is_what_zoho_documents() {
    let oas = Oas::load();
    // A contact made for an unknown caller, its number where libphonenumber puts it.
    let contact = NewContact {
        first_name: Some("Automatic New Contact".into()),
        last_name: "+1 (415) 555-0134".into(),
        phone: None,
        mobile: None,
        description: Some(
            "Created by the PBX integration for calls from +1 (415) 555-0134.".into(),
        ),
    }
    .with_number(PhoneField::Phone, "+14155550134".into());
    let v = check(&oas, "Contact", "/api/v1/contacts", &contact);
    assert_eq!(v["phone"], "+14155550134");
    // Only a last name: Zoho's one required field.
    check(
        &oas,
        "Contact",
        "/api/v1/contacts",
        &NewContact {
            first_name: None,
            last_name: "Zhang".into(),
            phone: None,
            mobile: Some("+8613800138000".into()),
            description: None,
        },
    );
    check(
        &oas,
        "Account",
        "/api/v1/accounts",
        &NewAccount {
            account_name: "Automatic New Account 0086-138-0013-8000".into(),
            phone: Some("+8613800138000".into()),
            description: None,
        },
    );
    let ticket = NewTicket {
        subject: "Inbound Completed - from <5503301> to Kristin Hale<2005>".into(),
        department_id: "1892000000006907".into(),
        contact_id: "1892000000042032".into(),
        channel: "Phone".into(),
        phone: Some("5503301".into()),
        description: "PBX call ID: c1".into(),
        assignee_id: Some("1892000000056007".into()),
    };
    check(&oas, "Ticket", "/api/v1/tickets", &ticket);
    check(
        &oas,
        "Ticket",
        "/api/v1/tickets",
        &NewTicket {
            assignee_id: None,
            ..ticket
        },
    );
    let call = NewCall {
        subject: "Inbound Missed - from <5503309> to Kristin Hale<2005>".into(),
        department_id: "1892000000006907".into(),
        contact_id: "1892000000042032".into(),
        direction: "inbound".into(),
        start_time: "2026-12-02T08:00:00.000Z".into(),
        duration: "0".into(),
        status: "Missed".into(),
        description: "PBX call ID: c2".into(),
        owner_id: Some("1892000000056007".into()),
        ticket_id: Some("1892000000093001".into()),
    };
    check(&oas, "Call", "/api/v1/calls", &call);
    check(
        &oas,
        "Call",
        "/api/v1/calls",
        &NewCall {
            owner_id: None,
            ticket_id: None,
            ..call
        },
    );
}

#[test]
fn the_check_refuses_a_body_zoho_would_not_take() {
    // The check itself can fail: a field Zoho does not know, and a missing required one.
    let oas = Oas::load();
    assert!(oas
        .check_request(
            "Ticket",
            "/api/v1/tickets",
            "post",
            &json!({"subject": "s", "departmentId": "1", "contactId": "2", "callerNumber": "5"})
        )
        .is_err());
    assert!(oas
        .check_request(
            "Contact",
            "/api/v1/contacts",
            "post",
            &json!({"lastName": 5})
        )
        .is_err());
}
