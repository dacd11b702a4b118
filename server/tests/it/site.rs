//! Black-box tests of how the built site is served: the pages name the content-hashed files of
//! `pkg/site.json`, those files go out precompressed (brotli, gzip) to browsers that accept it,
//! with a year's immutable cache and `Vary: accept-encoding`, and other files are revalidated.

use std::path::Path;

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

    // The page names the hashed files, stylesheet included.
    let page = get(&app, "/login", None).await.text().await.unwrap();
    for link in [
        format!("/pkg/{NAME}.css"),
        format!("/pkg/{NAME}.js"),
        format!("/pkg/{NAME}_bg.wasm"),
    ] {
        assert!(page.contains(&link), "{link} not in the page");
    }

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
