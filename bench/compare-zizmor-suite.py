#!/usr/bin/env python3
"""Compare ciguard with the findings zizmor's own integration suite expects, per audit.

The suite is in ../shared/peers/zizmor-tests/: fixtures under test-data/, the Rust test files
(audit/*.rs, e2e.rs, e2e/*.rs) that say which fixture runs with which persona and config, and the
insta snapshots (inline in the test files, or snapshots/*.snap) that record zizmor's output. Each
snapshot finding (`warning[audit-id]: ...` followed by `--> file:line:col`) is one expected
finding (audit, file, line). ciguard runs on the same inputs with the same persona and a
translation of the zizmor config, and a finding is reproduced when a ciguard finding of the same
audit has any location (primary or related) on that file and line, as in bench/compare-zizmor.py.

Tests that need the network (`NetworkMode::AssertOnline`), build their input in a temporary
workspace, read stdin, or check `--fix` diffs are not comparisons of findings and are skipped
(counted in the summary).

    python3 bench/compare-zizmor-suite.py [--binary PATH] [--no-build] [--audit ID] [--json OUT]
"""

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT.parent / "shared" / "peers" / "zizmor-tests"
DATA = SUITE / "test-data"

# zizmor audit ids that ciguard spells differently.
AUDIT_NAMES = {
    "hardcoded-container-credentials": "hardcoded-container-credentials",
}

HEADER = re.compile(r"^\s*(?:error|warning|help|info|note)\[([a-z0-9-]+)\]:")
ARROW = re.compile(r"^\s*-->\s*(\S+?):(\d+):(\d+)\s*$")
TEST_FN = re.compile(r"#\[test\]\s*(?:#\[[^\]]*\]\s*)*fn\s+(\w+)")


def load_tests():
    """Yield (test id, builder text, snapshot text or None) for every `assert_snapshot!` call."""
    files = sorted((SUITE / "audit").glob("*.rs")) + [SUITE / "e2e.rs"] + sorted((SUITE / "e2e").glob("*.rs"))
    for path in files:
        if not path.exists() or path.name == "mod.rs":
            continue
        module = "e2e" if path.parent.name == "e2e" or path.name == "e2e.rs" else "audit"
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in TEST_FN.finditer(text)]
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            body = text[start:end]
            calls = body.split("insta::assert_snapshot!(")[1:]
            for n, call in enumerate(calls, 1):
                stem = path.stem if module == "audit" else path.stem
                prefix = f"integration__{module}__{stem}__" if path.name != "e2e.rs" else "integration__e2e__"
                snap_name = prefix + name + ("" if n == 1 else f"-{n}")
                inline = re.search(r'\.run\(\)\??[^@]*?,\s*@(r#*)?"(.*?)"#*\s*\);', call, re.S)
                if inline:
                    snapshot = inline.group(2)
                else:
                    snap = SUITE / "snapshots" / f"{snap_name}.snap"
                    snapshot = snap.read_text().split("---", 2)[-1] if snap.exists() else None
                yield f"{path.name}::{name}#{n}", body, call, snapshot


def expected_findings(snapshot, inputs):
    """(audit, path relative to test-data or '*', line) for each finding header in a snapshot."""
    out = []
    lines = snapshot.splitlines()
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if not m:
            continue
        for follow in lines[i + 1 : i + 4]:
            a = ARROW.match(follow)
            if a:
                out.append((m.group(1), resolve_path(a.group(1), inputs), int(a.group(2))))
                break
    return out


def resolve_path(path, inputs):
    if path == "@@INPUT@@":
        return inputs[0] if len(inputs) == 1 else "*"
    if path.startswith("@@INPUT@@/"):
        rest = path[len("@@INPUT@@/") :]
        dirs = [i for i in inputs if (DATA / i).is_dir()]
        return f"{dirs[0]}/{rest}" if len(dirs) == 1 else f"*/{rest}"
    return "*/" + path


