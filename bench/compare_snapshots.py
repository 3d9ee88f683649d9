#!/usr/bin/env python3
"""Usage: python3 bench/compare_snapshots.py BASELINE_SNAP NEW_SNAP (from /work/wt/snapshot.sh).
Compares two snapshot directories' JSON and SARIF outputs as documents: key order ignored,
and SARIF rules compared only for the audits that have results (the streamed SARIF lists the
whole catalogue), with each result's ruleIndex mapped to its rule id."""
import json, sys, pathlib

def sarif_norm(doc):
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for r in run.get("results", []):
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"], (r["ruleId"], r["ruleIndex"])
        r.pop("ruleIndex")
    used = {r["ruleId"] for r in run.get("results", [])}
    run["tool"]["driver"]["rules"] = [r for r in rules if r["id"] in used]
    return doc

a, b = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
bad = 0
for fa in sorted(a.glob("*.json")) + sorted(a.glob("*.sarif")):
    fb = b / fa.name
    da, db = json.loads(fa.read_text()), json.loads(fb.read_text())
    if fa.suffix == ".sarif":
        da, db = sarif_norm(da), sarif_norm(db)
    if da != db:
        bad += 1
        print("differs:", fa.name)
print(f"{bad} documents differ")
sys.exit(1 if bad else 0)
