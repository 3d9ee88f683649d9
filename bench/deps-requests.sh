#!/usr/bin/env bash
# Registry requests of `ciguard deps` on a Cargo.lock of 400 packages (380 distinct crates)
# against a fake registry on 127.0.0.1, cold cache then warm. Target: 380 cold, 0 warm.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p ciguard-deps --test bench_requests -- --ignored --nocapture 2>&1 \
  | grep -E "^(Cargo.lock|cold cache|warm cache)|test result|panicked"
