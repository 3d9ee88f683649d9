#!/usr/bin/env python3
"""`ciguard audit --fix=all` on a copy of the whole corpus, checked from outside (issue 10).

For every repository of ../shared/corpus (copied to a temporary directory first):
  1. audit (JSON, auditor persona, no config) to learn which findings carry fixes;
  2. `--fix=all` at the same persona;
  3. compare each changed YAML file's tree (PyYAML, a different parser than ciguard's) with the
     original: only keys added or removed inside the fixed findings' steps or jobs, and the
     fixed values themselves (`run`, `uses`, `with.persist-credentials`), may differ
     (workflow-level fixes, such as permissions narrowed onto jobs, may touch any job);
  4. `--fix=all` again must change nothing;
  5. the re-audit must add no finding (audit, file, message) the first audit did not have.
Prints the figures and exits 1 on any violation. Usage: bench/fix-corpus.py [path/to/ciguard]
(default target/release/ciguard; build it with `cargo build --locked --release -p ciguard`).
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "ciguard")
FLAGS = ["--persona", "auditor", "--no-config", "--offline"]


def run(args, cwd):
    return subprocess.run([BIN, *args], cwd=cwd, capture_output=True, text=True)


def audit(repo):
    out = run(["audit", "--format", "json", *FLAGS, "."], repo)
    return json.loads(out.stdout)["findings"]


def snapshot(repo):
    files = {}
    for base, _, names in os.walk(repo):
        for name in names:
            path = os.path.join(base, name)
            if not os.path.islink(path):
                with open(path, "rb") as f:
                    files[os.path.relpath(path, repo)] = f.read()
    return files


def route_parts(route):
    parts = []
    for piece in route.split("."):
        m = re.fullmatch(r"([^\[]*)((?:\[\d+\])*)", piece)
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tuple(parts)


def scope(parts):
    """The step (`...steps[i]`) or job (`jobs.<id>`) a finding's fix may touch."""
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "steps" and isinstance(parts[i + 1], int):
            return parts[: i + 2]
    if len(parts) >= 2 and parts[0] == "jobs":
        return parts[:2]
    return parts


def diff(a, b, at, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() | b.keys():
            if k not in b:
                out.append(("removed", at + (k,)))
            elif k not in a:
                out.append(("added", at + (k,)))
            else:
                diff(a[k], b[k], at + (k,), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, at + (i,), out)
    elif a != b or type(a) is not type(b):
        out.append(("changed", at))


def allowed(kind, at, fixed):
    for parts in fixed:
        s = scope(parts)
        if not s or s[0] not in ("jobs", "runs"):
            # A workflow-level fix (permissions narrowed onto the jobs) may touch any job:
            # only the re-audit and ciguard's own tree check judge it.
            return True
        if at[: len(s)] != s:
            continue
        if kind in ("added", "removed"):
            return True
        if kind == "changed" and (at == parts or at in (s + ("with", "persist-credentials"),)):
            return True
    return False


def main():
    if not os.path.isdir(CORPUS):
        print(f"skipped: no corpus at {CORPUS}")
        return 0
    if not os.path.exists(BIN):
        print(f"no binary at {BIN}; run `cargo build --locked --release -p ciguard`")
        return 2
    started = time.time()
    stats = collections.Counter()
    problems = []
    refusals = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(CORPUS)):
            src = os.path.join(CORPUS, name)
            if not os.path.isdir(src):
                continue
            repo = os.path.join(tmp, name)
            shutil.copytree(src, repo, symlinks=True)
            os.makedirs(os.path.join(repo, ".git"), exist_ok=True)
            before_findings = audit(repo)
            fixed_routes = collections.defaultdict(list)
            for f in before_findings:
                if f["fixes"] and f["primary"]:
                    fixed_routes[f["primary"]["path"]].append(route_parts(f["primary"]["route"]))
            before = snapshot(repo)
            first = run(["audit", "--fix=all", *FLAGS, "."], repo)
            for line in first.stderr.splitlines():
                if "fix not applied:" in line:
                    stats["fixes refused"] += 1
                    detail = re.sub(r"`[^`]*`", "`…`", line.split("fix not applied: ", 1)[1])
                    audit_id, _title, reason = (detail.split(": ", 2) + ["", ""])[:3]
                    reason = ": ".join(reason.split(": ")[:2]) if "add a finding" in reason else reason
                    refusals[f"{audit_id}: {reason}"] += 1
                m = re.search(r"applied (\d+) fix", line)
                if m:
                    stats["fixes applied"] += int(m.group(1))
            after = snapshot(repo)
            stats["repositories"] += 1
            stats["files"] += len(before)
            for path, old in before.items():
                new = after.get(path)
                if new == old:
                    continue
                stats["files changed"] += 1
                if new is None:
                    problems.append(f"{name}/{path}: deleted")
                    continue
                if b"\r\n" in old and new.count(b"\n") - new.count(b"\r\n") > old.count(b"\n") - old.count(b"\r\n"):
                    problems.append(f"{name}/{path}: bare LF lines added to a CRLF file")
                try:
                    a = yaml.safe_load(old)
                    b = yaml.safe_load(new)
                except yaml.YAMLError as e:
                    problems.append(f"{name}/{path}: fixed file does not parse: {e}")
                    continue
                diffs = []
                diff(a, b, (), diffs)
                rel = os.path.relpath(os.path.join(repo, path), repo)
                routes = fixed_routes.get(rel, []) + fixed_routes.get("./" + rel, [])
                for kind, at in diffs:
                    stats["tree differences"] += 1
                    if not allowed(kind, at, routes):
                        problems.append(f"{name}/{path}: unintended {kind} at {at}")
            second = run(["audit", "--fix=all", *FLAGS, "."], repo)
            if snapshot(repo) != after:
                problems.append(f"{name}: a second --fix=all changed files again")
            key = lambda f: (f["audit"], f["primary"]["path"] if f["primary"] else "", f["message"])
            old_keys = collections.Counter(key(f) for f in before_findings)
            for k, n in collections.Counter(key(f) for f in audit(repo)).items():
                if n > old_keys.get(k, 0):
                    problems.append(f"{name}: new finding after fixing: {k}")
    for k in ["repositories", "files", "files changed", "fixes applied", "fixes refused", "tree differences"]:
        print(f"{k}: {stats[k]}")
    for reason, n in refusals.most_common():
        print(f"  refused {n}x: {reason}")
    print(f"problems: {len(problems)}")
    for p in problems[:50]:
        print(f"  {p}")
    print(f"time: {time.time() - started:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
