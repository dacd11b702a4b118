//! Compiles the translations (`locales/en.json`, `locales/zh-CN.json`) into
//! `$OUT_DIR/i18n_keys.rs`: for every key a constant with its text in each language, and the
//! names of its `{{ placeholders }}`. The build fails when the two files disagree (a key in one
//! only, different placeholders) or when a file is not a flat object of strings, so a missing
//! translation can never reach a page.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The languages, in the order of `Locale`'s variants (`app/src/i18n.rs`).
const LOCALES: [&str; 2] = ["en", "zh-CN"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("locales");
    let tables: Vec<BTreeMap<String, String>> = LOCALES
        .iter()
        .map(|l| {
            let path = dir.join(format!("{l}.json"));
            println!("cargo::rerun-if-changed={}", path.display());
            load(&path)
        })
        .collect();

    let mut problems = Vec::new();
    let keys: BTreeSet<&String> = tables.iter().flat_map(|t| t.keys()).collect();
    for key in &keys {
        if !is_identifier(key) {
            problems.push(format!("`{key}` is not a valid key (a-z, 0-9, _)"));
            continue;
        }
        let mut vars: Option<BTreeSet<String>> = None;
        for (locale, table) in LOCALES.iter().zip(&tables) {
            let Some(text) = table.get(*key) else {
                problems.push(format!("`{key}` has no {locale} text"));
                continue;
            };
            let here = match placeholders(text) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("`{key}` ({locale}): {e}"));
                    continue;
                }
            };
            match &vars {
                None => vars = Some(here),
                Some(v) if *v != here => problems.push(format!(
                    "`{key}`: the placeholders differ between languages ({v:?} and {here:?} in {locale})"
                )),
                Some(_) => {}
            }
        }
    }
    if !problems.is_empty() {
        panic!("translations:\n  - {}", problems.join("\n  - "));
    }

    let mut texts = String::new();
    let mut vars = String::new();
    for key in &keys {
        let values: Vec<String> = tables.iter().map(|t| format!("{:?}", t[*key])).collect();
        writeln!(
            texts,
            "pub const {key}: [&str; {}] = [{}];",
            LOCALES.len(),
            values.join(", ")
        )
        .unwrap();
        let names: Vec<String> = placeholders(&tables[0][*key])
            .unwrap()
            .into_iter()
            .map(|n| format!("{n:?}"))
            .collect();
        writeln!(vars, "pub const {key}: &[&str] = &[{}];", names.join(", ")).unwrap();
    }
    let out = format!(
        "/// Every message: its text in each language, indexed by `Locale::index`.\n\
         #[allow(non_upper_case_globals)]\npub mod keys {{\n{texts}}}\n\
         /// The placeholders of every message.\n\
         #[allow(non_upper_case_globals)]\npub mod vars {{\n{vars}}}\n"
    );
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("i18n_keys.rs");
    std::fs::write(dest, out).expect("write i18n_keys.rs");
}

fn load(path: &Path) -> BTreeMap<String, String> {
    let raw = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&raw).unwrap_or_else(|e| {
        panic!(
            "{} must be one JSON object of key → text: {e}",
            path.display()
        )
    })
}

fn is_identifier(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The names of a text's `{{ name }}` placeholders.
fn placeholders(text: &str) -> Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
        let name = after[..end].trim();
        if !is_identifier(name) {
            return Err(format!("bad placeholder `{{{{{}}}}}`", &after[..end]));
        }
        names.insert(name.to_string());
        rest = &after[end + 2..];
    }
    Ok(names)
}
