#!/usr/bin/env bash
# Load on `ciguard serve`'s ingress over loopback: deliveries accepted per second, ack latency
# p50/p99 (wrk, each request a fresh delivery ID over signed pull-request bodies (see MODE below)) and peak RSS per replica
# (idle, after the load, after a 25 MiB body), for SQLite, PostgreSQL x1 and PostgreSQL x3.
# Bounded: DURATION (default 10s) per case, CONNECTIONS (default 32) per replica.
# Needs wrk, curl, openssl (apt-get install wrk curl openssl) and, for PostgreSQL, what
# .ci/postgres needs. Prints one table; figures are for the machine it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
for tool in wrk curl openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install $tool" >&2; exit 1; }
done
# CIGUARD_BIN: another build to measure (say, an older commit's) instead of this checkout's.
bin=${CIGUARD_BIN:-}
if [ -z "$bin" ]; then
  cargo build --locked --release -p ciguard --features serve >&2
  bin=$PWD/target/release/ciguard
fi
work=$(mktemp -d /tmp/ciguard-serve-bench.XXXXXX)
pids=()
pg_dir=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$pg_dir" ] && .ci/postgres stop "$pg_dir"
  rm -rf "$work"
}
trap cleanup EXIT

printf 'bench secret' >"$work/secret"
sign() { openssl dgst -sha256 -hmac "bench secret" -hex <"$1" | awk '{print "sha256=" $NF}'; }
# The signed bodies a case sends, by MODE: `same` (one pull request at one head: every delivery
# coalesces into its queued job), `alternating` (one pull request, two heads in turn: every delivery
# replaces the queued job's payload) and `unique` (a new pull request each delivery: every delivery
# queues a job; 12,000 per wrk thread, then they repeat).
python3 - "$work/bodies.lua" <<'PY'
import hashlib, hmac, sys
def body(pull, head):
    text = ('{"action":"synchronize","installation":{"id":1},"repository":{"id":1,'
            '"full_name":"octo/repo","default_branch":"main"},"pull_request":{"number":%d,'
            '"head":{"sha":"%040d","repo":{"id":1}}}}' % (pull, head))
    signature = "sha256=" + hmac.new(b"bench secret", text.encode(), hashlib.sha256).hexdigest()
    return '{body=[[%s]],signature="%s"}' % (text, signature)
with open(sys.argv[1], "w") as out:
    out.write("modes = {}\n")
    out.write("modes.same = {%s}\n" % body(1, 1))
    out.write("modes.alternating = {%s,%s}\n" % (body(1, 1), body(1, 2)))
    # In chunks: a Lua function holds at most 65,536 constants.
    out.write("modes.unique = {}\n")
    pulls = range(1, 6 * 12000 + 1)
    for start in range(0, len(pulls), 5000):
        chunk = ",\n".join(body(pull, pull) for pull in pulls[start:start + 5000])
        out.write("for _, b in ipairs((function() return {\n%s} end)()) do table.insert(modes.unique, b) end\n" % chunk)
