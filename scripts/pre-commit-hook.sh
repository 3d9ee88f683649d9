#!/usr/bin/env bash
# Entry of the hooks in .pre-commit-hooks.yaml (`language: script`). pre-commit's `language:
# rust` runs `cargo install --path .`, which cannot install from this repository's virtual
# workspace root, so this script builds ciguard from pre-commit's checkout of the pinned rev
# (the first run takes a few minutes; later runs find it built) and runs it with the hook's
# arguments and the staged file names.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
if ! command -v cargo >/dev/null; then
  echo "ciguard: the pre-commit hook builds ciguard from source and needs Rust 1.95 or newer (rustup)" >&2
  exit 1
fi
# A no-op when the binary is current; --locked takes dependencies as Cargo.lock pins them.
cargo build --locked --release --quiet --manifest-path "$repo/Cargo.toml" -p ciguard >&2
exec "$target/release/ciguard" "$@"
