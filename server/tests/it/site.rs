//! Black-box tests of how the built site is served: the pages name the content-hashed files of
//! `pkg/site.json`, those files go out precompressed (brotli, gzip) to browsers that accept it,
//! with a year's immutable cache and `Vary: accept-encoding`, and other files are revalidated.

use std::path::Path;

use futures::StreamExt;

use crate::support::app::*;

const NAME: &str = "helpdesk-0123456789abcdef";

/// A site as `frontend/build-site.sh` lays it out, with recognisable bytes in every variant.
fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("site.json"),
        format!("{{\"output_name\":\"{NAME}\"}}\n"),
    )
    .unwrap();
    for file in [
        format!("{NAME}.js"),
        format!("{NAME}_bg.wasm"),
        format!("{NAME}.css"),
    ] {
        std::fs::write(pkg.join(&file), format!("plain {file}")).unwrap();
        std::fs::write(pkg.join(format!("{file}.br")), format!("brotli {file}")).unwrap();
        std::fs::write(pkg.join(format!("{file}.gz")), format!("gzip {file}")).unwrap();
    }
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
}

async fn get(app: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(e) = encoding {
        req = req.header("Accept-Encoding", e);
    }
    req.send().await.unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn hashed_files_are_precompressed_and_cached_for_a_year() {
    let root = std::env::temp_dir().join(format!("helpdesk-site-{}", rand::random::<u64>()));
    fake_site(&root);
    let app = TestApp::spawn_with_site(server::site::options(&root)).await;

    // The admin pages name the hashed stylesheet and no script file (they are plain HTML);
    // the agent client, the islands bundle's (and not the app's).
    app.sign_in().await;
    for path in [
        "/integrations/helpdesk",
        "/pbx/simulator",
        "/pbx/extensions",
    ] {
        let page = get(&app, path, None).await.text().await.unwrap();
        assert!(
            page.contains(&format!("/pkg/{NAME}.css")),
            "{path}: no stylesheet"
        );
        assert!(
            !page.contains(".wasm") && !page.contains(".js\""),
            "{path}: {page}"
        );
    }
    let page = get(&app, "/agent", None).await.text().await.unwrap();
    for link in [
        format!("/pkg/{NAME}.css"),
        format!("/pkg/{NAME}-islands.js"),
        format!("/pkg/{NAME}-islands_bg.wasm"),
    ] {
        assert!(page.contains(&link), "{link} not in the agent page");
    }
    assert!(
        !page.contains(&format!("/pkg/{NAME}.js")),
        "not the app's bundle"
    );

    let wasm = format!("/pkg/{NAME}_bg.wasm");
    let r = get(&app, &wasm, Some("gzip, deflate, br")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "br");
    assert_eq!(header(&r, "content-type"), "application/wasm");
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&r, "vary").to_ascii_lowercase(), "accept-encoding");
    assert_eq!(r.text().await.unwrap(), format!("brotli {NAME}_bg.wasm"));

    let r = get(&app, &format!("/pkg/{NAME}.js"), Some("gzip")).await;
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert!(header(&r, "content-type").contains("javascript"));
    assert_eq!(r.text().await.unwrap(), format!("gzip {NAME}.js"));

    // A client that accepts no compression gets the plain bytes, cached alike.
    let r = get(&app, &format!("/pkg/{NAME}.css"), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "");
    assert!(header(&r, "cache-control").contains("immutable"));
    assert_eq!(r.text().await.unwrap(), format!("plain {NAME}.css"));

    // Files without a hash in their name are kept but revalidated.
    let r = get(&app, "/favicon.svg", Some("br")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "no-cache");

    // A missing file is the app's "not found" page, never cached as a file.
    let r = get(&app, "/pkg/helpdesk-ffffffffffffffff.js", Some("br")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "cache-control"), "");

    std::fs::remove_dir_all(&root).unwrap();
}

/// The server runs on every core, where the end of a streamed page can be polled on another
/// thread than its start. Under concurrent load every page completes: one holding a thread-bound
/// value while it renders (the consent window's handle once did) would panic when dropped there
/// and cut its page off (docs/decisions.md, 2026-11-28 and 2026-12-04).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_complete_under_load_on_a_multi_threaded_runtime() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.sign_in().await;
    let pages = [
        "/integrations/helpdesk",
        "/integrations/helpdesk/log",
        "/pbx/extensions",
        "/pbx/contacts",
        "/pbx/simulator",
        "/pbx/connection",
        "/agent",
        "/login",
    ];
    let load = |i: usize| {
        let (http, url) = (
            app.http.clone(),
            format!("{}{}", app.base, pages[i % pages.len()]),
        );
        async move {
            let r = http.get(&url).send().await.unwrap();
            let status = r.status().as_u16();
            // The streamed page's last chunks come after `</html>`; a page whose stream broke
            // off mid-body is an error here, one that stalls a timeout.
            let body = r.text().await;
            let whole = body.is_ok_and(|b| b.contains("</html>"));
            (url, status, whole)
        }
    };
    let loads = futures::stream::iter(0..300)
        .map(load)
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;
    let broken: Vec<_> = loads
        .iter()
        .filter(|(_, s, whole)| *s != 200 || !whole)
        .collect();
    assert!(
        broken.is_empty(),
        "{} of 300: {:?}",
        broken.len(),
        &broken[..broken.len().min(5)]
    );
}

/// The `<input …>` tag of the field with this id, as the server rendered it.
fn input_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no field {id}"));
    let start = html[..at].rfind("<input").expect("an input");
    let end = at + html[at..].find('>').expect("the tag's end");
    &html[start..=end]
}

fn is_checked(tag: &str) -> bool {
    regex::Regex::new(r"\schecked(\s|=|/|>)")
        .unwrap()
        .is_match(tag)
}

/// Before the WASM arrives the page is the server's HTML: its checkboxes, radios and fields
/// must show what is saved, not look unticked and empty until hydration (`bind:` and `prop:`
/// render nothing on the server).
#[tokio::test]
async fn pages_are_drawn_with_their_choices_as_they_stand() {
    let app = crate::support::flows::connected().await;
    let (s, body) = crate::support::flows::save_rules(
        &app,
        &[
            ("create_tickets", "true"),
            ("ticket_inbound_missed", "true"),
            ("ticket_outbound_unanswered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let html = app.get_text("/integrations/helpdesk").await;
    for (id, checked) in [
        ("sync-contacts", false),
        ("create-contacts", false),
        ("create-tickets", true),
        ("ticket-inbound-answered", false),
        ("ticket-inbound-missed", true),
        ("ticket-outbound-answered", false),
        ("ticket-outbound-unanswered", true),
        ("log-calls", true),
    ] {
        let tag = input_tag(&html, id);
        assert_eq!(is_checked(tag), checked, "{tag}");
    }

    // Plain HTML: its forms are the browser's, and the plain pages' script (this response's
    // nonce) adds what HTML alone cannot do (a rule's choices disabled while it is off).
    assert!(html.contains("data-enabled-by"), "{html}");

    // The simulator is plain HTML: its form is the server's, as it stands.
    let html = app.get_text("/pbx/simulator").await;
    assert!(is_checked(input_tag(&html, "sim-inbound")));
    assert!(!is_checked(input_tag(&html, "sim-outbound")));
    assert!(input_tag(&html, "sim-extensions").contains("value=\"2005\""));
    assert!(!html.contains("_bg.wasm"), "no WASM");
}
