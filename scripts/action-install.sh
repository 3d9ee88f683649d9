#!/usr/bin/env bash
# The install step of action.yml: builds ciguard from the action's own source, the commit the
# workflow pinned with `uses: ciguard/ciguard@<sha>`. No release binary is downloaded, so there
# is nothing that could change under the pin: the source is the pinned commit, and
# `cargo install --locked` takes every dependency at the version and checksum in Cargo.lock.
# Then checks that the built binary is the version this source declares.
set -euo pipefail
src="${GITHUB_ACTION_PATH:?set by GitHub to the action checkout}"
root="${RUNNER_TEMP:?set by GitHub}/ciguard"
want="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$src/Cargo.toml" | head -n 1)"
if ! command -v cargo >/dev/null; then
  echo "::error::ciguard builds from source and needs Rust ${want:+for ciguard $want} (1.95 or newer): add a Rust toolchain before this step" >&2
  exit 1
fi
echo "building ciguard $want from $src (a few minutes on a fresh runner)" >&2
cargo install --locked --quiet --path "$src/crates/ciguard" --root "$root"
got="$("$root/bin/ciguard" --version)"
if [ "$got" != "ciguard $want" ]; then
  echo "::error::built '$got', expected 'ciguard $want'" >&2
  exit 1
fi
echo "$root/bin" >> "${GITHUB_PATH:?set by GitHub}"
echo "installed $got" >&2
