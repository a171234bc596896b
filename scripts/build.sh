#!/usr/bin/env bash
# Builds both ways: native (build/native) and WebAssembly (build/wasm), then places the
# wasm engine where the page loads it (web/engine/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j"$jobs"

# Debian's node lives elsewhere than the node on PATH: emcc finds acorn through NODE_PATH.
export NODE_PATH=/usr/share/nodejs
[ -f build/wasm/CMakeCache.txt ] || emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/wasm -j"$jobs"

mkdir -p web/engine
cp build/wasm/wasmerge.js build/wasm/wasmerge.wasm build/wasm/wasmerge.worker.js web/engine/

# The page's browser-side libraries, served from our own origin (web/vendor/ is not committed).
mkdir -p web/vendor
cp node_modules/js-yaml/dist/js-yaml.min.js web/vendor/
# The tokenizer for upcycling's prompts (web/shared/prompt_tokens.js): its self-contained ES module build.
cp node_modules/@huggingface/tokenizers/dist/tokenizers.min.mjs web/vendor/