PY
cat >"$work/fresh-delivery.lua" <<LUA
-- Every request: the next signed body of MODE, a fresh X-GitHub-Delivery.
dofile("$work/bodies.lua")
local counter = 0
local threads = {}
function setup(thread)
  local replica = tonumber(os.getenv("REPLICA") or "0")
  thread:set("prefix", #threads + 1 + 16 * replica + 256 * tonumber(os.getenv("RUN") or "0"))
  thread:set("slot", 2 * replica + #threads)
  table.insert(threads, thread)
end
function init(args)
  bodies = modes[os.getenv("MODE") or "same"]
  -- In \`unique\`, each thread (2 per wrk, one wrk per replica) has its own 12,000 bodies.
  first, span = 0, #bodies
  if #bodies > 2 then first, span = slot * 12000, 12000 end
end
function request()
  counter = counter + 1
  local b = bodies[first + (counter % span) + 1]
  return wrk.format("POST", "/webhook", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "pull_request",
    ["X-Hub-Signature-256"] = b.signature,
    ["X-GitHub-Delivery"] = string.format("%08x-0000-4000-8000-%012x", prefix, counter),
  }, b.body)
end
LUA

rss() { awk -v k="$2" '$1 == k":" {print int($2 / 1024) " MiB"}' "/proc/$1/status"; }

start_replicas() { # db count -> sets ports[] and pids
  ports=()
  local db=$1 count=$2
  for i in $(seq 1 "$count"); do
    local port=$((18080 + i))
    "$bin" serve --db "$db" --listen "127.0.0.1:$port" --role ingress \
      --webhook-secret-file "$work/secret" 2>"$work/serve-$port.log" &
    pids+=($!)
    ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
      sleep 0.1
    done
  done
}

run_case() { # name db replicas run mode
  local name=$1 db=$2 count=$3 run=$4 mode=$5
  start_replicas "$db" "$count"
  local first=$((${#pids[@]} - count))
  local idle=$(rss "${pids[$first]}" VmRSS)
  local outs=()
  for i in $(seq 0 $((count - 1))); do
    MODE=$mode REPLICA=$i RUN=$run wrk -t2 -c"$connections" -d"$duration" --latency -s "$work/fresh-delivery.lua" \
      "http://127.0.0.1:${ports[$i]}" >"$work/wrk-$name-$i.txt" 2>&1 &
    outs+=($!)
  done
  wait "${outs[@]}"
  local load=$(rss "${pids[$first]}" VmHWM)
  # One 25 MiB body (a ping: signed, read whole, not parsed).
  head -c $((25 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$work/big.json"
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${ports[0]}/webhook" \
    -H "X-GitHub-Event: ping" -H "X-GitHub-Delivery: 00000000-0000-4000-8000-$(printf '%012d' "$run")" \
    -H "X-Hub-Signature-256: $(sign "$work/big.json")" --data-binary @"$work/big.json" >"$work/big-$name.code"
  local big=$(rss "${pids[$first]}" VmHWM)
  local rps=0 non2xx=0 p50= p99=
  for i in $(seq 0 $((count - 1))); do
    local f="$work/wrk-$name-$i.txt"
    rps=$(awk -v a="$rps" '/Requests\/sec/ {printf "%.0f", a + $2}' "$f")
    non2xx=$((non2xx + $(awk '/Non-2xx/ {print $NF} END {}' "$f" | tail -1 | sed 's/^$/0/') + 0))
    p50="$p50$(awk '$1 == "50%" {print $2}' "$f") "
    p99="$p99$(awk '$1 == "99%" {print $2}' "$f") "
  done
  printf '%-18s %10s %-24s %-24s %6s %10s %10s %10s %s\n' "$name" "$rps" "$p50" "$p99" "$non2xx" "$idle" "$load" "$big" "$(cat "$work/big-$name.code")"
  for pid in "${pids[@]:$first}"; do kill -TERM "$pid"; wait "$pid" || true; done
  pids=("${pids[@]:0:$first}")
}

printf '%-18s %10s %-24s %-24s %6s %10s %10s %10s %s\n' case "deliv/s" "p50 (per replica)" "p99 (per replica)" non2xx "RSS idle" "RSS load" "RSS 25MiB" "25MiB"
run=0
for mode in same alternating unique; do
  run=$((run + 1)); run_case "sqlite-$mode" "sqlite:$work/bench-$mode.db" 1 "$run" "$mode"
done
read -r pg_url pg_dir < <(CIGUARD_PG_FSYNC=on CIGUARD_TEST_POSTGRES_PORT=55439 .ci/postgres)
for replicas in 1 3; do
  for mode in same alternating unique; do
    run=$((run + 1)); run_case "pg-x$replicas-$mode" "$pg_url" "$replicas" "$run" "$mode"
  done
done
