# The two commands of docs/interfaces.md: `make run` and `make test`.
# Each installs what it needs first (idempotent; fast when everything is already there).
#
# One build, the release site, is what `make run` serves and what `make test` tests in the
# browser: a change that breaks it fails `make test`. It is built by cargo, wasm-bindgen and
# wasm-opt directly (frontend/build-site.sh); cargo-leptos is not needed (it remains usable
# for `cargo leptos watch` while developing).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_BINDGEN_VERSION := 0.2.130
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
# npm's binaryen (wasm-opt) must win over any Debian one (Debian's 108 miscompiles the WASM).
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(CARGO_BIN):$(PATH)

.PHONY: run test tools test-tools build server site rust-test e2e lint fmt \
	bench bench-sandbox bench-intake bench-pop bench-calls bench-site clean

## What building needs: the wasm target, wasm-bindgen-cli, the npm packages (wasm-opt).
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@command -v node >/dev/null || { echo "make: Node.js (node, npm) is needed: apt-get install nodejs npm" >&2; exit 2; }
	@if [ ! -d end2end/node_modules/binaryen ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
		(cd end2end && npm ci --no-audit --no-fund); fi

## What the browser tests need besides: Debian's Chromium.
test-tools: tools
	@test -x /usr/bin/chromium || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## The release build: the server binary and the site (optimised WASM, JS, CSS) in target/.
# Every build uses Leptos's type-erased views (frontend/build-site.sh reads this too): the WASM
# is a third smaller (3.59 MB → 2.49 MB, 865 KB → 548 KB brotli) and everything compiles faster.
# Server and WASM are built alike, so that what the server renders is what the browser hydrates.
export LEPTOS_RUSTFLAGS := --cfg erase_components
build: server site

server:
	RUSTFLAGS='$(LEPTOS_RUSTFLAGS)' cargo build --locked --release -p server

site: tools
	bash frontend/build-site.sh

## Serve the app at http://127.0.0.1:3000 with the Zoho Desk sandbox and demo data.
run: build
	@mkdir -p data
	HELPDESK_SANDBOX=$${HELPDESK_SANDBOX:-1} ./target/release/server

## Every test: the release build, Rust unit and integration tests, the Playwright journeys.
test: build rust-test e2e

# Debug build (with the same type-erased views): the tests check behaviour, not the release
# flavour (the release build above and the browser tests do that).
#
# The black-box tests run twice: on SQLite (the default), then on PostgreSQL when one answers
# at TEST_POSTGRES (each test gets its own database there). Outside CI a machine without
# PostgreSQL skips the second run and says so; on CI it is required.
TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432
rust-test:
	RUSTFLAGS='$(LEPTOS_RUSTFLAGS)' cargo test --locked -p server -p app
	@if [ -n "$${CI:-}" ] || pg_isready -q -d '$(TEST_POSTGRES)/postgres' 2>/dev/null; then \
		echo "== the black-box tests again, on PostgreSQL ($(TEST_POSTGRES))"; \
		HELPDESK_TEST_POSTGRES='$(TEST_POSTGRES)' RUSTFLAGS='$(LEPTOS_RUSTFLAGS)' \
			cargo test --locked -p server --test it; \
	else echo "== PostgreSQL run skipped: nothing answers at $(TEST_POSTGRES) (set TEST_POSTGRES)"; fi

e2e: build test-tools
	cd end2end && CI=$${CI:-} npx playwright test

lint:
	cargo fmt --all -- --check
	RUSTFLAGS='$(LEPTOS_RUSTFLAGS)' cargo clippy --locked --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Requests per second of the standalone sandbox (wrk from Debian's packages).
bench-sandbox: build
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	bash docs/bench-sandbox.sh

## Call events per second through the intake (release build, SQLite).
bench-intake: build
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	bash docs/bench-intake.sh

## Complete calls per second end to end: the app and the Zoho Desk sandbox in their own
## processes, every rule on; says whether anything was lost or done twice (CALLS=3000).
## MIX=reference: Zoho searches per call on 70 % repeat, 20 % new known, 10 % unknown callers.
## RATE=150 [DURATION=60]: calls offered at that pace instead of all at once; says whether it held.
bench-calls: build
	bash docs/bench-calls.sh

## Server-rendering time to first byte, memory idle and after load, page weight.
bench-site: build
	bash docs/bench-site.sh

## Every figure of docs/benchmarks.md in one run (about six minutes; CALLS=3000).
bench: build test-tools
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	bash docs/bench.sh

## The screen pop's latency: a ringing event of a cached caller to the agent's new tab (Chromium).
bench-pop: build test-tools
	cd end2end && npx playwright test --config bench/pop.config.ts

clean:
	cargo clean
