//! The data a fresh (or reset) sandbox starts with.
//!
//! One org on the Standard edition, two departments, eight agents (one disabled, several whose
//! e-mails match the demo extensions), and contacts and accounts that cover what a PBX
//! integration meets in real data: numbers in E.164, national with a trunk zero, with spaces and
//! dashes; two contacts sharing one number; a contact with no name and one with no phone (the
//! manual's sync-failure cases); and an account with a phone.

use time::{Duration, OffsetDateTime};

use super::model::{Account, Agent, Contact, Department, Org};
use super::state::OrgData;

/// The id of the seeded org; stable so that docs and tests can name it.
pub const SEED_ORG_ID: u64 = 60_001_234_567;
pub const SEED_PORTAL: &str = "pbxsandbox";

/// Ids are 64-bit numbers rendered as strings; the seed uses a fixed range, new records count up
/// from [`FIRST_DYNAMIC_ID`].
pub const FIRST_DYNAMIC_ID: u64 = 1_892_000_001_000_000;

pub struct Seed {
    pub org: OrgData,
    /// The agent who signs in at the consent page (the Zoho Desk administrator).
    pub admin_agent_id: u64,
}

/// The seeded agents: (first, last, e-mail, active, admin).
pub const SEED_AGENTS: &[(&str, &str, &str, bool, bool)] = &[
    ("Avery", "Admin", "admin@pbxsandbox.example.com", true, true),
    (
        "Kristin",
        "Hale",
        "kristin.hale@pbxsandbox.example.com",
        true,
        false,
    ),
    (
        "Liam",
        "Chen",
        "liam.chen@pbxsandbox.example.com",
        true,
        false,
    ),
    (
        "Sofia",
        "Rossi",
        "Sofia.Rossi@pbxsandbox.example.com",
        true,
        false,
    ),
    (
        "Noah",
        "Patel",
        "noah.patel@pbxsandbox.example.com",
        true,
        false,
    ),
    (
        "Emma",
        "Wang",
        "emma.wang@pbxsandbox.example.com",
        true,
        false,
    ),
    (
        "Lucas",
        "Meyer",
        "lucas.meyer@pbxsandbox.example.com",
        false,
        false,
    ),
    (
        "Mia",
        "Tanaka",
        "mia.tanaka@pbxsandbox.example.com",
        true,
        false,
    ),
];

pub fn seed(now: OffsetDateTime) -> Seed {
    let created = now - Duration::days(30);
    let mut next = 1_892_000_000_042_000u64;
    let mut id = || {
        next += 1;
        next
    };

    let support = Department {
        id: id(),
        name: "Support".into(),
        is_default: true,
        created,
    };
    let sales = Department {
        id: id(),
        name: "Sales".into(),
        is_default: false,
        created,
    };

    let mut agents = Vec::new();
    for (i, (first, last, email, active, admin)) in SEED_AGENTS.iter().enumerate() {
        let depts = if i % 3 == 2 {
            vec![support.id, sales.id]
        } else {
            vec![support.id]
        };
        agents.push(Agent {
            id: id(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            email: email.to_string(),
            active: *active,
            admin: *admin,
            zuid: 70_000_000 + i as u64,
            extn: None,
            department_ids: depts,
        });
    }
    let admin_agent_id = agents[0].id;
    let owner = Some(agents[1].id);

    let acme = Account {
        id: id(),
        account_name: "Acme Logistics".into(),
        phone: Some("5503310".into()),
        email: Some("info@acme-logistics.example.com".into()),
        website: Some("https://www.acme-logistics.example.com".into()),
        industry: Some("Logistics".into()),
        city: Some("Shenzhen".into()),
        country: Some("China".into()),
        owner_id: owner,
        created: Some(created),
        ..Default::default()
    };
    let globex = Account {
        id: id(),
        account_name: "Globex Trading".into(),
        phone: Some("+86 21 5555 0100".into()),
        industry: Some("Wholesale".into()),
        city: Some("Shanghai".into()),
        country: Some("China".into()),
        owner_id: owner,
        created: Some(created),
        ..Default::default()
    };

    let contact = |first: Option<&str>,
                   last: &str,
                   email: Option<&str>,
                   phone: Option<&str>,
                   mobile: Option<&str>,
                   account: Option<u64>,
                   id: u64| Contact {
        id,
        first_name: first.map(str::to_string),
        last_name: last.to_string(),
        email: email.map(str::to_string),
        phone: phone.map(str::to_string),
        mobile: mobile.map(str::to_string),
        account_id: account,
        owner_id: owner,
        created: Some(created),
        ..Default::default()
    };
    let mut contacts = vec![
        // E.164.
        contact(
            Some("Jennifer"),
            "Lawrence",
            Some("jennifer.lawrence@example.com"),
            Some("+8613800138000"),
            None,
            Some(acme.id),
            id(),
        ),
        // National landline with trunk zero and dashes; mobile with spaces.
        contact(
            Some("Li"),
            "Na",
            Some("li.na@example.com"),
            Some("010-6552-9988"),
            Some("139 1000 2000"),
            Some(globex.id),
            id(),
        ),
        // E.164 with spaces (a US number).
        contact(
            Some("John"),
            "Carter",
            Some("john.carter@example.com"),
            Some("+1 415 555 0134"),
            None,
            None,
            id(),
        ),
        // Short lab numbers, as in the vendor's manual.
        contact(
            Some("Paul"),
            "Young",
            Some("paul.young@example.com"),
            Some("5503301"),
            None,
            None,
            id(),
        ),
        // Two contacts sharing one number.
        contact(
            Some("Anna"),
            "Schmidt",
            Some("anna.schmidt@example.com"),
            Some("5503302"),
            None,
            None,
            id(),
        ),
        contact(
            Some("Peter"),
            "Schmidt",
            Some("peter.schmidt@example.com"),
            Some("5503302"),
            None,
            None,
            id(),
        ),
        // Mobile only, national form without trunk prefix.
        contact(
            Some("Wei"),
            "Zhang",
            None,
            None,
            Some("13912345678"),
            None,
            id(),
        ),
        // No name (the manual's first sync-failure case).
        contact(None, "", None, Some("5503305"), None, None, id()),
    ];
    // No phone at all (the manual's second sync-failure case); its number is only in the notes.
    let mut no_phone = contact(
        Some("Grace"),
        "Hopper",
        Some("grace.hopper@example.com"),
        None,
        None,
        None,
        id(),
    );
    no_phone.description = Some("Prefers a call back on 5503306.".into());
    contacts.push(no_phone);

    let org = Org {
        id: SEED_ORG_ID,
        portal_name: SEED_PORTAL.into(),
        company_name: "PBX Sandbox Co.".into(),
        edition: "STANDARD".into(),
        is_default: true,
        created,
    };
    Seed {
        org: OrgData::new(
            org,
            vec![support, sales],
            agents,
            contacts,
            vec![acme, globex],
        ),
        admin_agent_id,
    }
}
