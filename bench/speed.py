#!/usr/bin/env python3
"""Speed and memory of ciguard against zizmor on the same inputs, side by side.

Runs `ciguard audit --format json` and `zizmor --offline --format json` over every repository
directory of the corpus, in one invocation each, alternating, several times, and prints the
median wall time and peak memory (max RSS) of each and their ratios. etcd is left out for both:
zizmor 1.32 aborts on one of its files.

    pip install zizmor==1.32.0
    python3 bench/speed.py [--runs 5] [--corpus ../shared/corpus] [--only dangerous-triggers,unpinned-uses,...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(cmd, cwd):
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    default_corpus = ROOT.parent / "shared" / "corpus"
    if not default_corpus.is_dir():
        # A git worktree under /work/wt/<name>: the corpus is two levels up.
        default_corpus = ROOT.parent.parent / "shared" / "corpus"
    ap.add_argument("--corpus", default=str(default_corpus))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--ciguard", help="the ciguard binary to measure (default: target/release/ciguard, built first)")
    ap.add_argument("--only", help="comma-separated audit ids: disable every other audit (and the dependency checks)")
    args = ap.parse_args()

    corpus = Path(args.corpus).resolve()
    dirs = sorted(p.name for p in corpus.iterdir() if p.is_dir() and p.name != "etcd-io__etcd")
    if not args.no_build and not args.ciguard:
        subprocess.run(["cargo", "build", "--locked", "--release", "-p", "ciguard"], cwd=ROOT, check=True)
    ciguard = str(Path(args.ciguard).resolve()) if args.ciguard else str(ROOT / "target" / "release" / "ciguard")
    extra = []
    if args.only:
        keep = set(args.only.split(","))
        ids = json.loads(subprocess.run([ciguard, "audits", "--format", "json"], capture_output=True, check=True).stdout)
        config = Path(tempfile.mkdtemp()) / "only.toml"
        config.write_text("".join(f"[audits.{a['id']}]\ndisable = true\n" for a in ids["audits"] if a["id"] not in keep))
        extra = ["--config", str(config), "--collect", "workflows,actions,dependabot"]
    tools = {
        "ciguard": [ciguard, "audit", "--format", "json", "--persona", "auditor", *extra, *dirs],
        "zizmor": ["zizmor", "--offline", "--format", "json", "--persona", "auditor", *dirs],
    }
    results = {name: [] for name in tools}
    for i in range(args.runs):
        for name, cmd in tools.items():
            wall, cpu, rss, code = measure(cmd, corpus)
            if code not in (0, 3, 11, 12, 13, 14):
                sys.exit(f"{name} exited {code}")
            results[name].append((wall, rss, cpu))
            print(f"run {i + 1}: {name:8} {wall:7.3f} s wall {cpu:7.3f} s cpu {rss:8.1f} MiB (exit {code})", file=sys.stderr)

    print(f"corpus: {len(dirs)} repository directories (etcd left out), {args.runs} runs each, alternating")
    med = {}
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        rss = statistics.median(r[1] for r in rows)
        cpu = statistics.median(r[2] for r in rows)
        med[name] = (wall, rss, cpu)
        print(f"{name:8} median wall {wall:7.3f} s   median cpu {cpu:7.3f} s   median peak memory {rss:8.1f} MiB")
    (cw, cm, cc), (zw, zm, zc) = med["ciguard"], med["zizmor"]
    print(f"ratio    zizmor/ciguard wall time {zw / cw:6.1f}x   ciguard/zizmor peak memory {cm / zm:6.3f}")
    # CPU time (user + system) is steadier than wall time on a shared machine.
    print(f"ratio    zizmor/ciguard cpu time  {zc / cc:6.1f}x")


if __name__ == "__main__":
    main()
