#!/usr/bin/env python3
"""Our handcrafted features against the reference implementations, file by file.

Computes Essentia's music-extractor low-level features (the recipe of the paper's set:
silent frames dropped, frames of 2048 every 1024, mean and stdev) and ours
(`trainer features`) on the same audio files, and prints the Pearson correlation of every
feature across the files, worst first. Outside CI: it needs the reference from PyPI.

    python3 -m venv .venv && .venv/bin/pip install essentia==2.1b6.dev1389 numpy
    .venv/bin/python scripts/compare-features.py SONGS_DIR_OR_FILES... [--trainer PATH]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np


def theirs(path):
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    pool, _ = es.MusicExtractor(
        lowlevelSilentFrames="drop",
        lowlevelFrameSize=2048,
        lowlevelHopSize=1024,
        lowlevelStats=["mean", "stdev"],
    )(path)
    return {
        n: float(pool[n])
        for n in pool.descriptorNames()
        if n.startswith("lowlevel.") and isinstance(pool[n], float)
    }


def ours(paths, trainer):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.csv")
        subprocess.run([*trainer, "features", *paths, "--out", out], check=True)
        with open(out) as f:
            return {r.pop("path"): {k: float(v) for k, v in r.items()} for r in csv.DictReader(f)}


def audio_files(paths):
    exts = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                yield from (os.path.join(root, n) for n in sorted(names) if n.lower().endswith(exts))
        else:
            yield p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--trainer", default="cargo run --quiet --release -p trainer --")
    args = ap.parse_args()
    files = sorted(os.path.abspath(f) for f in audio_files(args.paths))
    mine = ours(files, args.trainer.split())
    ref = {}
    for i, f in enumerate(files, 1):
        print(f"essentia {i}/{len(files)}: {f}", file=sys.stderr)
        ref[f] = theirs(f)
    both = [f for f in files if f in mine and f in ref]
    names = sorted(set(ref[both[0]]) if both else [])
    print(f"{len(both)} files\n{'feature':<48} {'pearson r':>10} {'ours mean':>12} {'theirs mean':>12}")
    rows = []
    for n in names:
        if n not in mine[both[0]]:
            rows.append((n, None, None, np.mean([ref[f][n] for f in both])))
            continue
        a = np.array([mine[f][n] for f in both])
        b = np.array([ref[f][n] for f in both])
        r = np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else float("nan")
        rows.append((n, r, a.mean(), b.mean()))
    rows.sort(key=lambda t: (t[1] is None, -1 if t[1] is None or np.isnan(t[1]) else t[1]))
    for n, r, a, b in rows:
        if r is None:
            print(f"{n:<48} {'not yet':>10} {'':>12} {b:>12.4g}")
        else:
            print(f"{n:<48} {r:>10.4f} {a:>12.4g} {b:>12.4g}")
    done = [r for _, r, _, _ in rows if r is not None and not np.isnan(r)]
    if done:
        print(f"\n{sum(r >= 0.95 for r in done)} of {len(done)} implemented features at r >= 0.95")


if __name__ == "__main__":
    main()
