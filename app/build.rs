//! Compiles the translations (`locales/en.json`, `locales/zh-CN.json`) into `$OUT_DIR/i18n`.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("i18n");
    let cfg = Config::new("en")
        .and_then(|c| c.add_locale("zh-CN"))
        .expect("locale configuration")
        // Messages with variables are also needed as plain strings (errors, attributes).
        .parse_options(ParseOptions::default().interpolate_display(true));
    let infos = TranslationsInfos::parse(cfg).expect("translations parse");
    infos.rerun_if_locales_changed();
    infos.emit_diagnostics();
    infos
        .generate_i18n_module(out)
        .expect("generate the i18n module");
}
