#!/usr/bin/env bash
# Requests `ciguard pin` makes for workflows using 50 distinct actions, cold and warm cache,
# against the fake GitHub server (no network). Prints the counts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -p ciguard --test pin_bench -- --ignored --nocapture 2>&1 | grep -E "^(pin|audit|audit with transitive): |test result"
