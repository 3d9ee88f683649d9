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
ours = collections.defaultdict(set)      # (audit) -> {(path, line)} primary + related
primary = collections.defaultdict(set)
counts = collections.Counter()
for line in open(ours_path):
    p = line.rstrip("\n").split("\t")
    path, ln, audit, persona, related = p[0], int(p[1]), p[3], p[6], p[7]
    counts[(audit, persona)] += 1
    primary[audit].add((path, ln))
    ours[audit].add((path, ln))
    for r in filter(None, related.split(",")):
        ours[audit].add((path, int(r)))
for audit in ["github-env", "insecure-commands", "adhoc-packages", "unpinned-tools"]:
    for persona, fname in [("regular", "dev-regular.tsv"), ("auditor", "dev-auditor.tsv")]:
        theirs = set()
        for line in open(f"{anchors}/{fname}"):
            p = line.rstrip("\n").split("\t")
            if len(p) > 3 and p[3] == audit:
                theirs.add((p[0], int(p[1])))
        if not theirs:
            continue
        hit = {t for t in theirs if t in ours[audit]}
        extra = {o for o in primary[audit] if o not in theirs}
        print(f"{audit:18} vs zizmor {persona:8}: zizmor {len(theirs):3} lines, reproduced {len(hit):3} ({100*len(hit)/len(theirs):.1f}%), ciguard-only primary lines {len(extra)}")
        for m in sorted(theirs - hit):
            print(f"    missed: {m[0]}:{m[1]}")
for audit in ["mutable-downloads", "release-mutation"]:
    print(f"{audit:18} (no zizmor equivalent): {sum(v for (a, _), v in counts.items() if a == audit)} findings, {len(primary[audit])} lines")
print("ciguard findings by audit/persona:", dict(sorted(counts.items())))
PY
echo "raw ciguard findings: $out"
