//! The built site (`frontend/build-site.sh`): the names of its script, WASM and stylesheet, and
//! how its static files are served (precompressed, cached for a year when the name carries
//! the content's hash).

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use leptos::prelude::LeptosOptions;

/// The name of the site's files when they carry no hash (a site built by `cargo leptos`).
pub const OUTPUT_NAME: &str = "helpdesk";

/// `Cache-Control` of the content-hashed files: they never change under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of every other static file: kept, but checked with the server each time.
pub const REVALIDATE: &str = "no-cache";

#[derive(serde::Deserialize)]
struct Manifest {
    output_name: String,
}

/// Leptos's options for the site at `root`: the output name written in `pkg/site.json`
/// (`helpdesk-<hash>`), or [`OUTPUT_NAME`] when there is none.
pub fn options(root: &Path) -> LeptosOptions {
    let manifest = root.join("pkg").join("site.json");
    let output_name = match std::fs::read_to_string(&manifest) {
        Ok(raw) => match serde_json::from_str::<Manifest>(&raw) {
            Ok(m) if is_file_stem(&m.output_name) => m.output_name,
            _ => {
                tracing::error!(path = %manifest.display(), "unreadable site manifest: rebuild the site (make site)");
                OUTPUT_NAME.to_string()
            }
        },
        Err(_) => {
            tracing::warn!(
                root = %root.display(),
                "no built site here: pages are served without their script and style (make site builds it)"
            );
            OUTPUT_NAME.to_string()
        }
    };
    LeptosOptions::builder()
        .output_name(output_name)
        .site_root(root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build()
}

fn is_file_stem(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `path` is one of the site's content-hashed files: `/pkg/helpdesk-<16 hex>.js`,
/// `…_bg.wasm`, `….css`, `…-islands.js` or `…-islands_bg.wasm` (with `.br` / `.gz` never in
/// the URL: the server picks those).
pub fn is_hashed_asset(path: &str) -> bool {
    let Some(rest) = path
        .strip_prefix("/pkg/")
        .and_then(|p| p.strip_prefix(OUTPUT_NAME))
        .and_then(|p| p.strip_prefix('-'))
    else {
        return false;
    };
    let (hash, suffix) = rest.split_at(rest.len().min(16));
    hash.len() == 16
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(
            suffix,
            ".js" | "_bg.wasm" | ".css" | "-islands.js" | "-islands_bg.wasm"
        )
}

/// The router's fallback: a static file of the site (brotli or gzip when the browser accepts
/// it, with its cache policy), else the app's "not found" page.
pub async fn files_or_not_found(
    uri: Uri,
    State(options): State<LeptosOptions>,
    req: Request<Body>,
) -> Response {
    let method_reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let handler = leptos_axum::file_and_error_handler(app::shell);
    let mut res = handler(uri.clone(), State(options), req).await;
    // Only a file answers 200 or 304 here: the "not found" page is a 404.
    if method_reads && matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        let policy = if is_hashed_asset(uri.path()) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The same URL answers brotli, gzip or plain bytes: caches must keep them apart.
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_site_files_are_immutable() {
        assert!(is_hashed_asset("/pkg/helpdesk-0123456789abcdef.js"));
        assert!(is_hashed_asset("/pkg/helpdesk-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_asset("/pkg/helpdesk-0123456789abcdef.css"));
        assert!(is_hashed_asset("/pkg/helpdesk-0123456789abcdef-islands.js"));
        assert!(is_hashed_asset(
            "/pkg/helpdesk-0123456789abcdef-islands_bg.wasm"
        ));
        for not in [
            "/pkg/helpdesk.js",
            "/pkg/helpdesk.wasm",
            "/pkg/helpdesk-0123456789abcde.js",
            "/pkg/helpdesk-0123456789abcdeg.js",
            "/pkg/helpdesk-0123456789abcdef.js.map",
            "/pkg/helpdesk-0123456789abcdef.json",
            "/pkg/snippets/x/inline0.js",
            "/helpdesk-0123456789abcdef.js",
            "/favicon.svg",
        ] {
            assert!(!is_hashed_asset(not), "{not}");
        }
    }

    #[test]
    fn the_manifest_names_the_files_and_its_absence_is_survivable() {
        let dir = std::env::temp_dir().join(format!("site-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        assert_eq!(&*options(&dir).output_name, OUTPUT_NAME);
        std::fs::write(
            dir.join("pkg/site.json"),
            r#"{"output_name":"helpdesk-0123456789abcdef"}"#,
        )
        .unwrap();
        let o = options(&dir);
        assert_eq!(&*o.output_name, "helpdesk-0123456789abcdef");
        assert_eq!(&*o.site_pkg_dir, "pkg");
        std::fs::write(
            dir.join("pkg/site.json"),
            r#"{"output_name":"x\"><script>"}"#,
        )
        .unwrap();
        assert_eq!(&*options(&dir).output_name, OUTPUT_NAME);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
