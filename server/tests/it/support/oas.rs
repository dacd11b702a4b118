//! Validates JSON bodies against Zoho Desk's own OpenAPI 3.1 files
//! (`server/tests/data/zoho-desk-oas/*.json`: where they come from is in the README there).
//!
//! The raw files cannot be fed to a JSON Schema validator as they are:
//! - responses are `$ref`s to `#/components/responses/...`, whose schema sits under
//!   `content["application/json"].schema`;
//! - schemas reference each other (`#/components/...`, `./Contact.json#/components/...`), and
//!   some references point at files the mirror does not carry (`./Common.json`, ...);
//! - objects are built with `allOf` whose branches each say `additionalProperties: false`,
//!   which read literally rejects every instance;
//! - patterns use Java regex syntax (`\P{InBasicLatin}`, `&amp;`).
//!
//! So [`Oas::response_schema`] builds one self-contained draft 2020-12 schema:
//! - every `$ref` into one of the 7 loaded files (`#/...`, `./Contact.json#/...`, even across
//!   files) is inlined; a cycle or a chain deeper than `MAX_REF_DEPTH` becomes `{}`;
//!   references to files we do not have (`./Common.json`, `./Department.json`, `./Task.json`,
//!   ...) become `{}` ("anything");
//! - every `allOf` is merged into one schema: union of `properties` (a property named in
//!   several branches is merged the same way), union of `required`, `additionalProperties:
//!   false` if any branch says so, `type` = the types every branch allows (e.g. `"object"` and
//!   `["null","object"]` give `"object"`); `min/maxProperties` of a branch are dropped when the
//!   union adds fields to it. A branch we could not load removes `additionalProperties: false`
//!   (we cannot know its fields);
//! - `oneOf` is checked as `anyOf` (Zoho's alternatives overlap: a record with and without
//!   `cf`), and `allOf[A, anyOf[B1, B2]]` becomes `anyOf[A+B1, A+B2]` so A's fields (`role`,
//!   `profile`, `data[].assignee`, ...) are allowed beside each closed alternative. Alternatives
//!   that depend on a file we do not have are dropped when a fully known one exists (Call's
//!   `./Task.json` table views);
//! - patterns are translated from Java to the ECMA-262 dialect the `jsonschema` crate takes
//!   (`\P{InBasicLatin}` -> `\u0080-\uFFFF`, `&amp;` -> `&`), and dropped if they still do not
//!   compile (the check uses the validator itself, so it is exact); patterns are unanchored
//!   searches, as JSON Schema says;
//! - only assertion keywords are kept: `format` (`int64`, `date-time`...), `description`,
//!   `example(s)`, `x-*`, ... are removed, and formats are not asserted anyway;
//! - an `edition` enum also accepts `STANDARD` and `EXPRESS` (see `widen_edition_enum`);
//! - duplicate names in `required` (Zoho lists `isOverDue` twice) are removed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

/// The Zoho Desk OpenAPI files this module loads (file stems).
const FILES: [&str; 7] = [
    "Organization",
    "Agent",
    "Contact",
    "Account",
    "Search",
    "Call",
    "Ticket",
];

/// Deepest chain of `$ref`s followed before giving up with `{}`.
const MAX_REF_DEPTH: usize = 32;

/// Marker left on a schema that stood for a reference to a file we do not have; it lets an
/// `allOf` merge know that the merged object has properties we cannot see. Removed at the end.
const UNRESOLVED: &str = "x-oas-unresolved";
/// Marker on a merged `allOf` one of whose branches was unresolved: its `additionalProperties`
/// was dropped, and must stay dropped when it is merged again. Removed at the end.
const OPEN: &str = "x-oas-open";

/// Keywords whose value is a map of name -> schema.
const SCHEMA_MAPS: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];
/// Keywords whose value is one schema.
const SCHEMA_SINGLE: [&str; 11] = [
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "additionalItems",
];
/// Keywords whose value is a list of schemas (`allOf` and `oneOf` are merged away).
const SCHEMA_LISTS: [&str; 2] = ["anyOf", "prefixItems"];
/// Assertion keywords kept verbatim. Everything else (`format`, `description`, `example`,
/// `examples`, `x-*`, `style`, `explode`, `deprecated`, `readOnly`, stray keys...) is dropped:
/// `format` in particular must never be asserted (Zoho's `int64` ids are sent as strings).
const ASSERTIONS: [&str; 19] = [
    "type",
    "enum",
    "const",
    "required",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];

