#!/usr/bin/env python3
"""Feature-extraction speed: the references and ours, side by side on the same clips.

Times, one clip at a time and on one thread each:

  opensmile  openSMILE's IS13_ComParE LLDs and deltas in one pass (opensmile-python's
             process_file with the sink reading both levels, channels averaged), at the
             file's own sample rate, plus the 260 means and standard deviations (over the
             frames common to both levels, which is all but the last two delta frames).
  essentia   Essentia's MusicExtractor with the low-level settings of compare-features.py
             (silent frames dropped, 2048/1024, mean and stdev); it computes its whole pool.
  ours       `TRAINER features --set is13|essentia --out /dev/null CLIP`, a process per clip
             (decoding and start-up included) with RAYON_NUM_THREADS=1.

Without CLIPS it writes N synthetic 30 s 44.1 kHz stereo 16-bit clips (deterministic) to a
temporary folder. Every tool first runs once on the first clip, untimed; the table gives the
median over the clips of the seconds per 30 s of audio, and how many times faster than real
time that is. Run it from the repository root after `cargo build --release -p trainer`, or
leave ours out with --tools. Outside CI: it needs the references from PyPI.

    python3 -m venv .venv
    .venv/bin/pip install essentia==2.1b6.dev1389 opensmile==2.6.0 numpy soundfile
    .venv/bin/python scripts/bench-features.py [CLIPS...] [-n N] [--tools opensmile,essentia,ours]
        [--trainer PATH]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

FS = 44100
CLIP_S = 30.0


def synthetic_clip(path, seed):
    """Chords of harmonic tones, a noise-burst beat and a noise floor, panned differently per channel."""
    rng = np.random.default_rng(seed)
    n = int(CLIP_S * FS)
    t = np.arange(n) / FS
    chord_s = 2.0
    roots = 110.0 * 2 ** (rng.integers(0, 12, int(CLIP_S / chord_s)) / 12)
    f0 = np.repeat(roots, int(chord_s * FS))[:n]
    left = np.zeros(n)
    right = np.zeros(n)
    for ratio, pan in ((1.0, 0.3), (1.26, 0.5), (1.5, 0.7)):
        phase = 2 * np.pi * np.cumsum(f0 * ratio) / FS
        voice = sum(np.sin(h * phase) / h for h in range(1, 7))
        left += (1 - pan) * voice
        right += pan * voice
    beat_s = 60 / rng.uniform(80, 140)
    since_beat = t % beat_s
    beat = rng.normal(0, 1, n) * np.exp(-since_beat / 0.03)
    x = np.stack([left + 2 * beat, right + 2 * beat], axis=1) + rng.normal(0, 0.02, (n, 2))
    sf.write(path, 0.7 * x / np.abs(x).max(), FS, subtype="PCM_16")


def opensmile_runner():
    import opensmile

    by_channels = {}  # opensmile-python reads channel 0 alone unless every channel is named

    def run(clip):
        n = sf.info(clip).channels
        if n not in by_channels:
            by_channels[n] = opensmile.Smile(
                feature_set=opensmile.FeatureSet.IS13,
                feature_level="lld;lld_de",
                channels=list(range(n)),
                mixdown=True,
            )
        frames = by_channels[n].process_file(clip).to_numpy(np.float64)
        return np.concatenate([frames.std(axis=0), frames.mean(axis=0)])

    return run


def essentia_runner():
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    return es.MusicExtractor(
        lowlevelSilentFrames="drop",
        lowlevelFrameSize=2048,
        lowlevelHopSize=1024,
        lowlevelStats=["mean", "stdev"],
    )


def ours_runner(trainer, feature_set):
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}

    def run(clip):
        command = [*trainer, "features", "--set", feature_set, "--out", os.devnull, clip]
        subprocess.run(command, check=True, env=env)

    return run


def seconds_per_clip(run, clips, durations):
    run(clips[0])
    per_30s = []
    for clip, duration in zip(clips, durations):
        start = time.perf_counter()
        run(clip)
        per_30s.append((time.perf_counter() - start) * CLIP_S / duration)
    return statistics.median(per_30s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="*")
    ap.add_argument("-n", type=int, default=5, help="synthetic clips to make when none are given")
    ap.add_argument("--tools", default="opensmile,essentia,ours", help="comma-separated subset to time")
    ap.add_argument("--trainer", default="target/release/trainer", help="command that runs ours")
    args = ap.parse_args()
    tools = set(args.tools.split(","))
    trainer = args.trainer.split()
    with tempfile.TemporaryDirectory() as tmp:
        clips = args.clips
        if not clips:
            clips = [os.path.join(tmp, f"clip{i}.wav") for i in range(args.n)]
            for i, clip in enumerate(clips):
                synthetic_clip(clip, seed=i)
        durations = [sf.info(c).duration for c in clips]
        rows = []
        for key, tool, feature_set, make in (
            ("opensmile", "openSMILE (opensmile-python)", "IS13 LLD + deltas", opensmile_runner),
            ("essentia", "Essentia MusicExtractor", "whole pool, lowlevel 2048/1024", essentia_runner),
            ("ours", "ours", "is13", lambda: ours_runner(trainer, "is13")),
            ("ours", "ours", "essentia", lambda: ours_runner(trainer, "essentia")),
        ):
            if key not in tools:
                continue
            print(f"timing {tool}, {feature_set} ...", file=sys.stderr)
            rows.append((tool, feature_set, seconds_per_clip(make(), clips, durations)))

    print(f"\n{len(clips)} clips, median after one warm-up, one thread each\n")
    print("| tool | set | s per 30 s clip | × real time |")
    print("|---|---|---:|---:|")
    for tool, feature_set, s in rows:
        print(f"| {tool} | {feature_set} | {s:.3f} | {CLIP_S / s:.0f} |")


if __name__ == "__main__":
    main()
