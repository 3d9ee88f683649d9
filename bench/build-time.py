#!/usr/bin/env python3
"""Time of a first `cargo build --locked --release -p ciguard` at two commits, side by side.

Each commit is checked out in its own git worktree in a temporary directory and built from an
empty target directory, alternating (base, new, base, new, ...) so that a machine that gets
faster or slower during the run moves both alike. Prints the CPU (user + system of cargo and
every compiler it starts) and wall time of each build, their medians and the
new/base ratios. The crates come from ~/.cargo's download cache, so only compiling is measured.

    python3 bench/build-time.py [--base b836eec] [--new HEAD] [--rounds 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(tree, target):
    """Wall seconds of one release build of `tree` into `target`; the caller reads the CPU."""
    shutil.rmtree(target, ignore_errors=True)
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["cargo", "build", "--locked", "--release", "-p", "ciguard"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build of {tree} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="b836eec")
    ap.add_argument("--new", default="HEAD")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ciguard-build-time-"))
    trees = {}
    try:
        for name in ("base", "new"):
            rev = getattr(args, name)
            tree = work / name
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), rev], cwd=ROOT, check=True)
            trees[name] = tree
        results = {name: [] for name in trees}
        for i in range(args.rounds):
            for name, tree in trees.items():
                before = os.times()
                wall = build(tree, work / f"target-{name}")
                after = os.times()
                cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
                results[name].append((wall, cpu))
                print(f"round {i + 1}: {name:4} {getattr(args, name):>10} {cpu:7.1f} s cpu {wall:7.1f} s wall", file=sys.stderr)
        print(f"cargo build --locked --release -p ciguard, {args.rounds} rounds, alternating")
        med = {}
        for name, rows in results.items():
            cpu = statistics.median(r[1] for r in rows)
            wall = statistics.median(r[0] for r in rows)
            med[name] = (cpu, wall)
            print(f"{name:4} {getattr(args, name):>10}  median cpu {cpu:7.1f} s  median wall {wall:7.1f} s")
        print(f"ratio new/base  cpu {med['new'][0] / med['base'][0]:5.2f}  wall {med['new'][1] / med['base'][1]:5.2f}")
    finally:
        for tree in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
