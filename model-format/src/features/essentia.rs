//! Frame-wise low-level descriptors of Essentia's music extractor (`lowlevel.*`), each
//! summarised by mean and population stdev, on mono audio at 44.1 kHz.
//!
//! Two branches, as the extractor has them: the signal itself, and the signal through the
//! ReplayGain equal-loudness filter; each frames the audio and drops its silent frames on its
//! own (`docs/features-essentia.md` §2). The input is first brought to a standard loudness
//! by [`analysis_signal`]. Still to come (see the issue): `dissonance`, the ERB bands,
//! `average_loudness`, `dynamic_complexity` and `loudness_ebu128.*`.

use super::frames::{BINS, FRAME, Spectrum, frames};
use super::mean_stdev;
use super::shape::{crest, distribution_shape, entropy, flatness_db, peaks};
use crate::sincnet::sinc::{to_hz as mel_to_hz, to_mel as mel};

/// Descriptors computed so far (each gives a mean and a stdev).
pub const DESCRIPTORS: usize = 32;
/// The rate the descriptors are defined at.
pub const RATE: f64 = 44_100.0;
/// Hz per spectrum bin.
const BIN_HZ: f64 = RATE / FRAME as f64;

/// Bark band edges in Hz (27 bands; the 27 kHz edge is above Nyquist).
const BARK_EDGES: [f64; 28] = [
    0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 510.0, 630.0, 770.0, 920.0, 1080.0, 1270.0,
    1480.0, 1720.0, 2000.0, 2320.0, 2700.0, 3150.0, 3700.0, 4400.0, 5300.0, 6400.0, 7700.0, 9500.0,
    12000.0, 15500.0, 20500.0,
];

/// The equal-loudness filter: a 10th-order Yule-Walk IIR, then a 2nd-order Butterworth
/// high-pass at about 150 Hz (44.1 kHz coefficients, `a0 = 1`).
const YULE_B: [f64; 11] = [
    0.05418656406430,
    -0.02911007808948,
    -0.00848709379851,
    -0.00851165645469,
    -0.00834990904936,
    0.02245293253339,
    -0.02596338512915,
    0.01624864962975,
    -0.00240879051584,
    0.00674613682247,
    -0.00187763777362,
];
const YULE_A: [f64; 11] = [
    1.0,
    -3.47845948550071,
    6.36317777566148,
    -8.54751527471874,
    9.47693607801280,
    -8.81498681370155,
    6.85401540936998,
    -4.39470996079559,
    2.19611684890774,
    -0.75104302451432,
    0.13149317958808,
];
const BUTTER_B: [f64; 3] = [0.98500175787242, -1.97000351574484, 0.98500175787242];
const BUTTER_A: [f64; 3] = [1.0, -1.96977855582618, 0.97022847566350];

/// Direct-form-II-transposed IIR filter from a zero state, in f32 as Essentia runs it.
fn iir(b: &[f64], a: &[f64], x: &[f32]) -> Vec<f32> {
    let b: Vec<f32> = b.iter().map(|&v| v as f32).collect();
    let a: Vec<f32> = a.iter().map(|&v| v as f32).collect();
    let mut z = vec![0f32; b.len()];
    x.iter()
        .map(|&v| {
            let y = b[0] * v + z[0];
            for k in 1..b.len() {
                z[k - 1] = b[k] * v + z[k] - a[k] * y;
            }
            y
        })
        .collect()
}

/// The ReplayGain equal-loudness curve applied to `x`.
pub fn equal_loudness(x: &[f32]) -> Vec<f32> {
    iir(&BUTTER_B, &BUTTER_A, &iir(&YULE_B, &YULE_A, x))
}

/// The extractor's analysis signal: mono audio at 44.1 kHz scaled by its ReplayGain plus a
/// 6 dB pre-amplification, then clipped to ±1. `None` for audio too quiet to have a gain (the
/// extractor rejects it as silent).
pub fn analysis_signal(mono: &[f32]) -> Option<Vec<f32>> {
    let gain_db = replay_gain(mono)?;
    let g = 10f32.powf((gain_db as f32 + 6.0) / 20.0);
    Some(mono.iter().map(|&v| (v * g).clamp(-1.0, 1.0)).collect())
}

/// ReplayGain in dB: the 95th percentile of the mean square of 50 ms blocks of the
/// equal-loudness-filtered signal, against the reference level. `None` above 40 dB.
pub fn replay_gain(mono: &[f32]) -> Option<f64> {
    let y = equal_loudness(mono);
    let block = (0.05 * RATE) as usize;
    let mut powers: Vec<f64> = y
        .chunks(block)
        .map(|c| c.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / block as f64)
        .collect();
    if powers.is_empty() {
        return None;
    }
    powers.sort_by(f64::total_cmp);
    let p = powers[((0.95 * powers.len() as f64) as usize).min(powers.len() - 1)];
    let level = if p < 1e-10 { -100.0 } else { 10.0 * p.log10() };
    let gain = -31.462_667_465_209_96 - level;
    (gain <= 40.0).then_some(gain)
}

