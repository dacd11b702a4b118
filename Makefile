# The two commands of shared/spec/interfaces.md: `make run` and `make test`.
# Each installs what it needs first (idempotent; fast when everything is already there).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos must find our tools on PATH: it downloads only when one is missing (and
# downloads fail on these machines). npm's binaryen (wasm-opt) must win over any Debian one.

.PHONY: run test tools build build-release e2e rust-test lint fmt bench-sandbox bench-intake bench-pop clean

## Install what is missing: the wasm target, cargo-leptos, wasm-bindgen-cli, Chromium, npm packages.
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" || cargo install --locked cargo-leptos@$(CARGO_LEPTOS_VERSION)
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@test -x /usr/bin/chromium || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
		(cd end2end && npm ci --no-audit --no-fund); fi

## Debug build of the whole site (server binary + WASM + CSS) into target/.
build: tools
	cargo leptos build

build-release: tools
	cargo leptos build --release

## Serve the app at http://127.0.0.1:3000 with the Zoho Desk sandbox and demo data.
run: build-release
	@mkdir -p data
	HELPDESK_SANDBOX=$${HELPDESK_SANDBOX:-1} LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=helpdesk \
		./target/release/server

## Every test: Rust unit and integration tests, then the Playwright journeys in Chromium.
test: build rust-test e2e

# The same RUSTFLAGS and output name as `cargo leptos build` (debug), so the tests reuse its
# compiled dependencies instead of building everything a second time.
rust-test: tools
	RUSTFLAGS='--cfg erase_components' LEPTOS_OUTPUT_NAME=helpdesk cargo test -p server -p app

e2e: build
	cd end2end && CI=$${CI:-} npx playwright test

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Requests per second of the standalone sandbox (wrk from Debian's packages).
bench-sandbox: build-release
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	bash docs/bench-sandbox.sh

## Call events per second through the intake (release build, SQLite).
bench-intake: build-release
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	bash docs/bench-intake.sh

## The screen pop's latency: a ringing event of a cached caller to the agent's new tab (Chromium).
bench-pop: build-release
	cd end2end && npx playwright test --config bench/pop.config.ts

clean:
	cargo clean
