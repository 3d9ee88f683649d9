#!/usr/bin/env bash
# Load on `ciguard serve`'s ingress over loopback: deliveries accepted per second, ack latency
# p50/p99 (wrk, each request a fresh delivery ID over one signed body) and peak RSS per replica
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
cargo build --locked --release -p ciguard >&2
bin=$PWD/target/release/ciguard
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
printf '{"action":"synchronize","installation":{"id":1},"repository":{"id":1,"full_name":"octo/repo","default_branch":"main"},"pull_request":{"number":1,"head":{"sha":"%s","repo":{"id":1}}}}' \
  "$(printf '%040d' 1)" >"$work/body.json"
sign() { openssl dgst -sha256 -hmac "bench secret" -hex <"$1" | awk '{print "sha256=" $NF}'; }
signature=$(sign "$work/body.json")
cat >"$work/fresh-delivery.lua" <<LUA
-- Every request: the same signed body, a fresh X-GitHub-Delivery.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("prefix", #threads + 1 + 16 * tonumber(os.getenv("REPLICA") or "0") + 256 * tonumber(os.getenv("RUN") or "0"))
  table.insert(threads, thread)
end
function init(args)
  wrk.method = "POST"
  wrk.body = io.open("$work/body.json"):read("*a")
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "pull_request"
  wrk.headers["X-Hub-Signature-256"] = "$signature"
end
function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("%08x-0000-4000-8000-%012x", prefix, counter)
  return wrk.format(nil, "/webhook")
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

run_case() { # name db replicas
  local name=$1 db=$2 count=$3 run=$4
  start_replicas "$db" "$count"
  local first=$((${#pids[@]} - count))
  local idle=$(rss "${pids[$first]}" VmRSS)
  local outs=()
  for i in $(seq 0 $((count - 1))); do
    REPLICA=$i RUN=$run wrk -t2 -c"$connections" -d"$duration" --latency -s "$work/fresh-delivery.lua" \
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
  printf '%-14s %10s %-24s %-24s %6s %10s %10s %10s %s\n' "$name" "$rps" "$p50" "$p99" "$non2xx" "$idle" "$load" "$big" "$(cat "$work/big-$name.code")"
  for pid in "${pids[@]:$first}"; do kill -TERM "$pid"; wait "$pid" || true; done
  pids=("${pids[@]:0:$first}")
}

printf '%-14s %10s %-24s %-24s %6s %10s %10s %10s %s\n' case "deliv/s" "p50 (per replica)" "p99 (per replica)" non2xx "RSS idle" "RSS load" "RSS 25MiB" "25MiB"
run_case sqlite "sqlite:$work/bench.db" 1 1
read -r pg_url pg_dir < <(CIGUARD_PG_FSYNC=on CIGUARD_TEST_POSTGRES_PORT=55439 .ci/postgres)
run_case postgres-x1 "$pg_url" 1 2
run_case postgres-x3 "$pg_url" 3 3