/// 40 HTK mel triangles from 0 to 11 kHz, linear in mel, each normalised to unit sum over
/// its bins: `(first bin, weights)` per band.
fn mel_filters() -> Vec<(usize, Vec<f64>)> {
    let top = mel(11_000.0);
    let edges: Vec<f64> = (0..42).map(|i| mel_to_hz(i as f64 * top / 41.0)).collect();
    (0..40)
        .map(|i| {
            let (lo, mid, hi) = (edges[i], edges[i + 1], edges[i + 2]);
            let first = (lo / BIN_HZ).ceil() as usize;
            let last = ((hi / BIN_HZ).floor() as usize).min(BINS - 1);
            let w: Vec<f64> = (first..=last)
                .map(|k| {
                    let m = mel(k as f64 * BIN_HZ);
                    if k as f64 * BIN_HZ < mid {
                        (m - mel(lo)) / (mel(mid) - mel(lo))
                    } else {
                        (mel(hi) - m) / (mel(hi) - mel(mid))
                    }
                    .max(0.0)
                })
                .collect();
            let sum: f64 = w.iter().sum();
            (
                first,
                w.iter()
                    .map(|v| if sum > 0.0 { v / sum } else { 0.0 })
                    .collect(),
            )
        })
        .collect()
}

/// Sum of `power[k]` over `k1..=k2` for the band `f1..f2` Hz (both ends rounded, inclusive).
fn energy_band(power: &[f32], f1: f64, f2: f64) -> f32 {
    let k = |f: f64| ((f / BIN_HZ) + 0.5) as usize;
    power[k(f1)..=k(f2).min(BINS - 1)].iter().sum()
}

