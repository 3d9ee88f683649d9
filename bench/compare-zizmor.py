#!/usr/bin/env python3
"""Compare ciguard's findings with zizmor 1.32's on the corpus, per audit, by file and line.

zizmor's findings are recorded in ../shared/anchors/zizmor-1.32.0/ (dev-regular.tsv for the
regular persona, dev-auditor.tsv for the auditor persona). ciguard runs once per repository
directory, like zizmor did, from inside the corpus so paths match.

    python3 bench/compare-zizmor.py [--persona regular|auditor] [--show AUDIT] [--limit 20]
"""

import argparse
import collections
import csv
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def zizmor_findings(persona):
    rows = collections.defaultdict(set)
    with open(SHARED / "anchors" / "zizmor-1.32.0" / f"dev-{persona}.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["ignored"]:
                continue
            rows[row["audit"]].add((row["path"], int(row["line"])))
    return rows


def ciguard_findings(binary, persona, corpus):
    """Per audit: the (path, line) of each primary location, and of every location of each finding.

    zizmor anchors some findings on the key of a block (`run:`, `env:`) where ciguard points at
    the exact command and names the key as a related location; a zizmor finding counts as
    reproduced when any location of a ciguard finding of the same audit is on its line.
    """
    rows = collections.defaultdict(set)
    anywhere = collections.defaultdict(set)
    for d in sorted(p.name for p in corpus.iterdir() if p.is_dir()):
        out = subprocess.run(
            [binary, "audit", "--no-config", "--format", "json", "--persona", persona, d],
            cwd=corpus, capture_output=True, text=True,
        )
        if out.returncode not in (0, 3, 11, 12, 13, 14):
            raise SystemExit(f"ciguard failed on {d}: {out.returncode}\n{out.stderr}")
        for f in json.loads(out.stdout)["findings"]:
            for i, loc in enumerate([f["primary"], *f.get("related", [])]):
                if "start" not in loc:
                    continue
                key = (loc["path"], loc["start"]["line"])
                anywhere[f["audit"]].add(key)
                if i == 0:
                    rows[f["audit"]].add(key)
    return rows, anywhere


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persona", default="regular", choices=["regular", "auditor"])
    ap.add_argument("--show", help="list the differences of one audit")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="the ciguard binary to run (default: the release build)")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--locked", "--release", "-p", "ciguard"], cwd=ROOT, check=True)
    binary = str(Path(args.binary).resolve()) if args.binary else str(ROOT / "target" / "release" / "ciguard")
    ours, anywhere = ciguard_findings(binary, args.persona, SHARED / "corpus")
    theirs = zizmor_findings(args.persona)

    print(f"persona {args.persona}: findings by file and line (zizmor 1.32.0 vs ciguard)")
    print(f"{'audit':32} {'zizmor':>7} {'ciguard':>8} {'both':>6} {'reproduced':>11} {'zizmor only':>12} {'ciguard only':>13}")
    for audit in sorted(set(ours) | set(theirs)):
        z, c, a = theirs.get(audit, set()), ours.get(audit, set()), anywhere.get(audit, set())
        both = z & a
        rate = f"{100 * len(both) / len(z):.1f}%" if z else "-"
        print(f"{audit:32} {len(z):7} {len(c):8} {len(both):6} {rate:>11} {len(z - a):12} {len(c - z):13}")
    if args.show:
        z, c, a = theirs.get(args.show, set()), ours.get(args.show, set()), anywhere.get(args.show, set())
        print(f"\nzizmor only ({len(z - a)}):")
        for p, l in sorted(z - a)[: args.limit]:
            print(f"  {p}:{l}")
        print(f"ciguard only ({len(c - z)}):")
        for p, l in sorted(c - z)[: args.limit]:
            print(f"  {p}:{l}")


if __name__ == "__main__":
    main()
