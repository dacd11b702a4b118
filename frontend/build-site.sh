#!/usr/bin/env bash
# Builds the browser half of the site into target/site: what `cargo leptos build --release`
# does, without cargo-leptos (whose own compilation took 27 minutes on a fresh machine).
#
#   1. the WASM of `frontend` and of `frontend/islands` (profile wasm-release: opt-level z,
#      LTO, one codegen unit, Leptos's type-erased views);
#   2. wasm-bindgen --target web (the JS glue), then wasm-opt -Oz;
#   3. the stylesheet, as is;
#   4. one content hash over the five files, in their names: pkg/helpdesk-<hash>.js,
#      pkg/helpdesk-<hash>_bg.wasm, pkg/helpdesk-<hash>.css, pkg/helpdesk-<hash>-islands.js and
#      …-islands_bg.wasm, and pkg/site.json naming them
#      (the server reads it at start and serves those names with a one-year cache);
#   5. a brotli (.br) and a gzip (.gz) copy of every text and WASM file, which the server sends
#      to browsers that accept them;
#   6. public/ copied beside pkg/.
# The new site replaces the old one only once it is complete.
#
# Needs: the wasm32-unknown-unknown target, wasm-bindgen (= the wasm-bindgen crate's version),
# wasm-opt (npm's binaryen, see the Makefile), node (for brotli), gzip.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
site=$target/site
stage=$target/site.new
name=helpdesk

# Type-erased views, as the server is built (the Makefile's LEPTOS_RUSTFLAGS; the same
# default when this script runs alone).
# Two bundles from one build: the admin's app (`frontend`) and the islands bundle
# (`frontend/islands`, the pages of `app::is_island_page`).
RUSTFLAGS=${LEPTOS_RUSTFLAGS---cfg erase_components} \
    cargo build --locked -p frontend -p islands --lib --target wasm32-unknown-unknown \
    --profile wasm-release

rm -rf "$stage"
mkdir -p "$stage/pkg"
for bundle in frontend:$name islands:$name-islands; do
    crate=${bundle%%:*} out_name=${bundle#*:}
    # The snippets of both bundles are the same crates' (app, leptos): kept once.
    wasm-bindgen --target web --no-typescript --out-dir "$stage/bindgen" --out-name "$out_name" \
        "$target/wasm32-unknown-unknown/wasm-release/$crate.wasm"
    # The features are those rustc's wasm32 target emits (bulk memory, non-trapping
    # float-to-int, sign extension, mutable globals, reference types, multi-value); wasm-opt
    # must not drop them.
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$stage/bindgen/${out_name}_bg.wasm" -o "$stage/bindgen/${out_name}_bg.wasm"
done
cp style/main.css "$stage/bindgen/$name.css"

hash=$(cat "$stage/bindgen/$name.js" "$stage/bindgen/${name}_bg.wasm" "$stage/bindgen/$name.css" \
    "$stage/bindgen/$name-islands.js" "$stage/bindgen/$name-islands_bg.wasm" |
    sha256sum | cut -c1-16)
out=$name-$hash
mv "$stage/bindgen/$name.js" "$stage/pkg/$out.js"
mv "$stage/bindgen/${name}_bg.wasm" "$stage/pkg/${out}_bg.wasm"
mv "$stage/bindgen/$name.css" "$stage/pkg/$out.css"
mv "$stage/bindgen/$name-islands.js" "$stage/pkg/$out-islands.js"
mv "$stage/bindgen/$name-islands_bg.wasm" "$stage/pkg/$out-islands_bg.wasm"
# Inline JS of crates (`#[wasm_bindgen(inline_js)]`), imported relative to the glue.
if [ -d "$stage/bindgen/snippets" ]; then mv "$stage/bindgen/snippets" "$stage/pkg/snippets"; fi
rm -rf "$stage/bindgen"
printf '{"output_name":"%s"}\n' "$out" >"$stage/pkg/site.json"

cp -R public/. "$stage/"

# Precompressed copies, kept only where they are smaller.
find "$stage" -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' -o -name '*.svg' \
    -o -name '*.json' -o -name '*.html' \) -print0 | xargs -0 node -e '
const fs = require("fs"), zlib = require("zlib");
for (const f of process.argv.slice(1)) {
  const raw = fs.readFileSync(f);
  const br = zlib.brotliCompressSync(raw, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
  const gz = zlib.gzipSync(raw, { level: 9 });
  if (br.length < raw.length) fs.writeFileSync(f + ".br", br);
  if (gz.length < raw.length) fs.writeFileSync(f + ".gz", gz);
}'

rm -rf "$site.old"
if [ -d "$site" ]; then mv "$site" "$site.old"; fi
mv "$stage" "$site"
rm -rf "$site.old"

wasm=$(stat -c %s "$site/pkg/${out}_bg.wasm")
wasm_br=$(stat -c %s "$site/pkg/${out}_bg.wasm.br")
js=$(stat -c %s "$site/pkg/$out.js")
echo "site: $site/pkg/$out (wasm ${wasm} B, ${wasm_br} B brotli; js ${js} B)"
iwasm=$(stat -c %s "$site/pkg/$out-islands_bg.wasm")
iwasm_br=$(stat -c %s "$site/pkg/$out-islands_bg.wasm.br")
echo "islands: $site/pkg/$out-islands (wasm ${iwasm} B, ${iwasm_br} B brotli)"