/// Zoho Desk's OpenAPI documents, loaded.
pub struct Oas {
    docs: BTreeMap<String, Value>,
    dir: PathBuf,
    /// pattern -> whether the `jsonschema` crate compiles it.
    pattern_cache: Mutex<HashMap<String, bool>>,
    /// "file METHOD path status" -> compiled response validator.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

#[allow(dead_code)]
impl Oas {
    /// Loads the 7 files from `$HELPDESK_OAS_DIR`, else from the copies in this repository
    /// (`server/tests/data/zoho-desk-oas`).
    pub fn load() -> Oas {
        let dir = match std::env::var_os("HELPDESK_OAS_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/zoho-desk-oas"
            )),
        };
        let mut docs = BTreeMap::new();
        for stem in FILES {
            let path = dir.join(format!("{stem}.json"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "oas: cannot read {} ({e}); set HELPDESK_OAS_DIR to the folder holding \
                     Zoho Desk's OpenAPI files",
                    path.display()
                )
            });
            let doc: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("oas: {} is not JSON: {e}", path.display()));
            docs.insert(stem.to_string(), doc);
        }
        Oas {
            docs,
            dir,
            pattern_cache: Mutex::new(HashMap::new()),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The fully resolved, merged JSON Schema (draft 2020-12) of the `application/json`
    /// response body of `method path` in `file` (e.g. `"Contact"`,
    /// `"/api/v1/contacts/{contactId}"`, `"get"`, `200`). Panics if there is none.
    pub fn response_schema(&self, file: &str, path: &str, method: &str, status: u16) -> Value {
        let (resp_file, response) = self.response_object(file, path, method, status);
        let raw = response
            .pointer("/content/application~1json/schema")
            .unwrap_or_else(|| {
                panic!(
                    "oas: {file}.json {} {path} {status}: the response has no \
                     content[\"application/json\"].schema",
                    method.to_uppercase()
                )
            });
        let mut stack = Vec::new();
        let resolved = self.normalize(raw, &resp_file, &mut stack);
        let mut finished = self.finish(resolved);
        if !finished.is_object() && finished != Value::Bool(true) {
            finished = json!({});
        }
        finished
    }

    /// The fully resolved schema of the `application/json` request body of `method path` in
    /// `file` (e.g. `"Ticket"`, `"/api/v1/tickets"`, `"post"`). Panics if there is none.
    pub fn request_schema(&self, file: &str, path: &str, method: &str) -> Value {
        let what = format!("{file}.json {} {path} request", method.to_uppercase());
        let op = self
            .docs
            .get(file)
            .and_then(|d| d.get("paths"))
            .and_then(|p| p.get(path))
            .and_then(|i| i.get(method.to_ascii_lowercase()))
            .unwrap_or_else(|| panic!("oas: {what}: no such operation"));
        let body = op
            .get("requestBody")
            .unwrap_or_else(|| panic!("oas: {what}: the operation has no requestBody"));
        let (in_file, body) = self.follow(body, file, &what);
        let raw = body
            .pointer("/content/application~1json/schema")
            .unwrap_or_else(|| panic!("oas: {what}: no content[\"application/json\"].schema"));
        let mut stack = Vec::new();
        let resolved = self.normalize(raw, &in_file, &mut stack);
        let mut finished = self.finish(resolved);
        // These files list every property of a create body as `required`, the nullable ones
        // included (`accountId`, `email`, `mobile`… for a contact), where Zoho's API
        // documentation names one mandatory field (`lastName`). The top-level list is dropped;
        // callers check the documented ones themselves.
        if let Some(o) = finished.as_object_mut() {
            o.remove("required");
        }
        finished
    }

    /// Validates a request body against [`Oas::request_schema`]; `Err` holds one message per
    /// violation.
    pub fn check_request(
        &self,
        file: &str,
        path: &str,
        method: &str,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let schema = self.request_schema(file, path, method);
        let validator = build_validator(&schema).unwrap_or_else(|e| {
            panic!("oas: the request schema of {file}.json {method} {path} does not compile: {e}")
        });
        violations(&validator, body)
    }

    /// Validates `body` against [`Oas::response_schema`]. `Err` holds one message per
    /// violation: instance path, the failing schema keyword path, and the error.
    pub fn check(
        &self,
        file: &str,
        path: &str,
        method: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let key = format!("{file} {} {path} {status}", method.to_ascii_lowercase());
        let cached = self
            .validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let validator = match cached {
            Some(v) => v,
            None => {
                let schema = self.response_schema(file, path, method, status);
                let v = Arc::new(build_validator(&schema).unwrap_or_else(|e| {
                    panic!(
                        "oas: the resolved schema of {file}.json {} {path} {status} does not \
                         compile: {e}",
                        method.to_uppercase()
                    )
                }));
                self.validators
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, Arc::clone(&v));
                v
            }
        };
        violations(&validator, body)
    }

    /// Zoho's documented example bodies for this response (`content["application/json"]`'s
    /// `example` and every `examples.*.value`), as (name, body). Informative only: Zoho's
    /// examples deviate from its schemas in places.
    pub fn response_examples(
        &self,
        file: &str,
        path: &str,
        method: &str,
        status: u16,
    ) -> Vec<(String, Value)> {
        let (_, response) = self.response_object(file, path, method, status);
        let mut out = Vec::new();
        if let Some(media) = response.pointer("/content/application~1json") {
            if let Some(ex) = media.get("example") {
                out.push(("example".to_string(), ex.clone()));
            }
            if let Some(Value::Object(examples)) = media.get("examples") {
                for (name, ex) in examples {
                    if let Some(v) = ex.get("value") {
                        out.push((name.clone(), v.clone()));
                    }
                }
            }
        }
        out
    }

    /// The response object (after following its `$ref`) and the file it lives in.
    fn response_object(
        &self,
        file: &str,
        path: &str,
        method: &str,
        status: u16,
    ) -> (String, &Value) {
        let what = format!("{file}.json {} {path} {status}", method.to_uppercase());
        let doc = self.docs.get(file).unwrap_or_else(|| {
            panic!(
                "oas: no file {file:?} (loaded from {}: {:?})",
                self.dir.display(),
                self.docs.keys().collect::<Vec<_>>()
            )
        });
        let paths = doc.get("paths").and_then(Value::as_object);
        let item = paths.and_then(|p| p.get(path)).unwrap_or_else(|| {
            let known: Vec<&String> = paths.map(|p| p.keys().collect()).unwrap_or_default();
            panic!("oas: {what}: no such path in {file}.json; it has {known:?}")
        });
        let op = item.get(method.to_ascii_lowercase()).unwrap_or_else(|| {
            let known: Vec<&String> = item
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            panic!("oas: {what}: no such method; the path has {known:?}")
        });
        let responses = op.get("responses").and_then(Value::as_object);
        let response = responses
            .and_then(|r| r.get(&status.to_string()))
            .unwrap_or_else(|| {
                let known: Vec<&String> = responses.map(|r| r.keys().collect()).unwrap_or_default();
                panic!("oas: {what}: no such status; the operation documents {known:?}")
            });
        self.follow(response, file, &what)
    }

    /// Follows `$ref`s from `v` (in `file`) to the object they name, and the file it is in.
    fn follow<'a>(&'a self, mut v: &'a Value, file: &str, what: &str) -> (String, &'a Value) {
        let mut in_file = file.to_string();
        let mut hops = 0;
        while let Some(reference) = v.get("$ref").and_then(Value::as_str) {
            hops += 1;
            match self.lookup(reference, &in_file) {
                Some((f, target)) if hops < MAX_REF_DEPTH => {
                    in_file = f;
                    v = target;
                }
                _ => panic!("oas: {what}: {reference:?} is not in the loaded files"),
            }
        }
        (in_file, v)
    }

    /// Resolves `reference` as seen from `from_file`: `#/...` or `./X.json#/...` where X is
    /// one of the loaded files. `None` for anything else (files the mirror lacks).
    fn lookup(&self, reference: &str, from_file: &str) -> Option<(String, &Value)> {
        let (file_part, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target_file = if file_part.is_empty() {
            from_file.to_string()
        } else {
            let name = file_part.trim_start_matches("./");
            name.strip_suffix(".json")?.to_string()
        };
        let doc = self.docs.get(&target_file)?;
        let target = if pointer.is_empty() {
            doc
        } else {
            doc.pointer(pointer)?
        };
        Some((target_file, target))
    }

    /// Inlines `$ref`s, merges `allOf`, keeps only assertion keywords.
    fn normalize(&self, schema: &Value, file: &str, stack: &mut Vec<String>) -> Value {
        let obj = match schema {
            Value::Object(o) => o,
            Value::Bool(_) => return schema.clone(),
            _ => return json!({}),
        };

        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let resolved = match self.lookup(reference, file) {
                None => json!({ UNRESOLVED: reference }),
                Some((target_file, target)) => {
                    let key = format!(
                        "{target_file}#{}",
                        reference.split_once('#').map_or("", |x| x.1)
                    );
                    if stack.contains(&key) || stack.len() >= MAX_REF_DEPTH {
                        // Cycle or runaway chain: accept anything here.
                        json!({})
                    } else {
                        stack.push(key);
                        let r = self.normalize(target, &target_file, stack);
                        stack.pop();
                        r
                    }
                }
            };
            let mut rest = obj.clone();
            rest.remove("$ref");
            let rest = self.normalize(&Value::Object(rest), file, stack);
            if rest.as_object().is_some_and(Map::is_empty) {
                return resolved;
            }
            return merge_all(vec![resolved, rest]);
        }

        let mut out = Map::new();
        let mut alternatives = Vec::new();
        for (key, value) in obj {
            let k = key.as_str();
            if SCHEMA_MAPS.contains(&k) {
                if let Value::Object(m) = value {
                    let mut nm = Map::new();
                    for (name, sub) in m {
                        let mut s = self.normalize(sub, file, stack);
                        if k == "properties" && name == "edition" {
                            widen_edition_enum(&mut s);
                        }
                        nm.insert(name.clone(), s);
                    }
                    out.insert(key.clone(), Value::Object(nm));
                }
            } else if SCHEMA_SINGLE.contains(&k) {
                if value.is_object() || value.is_boolean() {
                    out.insert(key.clone(), self.normalize(value, file, stack));
                } else if let (Value::Array(list), "items") = (value, k) {
                    // Old tuple form; 2020-12 spells it prefixItems.
                    let l = list
                        .iter()
                        .map(|s| self.normalize(s, file, stack))
                        .collect();
                    out.insert("prefixItems".into(), Value::Array(l));
                }
            } else if k == "anyOf" || k == "oneOf" {
                // Merged below. `oneOf` is checked as `anyOf`: Zoho's alternatives overlap (a
                // record with and without `cf`, ...), so exclusivity would reject good bodies.
                if let Value::Array(list) = value {
                    let l: Vec<Value> = list
                        .iter()
                        .map(|s| self.normalize(s, file, stack))
                        .collect();
                    alternatives.push(json!({ "anyOf": l }));
                }
            } else if SCHEMA_LISTS.contains(&k) {
                if let Value::Array(list) = value {
                    let l = list
                        .iter()
                        .map(|s| self.normalize(s, file, stack))
                        .collect();
                    out.insert(key.clone(), Value::Array(l));
                }
            } else if k == "required" || k == "type" {
                // Zoho repeats names (`"isOverDue"` twice); the meta-schema wants them unique.
                let mut v = value.clone();
                if let Value::Array(list) = &mut v {
                    let mut seen = Vec::new();
                    list.retain(|x| {
                        let new = !seen.contains(x);
                        seen.push(x.clone());
                        new
                    });
                }
                out.insert(key.clone(), v);
            } else if ASSERTIONS.contains(&k) {
                out.insert(key.clone(), value.clone());
            }
            // allOf handled below; anything else dropped.
        }

        let branches = match obj.get("allOf") {
            Some(Value::Array(branches)) => branches.as_slice(),
            _ => &[],
        };
        if branches.is_empty() && alternatives.is_empty() {
            return Value::Object(out);
        }
        let mut all = vec![Value::Object(out)];
        all.extend(branches.iter().map(|b| self.normalize(b, file, stack)));
        all.extend(alternatives);
        merge_all(all)
    }

    /// Final pass: fix patterns, drop the unresolved markers.
    fn finish(&self, schema: Value) -> Value {
        let mut obj = match schema {
            Value::Object(o) => o,
            other => return other,
        };
        obj.remove(UNRESOLVED);
        obj.remove(OPEN);
        if let Some(Value::String(p)) = obj.remove("pattern") {
            if let Some(fixed) = self.fix_pattern(&p) {
                obj.insert("pattern".into(), Value::String(fixed));
            }
        }
        for k in SCHEMA_MAPS {
            if let Some(Value::Object(m)) = obj.remove(k) {
                let mut nm = Map::new();
                for (name, sub) in m {
                    let name = if k == "patternProperties" {
                        // A property-name pattern we cannot compile matches every name.
                        self.fix_pattern(&name).unwrap_or_default()
                    } else {
                        name
                    };
                    nm.insert(name, self.finish(sub));
                }
                obj.insert(k.to_string(), Value::Object(nm));
            }
        }
        for k in SCHEMA_SINGLE {
            if let Some(v) = obj.remove(k) {
                obj.insert(k.to_string(), self.finish(v));
            }
        }
        for k in SCHEMA_LISTS.iter().copied().chain(["allOf"]) {
            if let Some(Value::Array(list)) = obj.remove(k) {
                let l = list.into_iter().map(|s| self.finish(s)).collect();
                obj.insert(k.to_string(), Value::Array(l));
            }
        }
        Value::Object(obj)
    }

    /// `pattern` in a form the `jsonschema` crate (ECMA-262 dialect, fancy-regex engine)
    /// compiles, or `None` when even the translation does not compile (then it is dropped).
    fn fix_pattern(&self, pattern: &str) -> Option<String> {
        let translated = translate_java_regex(pattern);
        if self.pattern_compiles(&translated) {
            Some(translated)
        } else if self.pattern_compiles(pattern) {
            Some(pattern.to_string())
        } else {
            None
        }
    }

    fn pattern_compiles(&self, pattern: &str) -> bool {
        let mut cache = self.pattern_cache.lock().unwrap_or_else(|e| e.into_inner());
        *cache
            .entry(pattern.to_string())
            .or_insert_with(|| build_validator(&json!({ "pattern": pattern })).is_ok())
    }
}

