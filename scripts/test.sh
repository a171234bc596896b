#!/usr/bin/env bash
# Installs what is missing, builds, and runs every suite: the doctest suites natively and
# compiled to wasm under node, then the CLI tests. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

total_passed=0
total_failed=0
log_dir=$(mktemp -d)

# Adds a suite's counts; a suite that reports no count (crashed) counts as one failure.
record() {  # name passed failed
  echo "== $1: $2 passed, $3 failed"
  total_passed=$((total_passed + $2))
  total_failed=$((total_failed + $3))
}

run_doctest() {  # name command...
  local name=$1; shift
  local log="$log_dir/$name.log"
  "$@" --no-colors=true >"$log" 2>&1
  local status=$?
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
  if [ -z "$line" ]; then
    tail -20 "$log"; record "$name" 0 1; return
  fi
  local passed failed
  passed=$(echo "$line" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')
  failed=$(echo "$line" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
  [ "$failed" -gt 0 ] || [ "$status" -ne 0 ] && grep -B2 -A8 'ERROR\|FATAL' "$log" | head -60
  [ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
  record "$name" "$passed" "$failed"
}

run_node_suite() {  # name command...
  local name=$1; shift
  local log="$log_dir/$name.log"
  "$@" 2>&1 | tee "$log" | grep -E '^(FAIL|     )' 
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -z "$line" ]; then
    tail -20 "$log"; record "$name" 0 1; return
  fi
  record "$name" "$(echo "$line" | cut -d' ' -f1)" "$(echo "$line" | cut -d' ' -f3)"
}

# A fuzzer run counts as one test: it passes when libFuzzer finds nothing in its time.
run_fuzzer() {  # name target seeds seconds
  local log="$log_dir/$2.log" corpus
  corpus=$(mktemp -d)  # new inputs go here, not into the committed seed corpus
  if build/fuzz/"$2" -max_total_time="$4" -rss_limit_mb=2048 -print_final_stats=1 "$corpus" "$3" >"$log" 2>&1; then
    echo "   $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') inputs in $4 s"
    record "$1" 1 0
  else
    grep -A30 -E 'ERROR|runtime error|deadly signal' "$log" | head -40; record "$1" 0 1
  fi
  rm -rf "$corpus"
}

run_doctest "native doctest" build/native/wasmerge_tests
run_doctest "wasm doctest (node)" node --no-experimental-fetch build/wasm/wasmerge_tests.js

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer).
cmake -S . -B build/asan -DWASMERGE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build/asan -j"$(nproc)" --target wasmerge_tests >/dev/null
run_doctest "native doctest (ASan+UBSan)" build/asan/wasmerge_tests

# libFuzzer (FUZZ_SECONDS each, default 20): safetensors files through the header parser,
# the plan and the engine; configs (slice maps, parameters) through the parser, the layer
# map, the dry run, the merge and the analysis. A longer run:
#   build/fuzz/fuzz_config -max_total_time=3600 CORPUS_DIR tests/fuzz/config_corpus
CXX=clang++ cmake -S . -B build/fuzz -DWASMERGE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build/fuzz -j"$(nproc)" --target fuzz_merge fuzz_config >/dev/null
run_fuzzer "fuzz files (libFuzzer, ASan+UBSan)" fuzz_merge tests/fuzz/corpus "${FUZZ_SECONDS:-20}"
run_fuzzer "fuzz configs (libFuzzer, ASan+UBSan)" fuzz_config tests/fuzz/config_corpus "${FUZZ_SECONDS:-20}"
run_node_suite "cli" node tests/cli/run.js
run_node_suite "web modules (node)" node tests/web/run.js
run_node_suite "browser" node tests/browser/run.js

rm -rf "$log_dir"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