/// The frame-wise series, by descriptor name.
pub struct Series(pub Vec<(&'static str, Vec<f32>)>);

impl Series {
    fn push(&mut self, name: &'static str, v: f64) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => s.push(v as f32),
            None => self.0.push((name, vec![v as f32])),
        }
    }
}

/// Names of the shape statistics of a band vector: crest, flatness, kurtosis, skewness,
/// spread.
type ShapeNames = [&'static str; 5];
const BARK_NAMES: ShapeNames = [
    "barkbands_crest",
    "barkbands_flatness_db",
    "barkbands_kurtosis",
    "barkbands_skewness",
    "barkbands_spread",
];
const MEL_NAMES: ShapeNames = [
    "melbands_crest",
    "melbands_flatness_db",
    "melbands_kurtosis",
    "melbands_skewness",
    "melbands_spread",
];

/// Shape of a band vector, positions being band indices.
fn band_shape(out: &mut Series, names: ShapeNames, bands: &[f32]) {
    let (spread, skew, kurt) = distribution_shape(bands, 1.0);
    for (name, v) in names
        .into_iter()
        .zip([crest(bands), flatness_db(bands), kurt, skew, spread])
    {
        out.push(name, v);
    }
}

/// Descriptors of the plain branch, frame by frame.
fn plain(x: &[f32], spectrum: &Spectrum, out: &mut Series) {
    let mel_bank = mel_filters();
    let mut previous = vec![0f32; BINS];
    for f in frames(x) {
        let power_t = f.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / FRAME as f64;
        for (name, theta) in [
            ("silence_rate_20dB", 0.1),
            ("silence_rate_30dB", 0.031_622_777),
            ("silence_rate_60dB", 0.001),
        ] {
            out.push(name, f64::from(u8::from(power_t < theta)));
        }
        let crossings = f
            .windows(2)
            .filter(|w| (w[0] > 0.0) != (w[1] > 0.0))
            .count();
        out.push("zerocrossingrate", crossings as f64 / FRAME as f64);

        let mag = spectrum.magnitude(&f);
        let power: Vec<f32> = mag.iter().map(|v| v * v).collect();
        let bark: Vec<f32> = BARK_EDGES
            .windows(2)
            .map(|e| {
                let k = |f: f64| (((f / BIN_HZ) + 0.5) as usize).min(BINS);
                power[k(e[0])..k(e[1])].iter().sum()
            })
            .collect();
        band_shape(out, BARK_NAMES, &bark);
        let mels: Vec<f32> = mel_bank
            .iter()
            .map(|(first, w)| {
                w.iter()
                    .enumerate()
                    .map(|(i, &wi)| power[first + i] as f64 * wi)
                    .sum::<f64>() as f32
            })
            .collect();
        band_shape(out, MEL_NAMES, &mels);

        let energy: f64 = power.iter().map(|&p| p as f64).sum();
        out.push("spectral_energy", energy);
        out.push("spectral_rms", (energy / BINS as f64).sqrt());
        // Least-squares slope of power against frequency.
        let mean_p = energy / BINS as f64;
        let centre = RATE / 4.0;
        let (mut num, mut den) = (0.0, 0.0);
        for (k, &p) in power.iter().enumerate() {
            let dx = k as f64 * BIN_HZ - centre;
            num += dx * (p as f64 - mean_p);
            den += dx * dx;
        }
        out.push("spectral_decrease", num / den);
        let mut acc = 0.0;
        let rolloff = power
            .iter()
            .position(|&p| {
                acc += p as f64;
                acc >= 0.85 * energy
            })
            .filter(|_| energy > 0.0)
            .unwrap_or(0);
        out.push("spectral_rolloff", rolloff as f64 * BIN_HZ);
        for (name, f1, f2) in [
            ("spectral_energyband_high", 4000.0, 20000.0),
            ("spectral_energyband_low", 20.0, 150.0),
            ("spectral_energyband_middle_high", 800.0, 4000.0),
            ("spectral_energyband_middle_low", 150.0, 800.0),
        ] {
            out.push(name, energy_band(&power, f1, f2) as f64);
        }
        let hfc: f64 = power
            .iter()
            .enumerate()
            .map(|(k, &p)| k as f64 * BIN_HZ * p as f64)
            .sum();
        out.push("hfc", hfc);
        let flux: f64 = mag
            .iter()
            .zip(&previous)
            .map(|(&a, &b)| ((a - b) as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        out.push("spectral_flux", flux);
        out.push("spectral_strongpeak", strong_peak(&mag));
        let from = (100.0 / BIN_HZ).ceil() as usize;
        let count = peaks(&mag, from, 5000.0 / BIN_HZ, 0.005).len().min(100);
        out.push("spectral_complexity", count as f64);
        out.push("pitch_salience", pitch_salience(&mag));
        previous = mag;
    }
}

/// Descriptors of the equal-loudness branch, frame by frame.
fn equal_loudness_branch(x: &[f32], spectrum: &Spectrum, out: &mut Series) {
    for f in frames(&equal_loudness(x)) {
        let mag = spectrum.magnitude(&f);
        let power_sum: f64 = mag.iter().map(|&v| (v as f64).powi(2)).sum();
        let centroid = if power_sum > 0.0 {
            mag.iter()
                .enumerate()
                .map(|(k, &v)| k as f64 * (v as f64).powi(2))
                .sum::<f64>()
                / power_sum
                * BIN_HZ
        } else {
            0.0
        };
        out.push("spectral_centroid", centroid);
        let (spread, skew, kurt) = distribution_shape(&mag, BIN_HZ);
        out.push("spectral_entropy", entropy(&mag));
        out.push("spectral_kurtosis", kurt);
        out.push("spectral_skewness", skew);
        out.push("spectral_spread", spread);
    }
}

/// The highest bin's value over the log-ratio of its half-height band's edges (0 when the
/// band reaches bin 0).
fn strong_peak(mag: &[f32]) -> f64 {
    let (mut k, mut max, mut min) = (0, f32::MIN, f32::MAX);
    for (i, &v) in mag.iter().enumerate() {
        if v > max {
            (k, max) = (i, v);
        }
        min = min.min(v);
    }
    if max == min {
        return 0.0;
    }
    let half = max / 2.0;
    let mut l = k;
    while l > 0 && mag[l - 1] >= half {
        l -= 1;
    }
    let mut r = k + 1;
    while r < mag.len() && mag[r] >= half {
        r += 1;
    }
    if l == 0 {
        return 0.0;
    }
    max as f64 / (r as f64 / l as f64).log10()
}

/// Highest autocorrelation of the magnitude spectrum at lags of 100–5000 Hz, relative to
/// lag 0.
fn pitch_salience(mag: &[f32]) -> f64 {
    let r = |lag: usize| -> f64 {
        mag.iter()
            .zip(&mag[lag..])
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum()
    };
    let r0 = r(0);
    if r0 == 0.0 {
        return 0.0;
    }
    let lo = (100.0 * BINS as f64 / (RATE / 2.0)) as usize;
    let hi = (5000.0 * BINS as f64 / (RATE / 2.0)) as usize;
    (lo..hi).map(r).fold(f64::MIN, f64::max) / r0
}

/// Every frame-wise descriptor implemented so far, as series.
pub fn series(x: &[f32]) -> Series {
    let spectrum = Spectrum::default();
    let mut out = Series(Vec::new());
    plain(x, &spectrum, &mut out);
    equal_loudness_branch(x, &spectrum, &mut out);
    out.0.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// `lowlevel.NAME.mean` and `.stdev` of every descriptor, in name order. Empty when every
/// frame is silent.
pub fn features(x: &[f32]) -> Vec<(String, f32)> {
    let mut out = Vec::new();
    for (name, values) in series(x).0 {
        if let Some((m, s)) = mean_stdev(&values) {
            out.push((format!("lowlevel.{name}.mean"), m));
            out.push((format!("lowlevel.{name}.stdev"), s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f64, seconds: f64, amp: f32) -> Vec<f32> {
        (0..(seconds * RATE) as usize)
            .map(|i| amp * (2.0 * std::f64::consts::PI * hz * i as f64 / RATE).sin() as f32)
            .collect()
    }

    fn get(f: &[(String, f32)], name: &str) -> f32 {
        f.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .1
    }

    #[test]
    fn a_sine_has_its_frequency_and_few_crossings() {
        let f = features(&sine(1000.0, 2.0, 0.5));
        let centroid = get(&f, "lowlevel.spectral_centroid.mean");
        assert!((centroid - 1000.0).abs() < 30.0, "{centroid}");
        let zcr = get(&f, "lowlevel.zerocrossingrate.mean");
        // Two crossings per period: 2000 / 44100 per sample, less the zero-padded edges.
        assert!((zcr - 2000.0 / 44100.0).abs() < 0.01, "{zcr}");
        // One peak per frame, but for the zero-padded edge frames.
        let complexity = get(&f, "lowlevel.spectral_complexity.mean");
        assert!((complexity - 1.0).abs() < 0.05, "{complexity}");
        assert!(
            get(&f, "lowlevel.spectral_energyband_middle_high.mean")
                > 100.0 * get(&f, "lowlevel.spectral_energyband_high.mean")
        );
        // Mean square 0.005: under the "20dB" threshold (0.1), over the "60dB" one (0.001).
        let q = features(&sine(1000.0, 2.0, 0.1));
        assert_eq!(get(&q, "lowlevel.silence_rate_20dB.mean"), 1.0);
        // (but for the half-empty edge frames)
        assert!(get(&q, "lowlevel.silence_rate_60dB.mean") < 0.05);
    }

    #[test]
    fn noise_is_flatter_and_richer_than_a_tone() {
        let mut state = 1u32;
        let noise: Vec<f32> = (0..2 * RATE as usize)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 24) as f32 - 0.5
            })
            .collect();
        let n = features(&noise);
        let t = features(&sine(440.0, 2.0, 0.5));
        for name in ["melbands_flatness_db", "barkbands_flatness_db"] {
            let key = format!("lowlevel.{name}.mean");
            assert!(
                get(&n, &key) < get(&t, &key),
                "{name}: flatter means nearer 0"
            );
        }
        assert!(
            get(&n, "lowlevel.spectral_entropy.mean") > get(&t, "lowlevel.spectral_entropy.mean")
        );
        assert!(get(&n, "lowlevel.zerocrossingrate.mean") > 0.3);
    }

    #[test]
    fn replay_gain_levels_loud_and_quiet_alike() {
        let loud = analysis_signal(&sine(1000.0, 1.0, 0.5)).unwrap();
        let quiet = analysis_signal(&sine(1000.0, 1.0, 0.05)).unwrap();
        let peak = |x: &[f32]| x.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak(&loud) - peak(&quiet)).abs() < 1e-3 * peak(&loud));
        assert!(
            analysis_signal(&vec![0.0; 44_100]).is_none(),
            "silence has no gain"
        );
    }

    #[test]
    fn silence_gives_nothing_and_names_are_sorted() {
        assert!(features(&vec![0.0; 44_100]).is_empty());
        let f = features(&sine(300.0, 0.5, 0.3));
        let names: Vec<&String> = f.iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(f.len(), 2 * DESCRIPTORS);
        assert!(f.iter().all(|(_, v)| v.is_finite()));
    }

    #[test]
    fn equal_loudness_matches_essentia() {
        // Settled peak of 0.5-amplitude sines through `essentia.standard.EqualLoudness()`
        // (essentia 2.1b6.dev1389): 0.023525909 at 50 Hz, 0.19215009 at 1 kHz.
        let peak = |hz: f64| {
            let y = equal_loudness(&sine(hz, 1.0, 0.5));
            y[22_050..].iter().fold(0f32, |m, v| m.max(v.abs()))
        };
        assert!((peak(50.0) - 0.023_525_909).abs() < 1e-6, "{}", peak(50.0));
        assert!(
            (peak(1000.0) - 0.192_150_09).abs() < 1e-5,
            "{}",
            peak(1000.0)
        );
    }
}