/// The validator: draft 2020-12, formats never asserted, default (fancy-regex) engine.
/// Every violation of `validator` by `body`, one message each (`Ok` when there is none).
fn violations(validator: &jsonschema::Validator, body: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    for e in validator.iter_errors(body) {
        describe(&e, "", &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn build_validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Java regex -> ECMA-262 for what Zoho uses:
/// - `&amp;` is an HTML-escaping accident for `&`;
/// - `\P{InBasicLatin}` ("not ASCII"): inside a class `\u0080-\uFFFF`, outside
///   `[^\u0000-\u007F]`;
/// - `\p{InBasicLatin}`: `\u0000-\u007F` (in a class) / `[\u0000-\u007F]`.
fn translate_java_regex(pattern: &str) -> String {
    let src = pattern.replace("&amp;", "&");
    let mut out = String::with_capacity(src.len());
    let mut in_class = false;
    let mut rest = src.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            if let Some(tail) = rest.strip_prefix("\\P{InBasicLatin}") {
                out.push_str(if in_class {
                    "\\u0080-\\uFFFF"
                } else {
                    "[^\\u0000-\\u007F]"
                });
                rest = tail;
                continue;
            }
            if let Some(tail) = rest.strip_prefix("\\p{InBasicLatin}") {
                out.push_str(if in_class {
                    "\\u0000-\\u007F"
                } else {
                    "[\\u0000-\\u007F]"
                });
                rest = tail;
                continue;
            }
            // Copy the escape and the escaped character verbatim.
            let mut it = rest.char_indices();
            it.next();
            let end = it.next().map_or(rest.len(), |(i, ch)| i + ch.len_utf8());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if c == '[' && !in_class {
            in_class = true;
        } else if c == ']' && in_class {
            in_class = false;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Zoho's docs list a Standard (and Express) edition that Organization.json's `edition` enum
/// lacks; a real org can report them, so accept them.
fn widen_edition_enum(schema: &mut Value) {
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        for extra in ["STANDARD", "EXPRESS"] {
            if !values.iter().any(|v| v == extra) {
                values.push(Value::String(extra.to_string()));
            }
        }
    }
}

/// Merges the branches of an `allOf` (already normalized, without `allOf` or `oneOf` of their
/// own) into one schema. `anyOf` alternatives are distributed: `allOf[A, anyOf[B1, B2]]`
/// becomes `anyOf[A+B1, A+B2]`, so that the properties A adds (`role`, `profile`,
/// `data.items.assignee`, ...) are allowed next to each alternative's closed property list.
fn merge_all(branches: Vec<Value>) -> Value {
    let mut open = false; // a branch we could not see may contribute properties
    let mut acc = Map::new();
    for b in branches {
        match b {
            Value::Object(mut o) => {
                if o.contains_key(UNRESOLVED) {
                    // A schema we cannot see: constrains nothing we know of.
                    open = true;
                    continue;
                }
                if o.remove(OPEN).is_some() {
                    open = true;
                }
                acc = merge_two(acc, o);
            }
            Value::Bool(false) => return Value::Bool(false),
            _ => {}
        }
    }
    if open {
        acc.remove("additionalProperties");
        acc.insert(OPEN.into(), Value::Bool(true));
    }
    let Some(Value::Array(alternatives)) = acc.remove("anyOf") else {
        return Value::Object(acc);
    };
    let rest = Value::Object(acc);
    let mut merged: Vec<Value> = alternatives
        .into_iter()
        .map(|alt| merge_all(vec![rest.clone(), alt]))
        .filter(|alt| *alt != Value::Bool(false))
        .collect();
    // Alternatives that lean on files we do not have (e.g. Call's `./Task.json` table views)
    // accept almost anything; if a fully known alternative exists, check against those only.
    if merged.iter().any(|alt| !degraded(alt)) {
        merged.retain(|alt| !degraded(alt));
    }
    match merged.len() {
        0 => Value::Bool(false),
        1 => merged.remove(0),
        _ => json!({ "anyOf": merged }),
    }
}

/// Whether `schema` stands somewhere for a schema we could not load.
fn degraded(schema: &Value) -> bool {
    match schema {
        Value::Object(o) => {
            o.contains_key(UNRESOLVED) || o.contains_key(OPEN) || o.values().any(degraded)
        }
        Value::Array(a) => a.iter().any(degraded),
        _ => false,
    }
}

fn type_set(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn type_value(mut set: Vec<String>) -> Value {
    set.dedup();
    if set.len() == 1 {
        Value::String(set.remove(0))
    } else {
        Value::Array(set.into_iter().map(Value::String).collect())
    }
}

/// `a` AND `b` as one schema (object parts merged, other conflicts kept via a residual
/// `allOf`).
fn merge_two(mut a: Map<String, Value>, b: Map<String, Value>) -> Map<String, Value> {
    let a_has_props = a
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()));
    let b_has_props = b
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()));
    if a_has_props && b_has_props {
        // min/maxProperties count one branch's own fields; with the union they no longer fit.
        a.remove("minProperties");
        a.remove("maxProperties");
    }
    let mut residual: Vec<Value> = Vec::new();
    for (key, bv) in b {
        if a_has_props && b_has_props && (key == "minProperties" || key == "maxProperties") {
            continue;
        }
        let Some(av) = a.remove(&key) else {
            a.insert(key, bv);
            continue;
        };
        let merged = match key.as_str() {
            "type" => {
                let at = type_set(&av);
                let bt = type_set(&bv);
                let both: Vec<String> = at.iter().filter(|t| bt.contains(t)).cloned().collect();
                if both.is_empty() {
                    // Contradictory branches: let through what either allows.
                    let mut union = at.clone();
                    union.extend(bt.into_iter().filter(|t| !at.contains(t)));
                    type_value(union)
                } else {
                    type_value(both)
                }
            }
            "properties" | "patternProperties" | "dependentSchemas" => {
                let (Value::Object(mut am), Value::Object(bm)) = (av.clone(), bv.clone()) else {
                    residual.push(json!({ key.clone(): bv }));
                    a.insert(key, av);
                    continue;
                };
                for (name, bs) in bm {
                    let merged = match am.remove(&name) {
                        None => bs,
                        Some(as_) if as_ == bs => as_,
                        Some(as_) => merge_all(vec![as_, bs]),
                    };
                    am.insert(name, merged);
                }
                Value::Object(am)
            }
            "required" => {
                let mut names: Vec<Value> = av.as_array().cloned().unwrap_or_default();
                for n in bv.as_array().cloned().unwrap_or_default() {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
                names.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                Value::Array(names)
            }
            "additionalProperties" => {
                if av == Value::Bool(false) || bv == Value::Bool(false) {
                    Value::Bool(false)
                } else if av == Value::Bool(true) {
                    bv
                } else if bv == Value::Bool(true) || av == bv {
                    av
                } else {
                    merge_all(vec![av, bv])
                }
            }
            "enum" => {
                let bl = bv.as_array().cloned().unwrap_or_default();
                let both: Vec<Value> = av
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|x| bl.contains(x))
                    .collect();
                Value::Array(both)
            }
            "minLength" | "minItems" | "minProperties" | "minimum" => {
                if bv.as_f64() > av.as_f64() {
                    bv
                } else {
                    av
                }
            }
            "maxLength" | "maxItems" | "maxProperties" | "maximum" => {
                if bv.as_f64() < av.as_f64() {
                    bv
                } else {
                    av
                }
            }
            "items" | "contains" | "propertyNames" | "unevaluatedProperties" => {
                if av == bv {
                    av
                } else {
                    merge_all(vec![av, bv])
                }
            }
            "anyOf" => {
                let bl = bv.as_array().cloned().unwrap_or_default();
                let mut product = Vec::new();
                for x in av.as_array().cloned().unwrap_or_default() {
                    for y in &bl {
                        product.push(merge_all(vec![x.clone(), y.clone()]));
                    }
                }
                Value::Array(product)
            }
            "allOf" => {
                let mut l = av.as_array().cloned().unwrap_or_default();
                l.extend(bv.as_array().cloned().unwrap_or_default());
                Value::Array(l)
            }
            _ => {
                if av != bv {
                    residual.push(json!({ key.clone(): bv }));
                }
                av
            }
        };
        a.insert(key, merged);
    }
    if !residual.is_empty() {
        let mut l = a
            .remove("allOf")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        l.extend(residual);
        a.insert("allOf".into(), Value::Array(l));
    }
    a
}

/// Longest error text kept per violation (messages quote the failing instance).
const MAX_MESSAGE: usize = 300;

/// One line per violation; `anyOf`/`oneOf` failures are followed by each branch's violations.
fn describe(e: &jsonschema::ValidationError<'_>, indent: &str, out: &mut Vec<String>) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let at = e.instance_path().to_string();
    let at = if at.is_empty() { "/".to_string() } else { at };
    let branches = match e.kind() {
        Kind::AnyOf { context } => Some(("anyOf", context)),
        Kind::OneOfNotValid { context } => Some(("oneOf", context)),
        _ => None,
    };
    match branches {
        Some((keyword, context)) if !context.is_empty() => {
            out.push(format!(
                "{indent}at {at} (schema {}): matches none of the {} {keyword} branches:",
                e.schema_path(),
                context.len()
            ));
            for (i, branch) in context.iter().enumerate() {
                let deeper = format!("{indent}    [{keyword} branch {i}] ");
                for sub in branch {
                    describe(sub, &deeper, out);
                }
            }
        }
        _ => {
            let mut msg = e.to_string();
            if msg.chars().count() > MAX_MESSAGE {
                msg = msg.chars().take(MAX_MESSAGE).collect::<String>() + "…";
            }
            out.push(format!(
                "{indent}at {at} (schema {}): {msg}",
                e.schema_path()
            ));
        }
    }
}

/// Panics, listing every violation and the body, if `body` does not match the documented
/// response of `method path` (`status`) in `file`.
#[allow(dead_code)]
pub fn assert_matches(oas: &Oas, file: &str, path: &str, method: &str, status: u16, body: &Value) {
    if let Err(errors) = oas.check(file, path, method, status, body) {
        panic!(
            "response does not match Zoho's {file}.json {} {path} {status} ({} violation(s)):\n  - {}\nbody:\n{}",
            method.to_uppercase(),
            errors.len(),
            errors.join("\n  - "),
            serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
        );
    }
}
