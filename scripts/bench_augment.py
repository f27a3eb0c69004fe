#!/usr/bin/env python3
"""Throughput of `nao augment` on the embedded model: images per second, median of runs.

Each run makes a fresh dataset from crates/nao-cli/tests/data/augment-real (two classes, four
real images each) into a new temporary folder, so every run inverts, computes the class seeds
and samples everything. Reported per run (from `--json`): the sampling rate (`images_per_second`:
images made / time spent sampling, decoding and writing them) and the whole command's wall time
(model loading, inversion and centroids included).

    python3 scripts/bench_augment.py --nao target/release/nao [--runs 5] [--per-class 100]
        [--steps 50] [-- EXTRA NAO OPTIONS, e.g. --device onnx-cpu]

Standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL = os.path.join(ROOT, "crates", "nao-cli", "tests", "data", "augment-real")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nao", required=True, help="the nao binary (a release build)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("extra", nargs="*", help="further nao augment options (after --)")
    args = parser.parse_args()

    rates, walls = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            cmd = [
                args.nao, "augment", REAL, "-o", out,
                "--per-class", str(args.per_class), "--steps", str(args.steps),
                "--json", *args.extra,
            ]
            start = time.monotonic()
            done = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.monotonic() - start
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                return 1
            report = json.loads(done.stdout)
            images = report["generated"]
            rates.append(report["images_per_second"])
            walls.append(wall)
            print(f"run {run + 1}: {images} images, {report['images_per_second']:.1f} images/s "
                  f"sampling, {wall:.2f} s wall ({images / wall:.1f} images/s overall)")
    images = 2 * args.per_class
    print(f"median of {args.runs}: {statistics.median(rates):.1f} images/s sampling; "
          f"{statistics.median(walls):.2f} s wall for {images} images "
          f"({images / statistics.median(walls):.1f} images/s overall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
