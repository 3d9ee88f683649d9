#!/usr/bin/env bash
# Compares ciguard's shell-based audits with zizmor 1.32's findings on the dev corpus, by file and
# line. A zizmor finding counts as reproduced when a ciguard finding of the same audit has its
# primary location, or one of its related locations, on that line (zizmor anchors github-env and
# insecure-commands on the `run:`/`env:` key; ciguard points at the exact command or entry and
# relates the key). Usage: bench/shell-audits-vs-zizmor.sh [CORPUS] [ANCHORS]
set -euo pipefail
shared=../shared; [ -d "$shared" ] || shared=/work/shared
corpus=${1:-$shared/corpus}
anchors=${2:-$shared/anchors/zizmor-1.32.0}
out=$(mktemp)
cargo run -q --release -p ciguard-core --example audit_tsv -- "$corpus" \
  github-env insecure-commands adhoc-packages unpinned-tools mutable-downloads release-mutation >"$out"
python3 - "$out" "$anchors" <<'PY'
import sys, collections
ours_path, anchors = sys.argv[1], sys.argv[2]
findings = collections.defaultdict(list)   # audit -> [(path, {lines}, persona)]
for line in open(ours_path):
    p = line.rstrip("\n").split("\t")
    lines = {int(p[1])} | {int(r) for r in p[7].split(",") if r}
    findings[p[3]].append((p[0], lines, p[6]))
for audit in ["github-env", "insecure-commands", "adhoc-packages", "unpinned-tools"]:
    for persona, fname in [("regular", "dev-regular.tsv"), ("auditor", "dev-auditor.tsv")]:
        theirs = set()
        for line in open(f"{anchors}/{fname}"):
            p = line.rstrip("\n").split("\t")
            if len(p) > 3 and p[3] == audit and not (len(p) > 6 and p[6]):  # skip zizmor-ignored
                theirs.add((p[0], int(p[1])))
        mine = [f for f in findings[audit] if persona == "auditor" or f[2] != "auditor"]
        covered = {(path, l) for path, ls, _ in mine for l in ls}
        hit = theirs & covered
        only = [f for f in mine if not any((f[0], l) in theirs for l in f[1])]
        pct = 100 * len(hit) / len(theirs) if theirs else 100.0
        print(f"{audit:18} {persona:8}: zizmor {len(theirs):3} lines, reproduced {len(hit):3} ({pct:5.1f}%); ciguard {len(mine):3} findings, {len(only):3} where zizmor has none")
        for m in sorted(theirs - hit):
            print(f"    missed: {m[0]}:{m[1]}")
for audit in ["mutable-downloads", "release-mutation"]:
    print(f"{audit:18} (no zizmor equivalent): {len(findings[audit])} findings in {len({f[0] for f in findings[audit]})} files")
PY
echo "raw ciguard findings: $out"