def yaml_subset(text):
    """Parse the block-mapping/list/scalar YAML of zizmor's config files (no deps)."""
    rows = []
    for raw in text.splitlines():
        stripped = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if stripped.strip():
            rows.append((len(stripped) - len(stripped.lstrip()), stripped.strip()))

    def scalar(s):
        s = s.strip()
        if s[:1] in "\"'":
            return s[1:-1]
        if s == "{}":
            return {}
        if s in ("true", "false"):
            return s == "true"
        if s.startswith("[") and s.endswith("]"):
            return [scalar(x) for x in s[1:-1].split(",") if x.strip()]
        try:
            return int(s)
        except ValueError:
            return s

    def block(i, indent):
        if i < len(rows) and rows[i][1].startswith("- "):
            items = []
            while i < len(rows) and rows[i][0] == indent and rows[i][1].startswith("- "):
                items.append(scalar(rows[i][1][2:]))
                i += 1
            return items, i
        mapping = {}
        while i < len(rows) and rows[i][0] == indent:
            key, _, value = rows[i][1].partition(":")
            key = scalar(key)
            if value.strip():
                mapping[key] = scalar(value)
                i += 1
            elif i + 1 < len(rows) and rows[i + 1][0] > indent:
                mapping[key], i = block(i + 1, rows[i + 1][0])
            elif i + 1 < len(rows) and rows[i + 1][0] == indent and rows[i + 1][1].startswith("- "):
                mapping[key], i = block(i + 1, indent)
            else:
                mapping[key] = None
                i += 1
        return mapping, i

    return block(0, rows[0][0])[0] if rows else {}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps("" if v is None else str(v))


def translate_config(path):
    """A zizmor config as ciguard.toml text: rules.<id>.{disable,config.*} -> [audits.<id>]."""
    rules = (yaml_subset(path.read_text()) or {}).get("rules") or {}
    out = []
    for audit, rule in rules.items():
        rule = rule or {}
        out.append(f"[audits.{AUDIT_NAMES.get(audit, audit)}]")
        if rule.get("disable"):
            out.append("disable = true")
        for key, value in (rule.get("config") or {}).items():
            out.append(f"{json.dumps(key)} = {toml_value(value)}")
    return "\n".join(out) + "\n"


def persona_of(call):
    for p in ("auditor", "pedantic"):
        if f"--persona={p}" in call or (p == "pedantic" and '"--pedantic"' in call):
            return p
    return "regular"


def run_ciguard(binary, inputs, persona, config):
    args = [str(Path(binary).resolve()), "audit", "--format", "json", "--offline", "--persona", persona]
    with tempfile.TemporaryDirectory() as tmp:
        if config is not None:
            cfg = Path(tmp) / "ciguard.toml"
            cfg.write_text(translate_config(DATA / config))
            args += ["--config", str(cfg)]
        else:
            args.append("--no-config")
        out = subprocess.run(args + inputs, cwd=DATA, capture_output=True, text=True)
    try:
        findings = json.loads(out.stdout)["findings"]
    except (json.JSONDecodeError, KeyError):
        return None, out.stderr.strip().splitlines()[-1:] or [f"exit {out.returncode}"]
    got = []
    for f in findings:
        locs = [(loc["path"], loc["start"]["line"]) for loc in [f["primary"], *f.get("related", [])] if "start" in loc]
        if locs:
            got.append((f["audit"], locs))
    return got, []


