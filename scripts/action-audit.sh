#!/usr/bin/env bash
# The audit step of action.yml. The inputs arrive as environment variables (never spliced into
# the script, so no input can inject shell): CIGUARD_INPUTS (paths, separated by white space),
# CIGUARD_FORMAT, CIGUARD_PERSONA, CIGUARD_MIN_SEVERITY, CIGUARD_UPLOAD_SARIF, CIGUARD_SARIF_FILE,
# CIGUARD_FAIL_ON_FINDINGS. Writes SARIF for the upload step when asked; the exit code goes to
# the step's `exit-code` output.
set -euo pipefail
bin="${CIGUARD_BIN:-ciguard}"
args=(audit --persona "${CIGUARD_PERSONA:-regular}")
if [ -n "${CIGUARD_MIN_SEVERITY:-}" ]; then
  args+=(--min-severity "$CIGUARD_MIN_SEVERITY")
fi
set -f # paths are not globbed
paths=()
for path in ${CIGUARD_INPUTS:-.}; do
  paths+=("$path")
done
set +f

status=0
"$bin" "${args[@]}" --format "${CIGUARD_FORMAT:-plain}" -- "${paths[@]}" || status=$?

if [ "${CIGUARD_UPLOAD_SARIF:-false}" = true ]; then
  sarif="${CIGUARD_SARIF_FILE:-ciguard.sarif}"
  sarif_status=0
  "$bin" "${args[@]}" --format sarif -- "${paths[@]}" >"$sarif" || sarif_status=$?
  # 1 (ciguard failed) and 2 (usage error) leave no usable SARIF.
  if [ "$sarif_status" -eq 1 ] || [ "$sarif_status" -eq 2 ]; then
    echo "::error::ciguard could not write $sarif (exit code $sarif_status)" >&2
    exit "$sarif_status"
  fi
  echo "SARIF written to $sarif" >&2
fi

echo "exit-code=$status" >>"${GITHUB_OUTPUT:-/dev/null}"
# 1, 2 and 3 mean the audit failed or is incomplete: never advisory.
if [ "$status" -ge 1 ] && [ "$status" -le 3 ]; then
  exit "$status"
fi
if [ "${CIGUARD_FAIL_ON_FINDINGS:-true}" = true ]; then
  exit "$status"
fi
exit 0
