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

run_doctest "native doctest" build/native/wasmerge_tests
run_doctest "wasm doctest (node)" node --no-experimental-fetch build/wasm/wasmerge_tests.js
run_node_suite "cli" node tests/cli/run.js
run_node_suite "browser" node tests/browser/run.js

rm -rf "$log_dir"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