def matches(expected, got_locs):
    audit, path, line = expected
    for p, l in got_locs:
        if l != line:
            continue
        if path == "*" or p == path or (path.startswith("*/") and p.endswith(path[1:])):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "ciguard"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--audit", help="list the misses and extras of one audit only")
    ap.add_argument("--json", help="write the per-audit figures to this file")
    args = ap.parse_args()
    if not SUITE.exists():
        raise SystemExit(f"skipped: {SUITE} is missing")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--locked", "--release", "-p", "ciguard"], cwd=ROOT, check=True)

    expected = collections.Counter()
    reproduced = collections.Counter()
    extra = collections.Counter()
    misses, extras, skipped, failures = [], [], collections.Counter(), []
    for test, body, call, snapshot in load_tests():
        builder = call.split(".run()")[0]
        if "AssertOnline" in builder or "AssertOnline" in body.split("insta::assert_snapshot!(")[0]:
            skipped["needs the network"] += 1
            continue
        if "--fix" in builder:
            skipped["checks a --fix diff"] += 1
            continue
        if "expects_failure" in builder:
            skipped["expects zizmor to fail"] += 1
            continue
        if ".stdin(" in builder or "workspace" in builder or "WorkspaceBuilder" in builder:
            skipped["temporary workspace or stdin"] += 1
            continue
        if "--format" in builder or "--min-" in builder or "--collect" in builder or "--no-online" in builder:
            skipped["output format or collection options"] += 1
            continue
        inputs = [i.rstrip("/") for i in re.findall(r'\.input\(\s*input_under_test\(\s*"([^"]+)"', builder)]
        if not inputs or snapshot is None:
            skipped["no fixture input or no snapshot"] += 1
            continue
        config = re.search(r'\.config\(\s*input_under_test\(\s*"([^"]+)"', builder)
        config = config.group(1) if config else None
        want = expected_findings(snapshot, inputs)
        got, err = run_ciguard(args.binary, inputs, persona_of(builder), config)
        if got is None:
            failures.append((test, err))
            got = []
        used = set()
        for e in want:
            audit = AUDIT_NAMES.get(e[0], e[0])
            expected[audit] += 1
            # Two expected findings on one line are two ciguard findings there, when it has them.
            hits = [k for k, (a, locs) in enumerate(got) if a == audit and matches(e, locs)]
            hit = next((k for k in hits if k not in used), hits[0] if hits else None)
            if hit is not None:
                reproduced[audit] += 1
                used.add(hit)
            else:
                misses.append((audit, test, e[1], e[2]))
        want_audits = {AUDIT_NAMES.get(e[0], e[0]) for e in want}
        tested = test.split("::")[0].removesuffix(".rs").replace("_", "-")
        for k, (a, locs) in enumerate(got):
            # Extras count only for audits this test is about or that the snapshot mentions.
            if k not in used and (a in want_audits or a == tested):
                extra[a] += 1
                extras.append((a, test, locs[0][0], locs[0][1]))

    total_e, total_r = sum(expected.values()), sum(reproduced.values())
    print(f"zizmor integration suite: {total_r} of {total_e} expected findings reproduced "
          f"({100 * total_r / max(total_e, 1):.1f}%), {sum(extra.values())} extra")
    print("skipped tests: " + ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())))
    print(f"\n{'audit':32} {'expected':>8} {'reproduced':>10} {'recall':>7} {'extra':>6}")
    figures = {}
    for audit in sorted(set(expected) | set(extra)):
        e, r, x = expected[audit], reproduced[audit], extra[audit]
        rate = f"{100 * r / e:.1f}%" if e else "-"
        figures[audit] = {"expected": e, "reproduced": r, "extra": x}
        print(f"{audit:32} {e:8} {r:10} {rate:>7} {x:6}")
    shown = [m for m in misses if not args.audit or m[0] == args.audit]
    print(f"\nmisses ({len(shown)}):")
    for audit, test, path, line in sorted(shown):
        print(f"  {audit:30} {path}:{line}  ({test})")
    shown = [m for m in extras if not args.audit or m[0] == args.audit]
    print(f"\nextra findings ({len(shown)}):")
    for audit, test, path, line in sorted(shown):
        print(f"  {audit:30} {path}:{line}  ({test})")
    if failures:
        print(f"\nciguard gave no JSON ({len(failures)}):")
        for test, err in failures:
            print(f"  {test}: {' '.join(err)}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
