#!/usr/bin/env python3
"""Our handcrafted features against the reference implementations, file by file.

Two sets, chosen with --set (default all):

  essentia  Essentia's music-extractor low-level features (the recipe of the paper's set:
            silent frames dropped, frames of 2048 every 1024, mean and stdev), against
            `trainer features --set essentia`, both on the original files.
  is13      openSMILE's IS13_ComParE LLDs and their deltas, summarised as the 260 features
            (per column `_stddev` then `_amean`: population standard deviation and mean over
            the frames both levels share), against `trainer features --set is13`. Both read the
            same 16 kHz mono 16-bit WAVs, made in a temporary folder (channels averaged, then
            scipy's resample_poly); files soundfile cannot read (m4a) are skipped.

For every feature it prints the Pearson correlation across the files, worst first, with both
means, and how many features reach r >= 0.95. Outside CI: it needs the references from PyPI.

    python3 -m venv .venv
    .venv/bin/pip install essentia==2.1b6.dev1389 opensmile==2.6.0 numpy scipy soundfile
    .venv/bin/python scripts/compare-features.py SONGS_DIR_OR_FILES... [--set essentia|is13|all]
        [--trainer PATH]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np


def essentia_features(paths):
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    extractor = es.MusicExtractor(
        lowlevelSilentFrames="drop",
        lowlevelFrameSize=2048,
        lowlevelHopSize=1024,
        lowlevelStats=["mean", "stdev"],
    )
    out = {}
    for i, path in enumerate(paths, 1):
        print(f"essentia {i}/{len(paths)}: {path}", file=sys.stderr)
        pool, _ = extractor(path)
        out[path] = {
            n: float(pool[n])
            for n in pool.descriptorNames()
            if n.startswith("lowlevel.") and isinstance(pool[n], float)
        }
    return out


def is13_features(wavs):
    import opensmile

    # One pass over both levels gives the frames they share, as one openSMILE run writes them.
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.IS13, feature_level="lld;lld_de")
    out = {}
    for i, wav in enumerate(wavs, 1):
        print(f"opensmile {i}/{len(wavs)}: {wav}", file=sys.stderr)
        frames = smile.process_file(wav)
        lld = [c for c in frames.columns if "_de" not in c]
        row = {}
        for name in lld + [c for c in frames.columns if "_de" in c]:
            v = frames[name].to_numpy(np.float64)
            row[f"{name}_stddev"] = v.std()
            row[f"{name}_amean"] = v.mean()
        out[wav] = row
    return out


def to_16k_mono(src, dst):
    import soundfile as sf
    from scipy.signal import resample_poly

    y, fs = sf.read(src, dtype="float64", always_2d=True)
    g = np.gcd(16000, fs)
    mono = resample_poly(y.mean(axis=1), 16000 // g, fs // g)
    # 16-bit, as openSMILE reads it (opensmile-python truncates float input to int16).
    sf.write(dst, mono, 16000, subtype="PCM_16")


def ours(paths, trainer, feature_set):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.csv")
        subprocess.run([*trainer, "features", "--set", feature_set, "--out", out, *paths], check=True)
        with open(out) as f:
            return {r.pop("path"): {k: float(v) for k, v in r.items()} for r in csv.DictReader(f)}


def report(title, mine, ref):
    """Prints the table for one set; `mine` and `ref` map the same file keys to feature dicts."""
    both = [f for f in ref if f in mine]
    names = list(ref[both[0]]) if both else []
    print(f"\n== {title}: {len(both)} files ==")
    print(f"{'feature':<48} {'pearson r':>10} {'ours mean':>12} {'theirs mean':>12}")
    rows = []
    for n in names:
        b = np.array([ref[f][n] for f in both])
        if n not in mine[both[0]]:
            rows.append((n, None, None, b.mean()))
            continue
        a = np.array([mine[f][n] for f in both])
        r = np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else float("nan")
        rows.append((n, r, a.mean(), b.mean()))
    rows.sort(key=lambda t: (t[1] is None, -1 if t[1] is None or np.isnan(t[1]) else t[1]))
    for n, r, a, b in rows:
        if r is None:
            print(f"{n:<48} {'not yet':>10} {'':>12} {b:>12.4g}")
        else:
            print(f"{n:<48} {r:>10.4f} {a:>12.4g} {b:>12.4g}")
    done = [r for _, r, _, _ in rows if r is not None and not np.isnan(r)]
    good = sum(r >= 0.95 for r in done)
    print(f"{good} of {len(done)} implemented features at r >= 0.95 ({len(rows)} in all)")


def compare_essentia(files, trainer):
    mine = ours(files, trainer, "essentia")
    report("essentia", mine, essentia_features(files))


def compare_is13(files, trainer):
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        wavs = []
        for i, f in enumerate(files):
            wav = os.path.join(tmp, f"{i:05d}-{os.path.splitext(os.path.basename(f))[0]}.wav")
            try:
                to_16k_mono(f, wav)
            except sf.LibsndfileError as e:
                print(f"is13: skipping {f}: {e}", file=sys.stderr)
                continue
            wavs.append(wav)
        mine = ours(wavs, trainer, "is13")
        report("is13 (16 kHz mono)", mine, is13_features(wavs))


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
    ap.add_argument("--set", choices=["essentia", "is13", "all"], default="all")
    ap.add_argument("--trainer", default="cargo run --quiet --release -p trainer --")
    args = ap.parse_args()
    files = sorted(os.path.abspath(f) for f in audio_files(args.paths))
    trainer = args.trainer.split()
    if args.set in ("essentia", "all"):
        compare_essentia(files, trainer)
    if args.set in ("is13", "all"):
        compare_is13(files, trainer)


if __name__ == "__main__":
    main()
