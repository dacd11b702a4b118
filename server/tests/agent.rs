//! Black-box tests of the agent web client's sign-in (issue 7): an extension and its
//! web-client password, a session of its own, throttling, and no admin rights.

mod support;

use support::app::*;

#[tokio::test]
async fn agents_sign_in_with_their_extension_and_get_no_admin_rights() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "2005")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let (s, _) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "kristin-web-1")],
        )
        .await;
    assert_eq!(s, 200);

    let agent = TestApp::browser();
    // Nobody signed in yet.
    let (s, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!((s, me.clone()), (200, serde_json::Value::Null), "{me}");
    // A wrong password, an extension without one, an unknown one: 401, the same answer.
    for (ext, pw) in [
        ("2005", "wrong-password"),
        ("2006", "kristin-web-1"),
        ("9999", "x"),
    ] {
        let (s, body) = app
            .call_with(
                &agent,
                "agent/sign_in",
                &[("extension", ext), ("password", pw)],
            )
            .await;
        assert_eq!(s, 401, "{ext}: {body}");
        assert!(body.to_string().contains("BadCredentials"), "{body}");
    }
    let (s, me) = app
        .call_with(
            &agent,
            "agent/sign_in",
            &[("extension", " 2005 "), ("password", "kristin-web-1")],
        )
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["extension"], "2005");
    assert_eq!(me["agent_name"], "Kristin Hale");
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me["extension"], "2005");

    // An agent's session is not an admin's.
    let (s, _) = app.call_with(&agent, "pbx/extensions", &[]).await;
    assert_eq!(s, 401);
    let (s, _) = app
        .call_with(
            &agent,
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", ""),
                ("filter[outcome]", ""),
            ],
        )
        .await;
    assert_eq!(s, 401);

    // Removing the password ends what the session can do.
    let (s, _) = app
        .call("pbx/extensions/password", &[("id", &id), ("password", "")])
        .await;
    assert_eq!(s, 200);
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me, serde_json::Value::Null);

    // Sign-out.
    let (s, _) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "kristin-web-2")],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call_with(
            &agent,
            "agent/sign_in",
            &[("extension", "2005"), ("password", "kristin-web-2")],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.call_with(&agent, "agent/sign_out", &[]).await;
    assert_eq!(s, 200);
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me, serde_json::Value::Null);

    // Guessing is throttled per extension (and per address).
    let guesser = TestApp::browser();
    let mut last = 0;
    for _ in 0..7 {
        let (s, _) = app
            .call_with(
                &guesser,
                "agent/sign_in",
                &[("extension", "2005"), ("password", "guess-guess")],
            )
            .await;
        last = s;
    }
    assert_eq!(last, 429);
}
