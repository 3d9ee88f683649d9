#!/usr/bin/env bash
# `ciguard deps` against a fake npm registry answering after 30 ms: a package-lock.json of 3,200
# packages (3,000 distinct), cold cache, warm cache, and warm past the revalidation window.
# Prints requests, connections, bytes and wall time of each run.
# Targets: 3,000 requests over at most 8 connections cold; 0 warm; 3,000 conditional (304) when
# revalidating.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --release -p ciguard-deps --test bench_requests -- --ignored --nocapture 2>&1 \
  | grep -E "^(package-lock.json|cold cache|warm)|test result|panicked"
