#!/usr/bin/env python3
"""Peak memory and wall time of `ciguard audit` over one and eight copies of the corpus, per
output format: memory should not grow with the number of inputs.

The copies are hard links (`cp -al`) in a temporary directory, so they cost no disk space. Each
measurement is one process under `/usr/bin/time -v` (maximum resident set size); wall time is the
median of --runs runs. Prints a table and the 8-copy/1-copy memory ratio and the SARIF/JSON time
ratio of each format.

    python3 bench/memory.py [--ciguard target/release/ciguard] [--corpus ../shared/corpus] [--runs 3]
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["json", "sarif", "plain", "github"]


def measure(cmd):
    """(wall seconds, peak RSS in MiB) of one run of `cmd`."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if not found:
        sys.exit(f"no RSS from /usr/bin/time for {cmd}:\n{proc.stderr[-2000:]}")
    return wall, int(found.group(1)) / 1024


def copies(corpus, n, into):
    """A directory holding `n` hard-linked copies of the corpus."""
    target = into / f"x{n}"
    target.mkdir()
    for i in range(n):
        subprocess.run(["cp", "-al", str(corpus), str(target / f"copy{i}")], check=True)
    return target


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ciguard", default=str(ROOT / "target" / "release" / "ciguard"))
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default=",".join(FORMATS))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"skipped: no corpus at {corpus}")
        return
    if not Path("/usr/bin/time").exists():
        sys.exit("needs /usr/bin/time (GNU time) for the peak RSS")
    tmp = Path(tempfile.mkdtemp(prefix="ciguard-memory-"))
    try:
        dirs = {1: copies(corpus, 1, tmp), 8: copies(corpus, 8, tmp)}
        rows = {}
        for fmt in args.formats.split(","):
            for n, d in dirs.items():
                cmd = [args.ciguard, "audit", "--no-config", "--offline", "--persona", "auditor",
                       "--format", fmt, "--color", "never", str(d)]
                runs = [measure(cmd) for _ in range(args.runs)]
                rows[(fmt, n)] = (statistics.median(w for w, _ in runs), max(m for _, m in runs))
        print(f"{'format':8} {'copies':>6} {'wall s':>8} {'peak MiB':>9}")
        for (fmt, n), (wall, mib) in rows.items():
            print(f"{fmt:8} {n:>6} {wall:>8.2f} {mib:>9.1f}")
        for fmt in args.formats.split(","):
            one, eight = rows[(fmt, 1)][1], rows[(fmt, 8)][1]
            print(f"{fmt}: 8 copies / 1 copy memory = {eight / one:.2f}x")
        if ("json", 1) in rows and ("sarif", 1) in rows:
            print(f"sarif / json time (1 copy) = {rows[('sarif', 1)][0] / rows[('json', 1)][0]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
