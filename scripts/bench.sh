#!/usr/bin/env bash
# Speed and memory of the engine on a generated ~100M-parameter bf16 model set:
# wasm CLI, native CLI and the I/O floor per method, their ratios, Mparam/s, peak RSS.
# BENCH_RUNS (default 2), BENCH_MEMORY_MB (default 1024), BENCH_DIR (default build/bench).
# BENCH_BIG=1 instead merges one 3 GB tensor per model within a 256 MB budget (9 GB of disk).
# BENCH_MERGE=1: only the merge table (with the engines' start-up time and the ratios net of it).
# Then upcycles a 0.5B-shaped base into 4 experts (random and hidden routers); BENCH_MOE=1: only that.
# Then merges a rank-16 LoRA into every linear layer of that base vs a plain copy; BENCH_LORA=1: only that.
# Then evaluates a 0.5B-shaped qwen2 model on 1,024 tokens (tokens/s, wasm/native); BENCH_EVAL=1: only that.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
exec node scripts/bench.js
