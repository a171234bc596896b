#!/usr/bin/env bash
# compare_builds.sh [REF]: the same merges from the engine at git REF and from this tree.
# Builds REF (default: f72133e, the last commit before the engine was re-seated) in a
# throwaway git worktree under build/compare/ (kept: a second run reuses that build), builds
# this tree, then scripts/compare_builds.js merges a fixed set of generated models and
# configs with REF's own scripts/wasmerge and with this tree's, wasm and --native, and
# compares every output file byte for byte. One line per config, then "N same, N differ";
# exit 1 on any difference. COMPARE_CACHE overrides build/compare; KEEP=1 keeps the outputs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ref="${1:-f72133e}"
sha="$(git rev-parse --verify --quiet "$ref^{commit}")" || { echo "compare_builds: unknown git ref '$ref'" >&2; exit 2; }
cache="${COMPARE_CACHE:-$root/build/compare}"
old="$cache/$sha"

if [ ! -x "$old/build/native/wasmerge-native" ] || [ ! -f "$old/build/wasm/wasmerge.js" ]; then
  scripts/setup.sh
  log="$cache/$sha.log"
  mkdir -p "$cache"
  echo "compare_builds: building $ref (${sha:0:12}) in $old (log: $log)" >&2
  git worktree remove --force "$old" 2>/dev/null || rm -rf "$old"
  git worktree prune
  git worktree add --detach "$old" "$sha" >"$log" 2>&1
  # REF's web/job.js needs js-yaml; the worktree has no node_modules of its own.
  ln -sfn "$root/node_modules" "$old/node_modules"
  (
    cd "$old"
    jobs=$(nproc)
    # Only the two engines scripts/wasmerge runs (REF's build.sh would build its tests too).
    cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release
    cmake --build build/native -j"$jobs" --target wasmerge-native
    export NODE_PATH=/usr/share/nodejs
    emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release
    cmake --build build/wasm -j"$jobs" --target wasmerge
  ) >>"$log" 2>&1 || { echo "compare_builds: building $ref failed; see $log" >&2; exit 2; }
fi

scripts/build.sh >/dev/null || { echo "compare_builds: building this tree failed" >&2; exit 2; }
exec node --no-experimental-fetch scripts/compare_builds.js "$old" "$root" "$ref"
