//! The low-level descriptors of Essentia's music extractor (`lowlevel.*`) that the MTG
//! recipe keeps (`docs/features-essentia.md` §1): 40 frame-wise ones, each summarised by
//! mean and population stdev, and 4 song-level ones, from mono audio at 44.1 kHz.
//!
//! The audio is first brought to a standard loudness ([`analysis_signal`]). Two frame-wise
//! branches follow, as the extractor has them: the signal itself, and the signal through the
//! ReplayGain equal-loudness filter; each frames the audio and drops its silent frames on its
//! own (§2). The song-level loudness measures are in [`super::loudness`]; EBU R128 reads the
//! audio before the gain.

use super::bands::{Bank, bark};
use super::frames::{Spectrum, frames};
use super::loudness::{
    analysis_signal, average_loudness, dynamic_complexity, ebu_r128, equal_loudness,
};
use super::mean_stdev;
use super::shape::{crest, distribution_shape, entropy, flatness_db, peaks};
use crate::dsp::{BIN_HZ, BINS, ESSENTIA_RATE as RATE, FRAME};
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Values [`features`] returns: 40 frame-wise descriptors × (mean, stdev), 4 song-level.
pub const VALUES: usize = 84;

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
const ERB_NAMES: ShapeNames = [
    "erbbands_crest",
    "erbbands_flatness_db",
    "erbbands_kurtosis",
    "erbbands_skewness",
    "erbbands_spread",
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
    let (mel_bank, erb_bank) = (Bank::mel(), Bank::erb());
    let mut salience = Salience::new();
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
        band_shape(out, BARK_NAMES, &bark(&power));
        band_shape(out, MEL_NAMES, &mel_bank.apply(&power));
        band_shape(out, ERB_NAMES, &erb_bank.apply(&power));

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
        out.push("pitch_salience", salience.of(&mag));
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
        out.push("dissonance", dissonance(&mag));
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

/// Pitch salience: the highest autocorrelation of a magnitude spectrum at lags of 100–5000 Hz,
/// relative to lag 0. The linear autocorrelation comes from one f64 real FFT pair, its length
/// past the spectrum plus the longest lag so nothing wraps: equal to the direct sum to f64
/// rounding, with two 1280-point transforms in place of 228 dot products of about 900 terms.
struct Salience {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// `[SALIENCE_FFT]`: the spectrum, zero-padded; then its autocorrelation (times the length).
    signal: Vec<f64>,
    /// `[SALIENCE_FFT / 2 + 1]`.
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

/// Lags searched, in bins: 100 Hz up to 5000 Hz (exclusive).
const SALIENCE_LAGS: std::ops::Range<usize> =
    (100.0 * BINS as f64 / (RATE / 2.0)) as usize..(5000.0 * BINS as f64 / (RATE / 2.0)) as usize;
/// The FFT's length: 2⁸·5, the first 5-smooth length ≥ `BINS + SALIENCE_LAGS.end - 1`.
const SALIENCE_FFT: usize = 1280;
const _: () = assert!(SALIENCE_FFT >= BINS + SALIENCE_LAGS.end - 1);

impl Salience {
    fn new() -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(SALIENCE_FFT);
        let inverse = planner.plan_fft_inverse(SALIENCE_FFT);
        let scratch =
            vec![Complex::default(); forward.get_scratch_len().max(inverse.get_scratch_len())];
        Salience {
            signal: forward.make_input_vec(),
            spectrum: forward.make_output_vec(),
            forward,
            inverse,
            scratch,
        }
    }

    fn of(&mut self, mag: &[f32]) -> f64 {
        let (head, tail) = self.signal.split_at_mut(mag.len());
        for (d, &m) in head.iter_mut().zip(mag) {
            *d = m as f64;
        }
        tail.fill(0.0);
        self.forward
            .process_with_scratch(&mut self.signal, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized by the plan");
        for c in &mut self.spectrum {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        self.inverse
            .process_with_scratch(&mut self.spectrum, &mut self.signal, &mut self.scratch)
            .expect("buffers sized by the plan");
        let r0 = self.signal[0];
        if r0 == 0.0 {
            return 0.0;
        }
        self.signal[SALIENCE_LAGS]
            .iter()
            .fold(f64::MIN, |m, &r| m.max(r))
            / r0
    }
}

/// Sensory dissonance of the spectral peaks up to 5 kHz: Plomp and Levelt's roughness of
/// each pair of peaks less than 1.18 Bark apart, weighted by their A-weighted loudness.
fn dissonance(mag: &[f32]) -> f64 {
    let peaks: Vec<(f64, f64)> = peaks(mag, 0, 5000.0 / BIN_HZ, 0.0)
        .into_iter()
        .take(100)
        .map(|(bin, a)| {
            let f = bin * BIN_HZ;
            (f, a as f64 * a_weighting(f).powi(2))
        })
        .collect();
    let total: f64 = peaks.iter().map(|p| p.1).sum();
    if total == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0;
    for (i, &(f1, l1)) in peaks.iter().enumerate().filter(|p| p.1.0 > 50.0) {
        let z = hz_to_bark(f1);
        let (lo, hi) = (bark_to_hz(z - 1.18), bark_to_hz(z + 1.18));
        // Below f1 the critical distance grows as the partner's frequency falls (the narrower
        // bandwidth is the partner's, and it shrinks): past the first peak more than 1.18
        // bandwidths away, every lower one adds exactly 0, so the sum starts after it.
        let near = peaks[..i]
            .iter()
            .rposition(|&(f2, _)| critical_distance(f1, f2) > 1.18)
            .map_or(0, |k| k + 1);
        // As in Essentia, only peaks below 50 Hz are skipped on the low side.
        let d: f64 = peaks[near..]
            .iter()
            .skip_while(|p| p.0 < lo && p.0 < 50.0)
            .take_while(|p| p.0 < hi && p.0 < 10_000.0)
            .map(|&(f2, l2)| (1.0 - consonance(f1, f2)).max(0.0) * (l1 + l2) / total)
            .sum();
        sum += d.min(l1 / total);
    }
    sum / 2.0
}

/// The A-weighting curve (+2 dB), as a gain.
fn a_weighting(f: f64) -> f64 {
    let f2 = f * f;
    1.25893 * 12200.0 * 12200.0 * f2 * f2
        / ((f2 + 20.6 * 20.6)
            * (f2 + 12200.0 * 12200.0)
            * (f2 + 107.7 * 107.7).sqrt()
            * (f2 + 737.9 * 737.9).sqrt())
}

/// Traunmüller's Bark scale, with Essentia's corrections at both ends.
fn hz_to_bark(f: f64) -> f64 {
    let b = 26.81 * f / (1960.0 + f) - 0.53;
    if b < 2.0 {
        b + 0.15 * (2.0 - b)
    } else if b > 20.1 {
        b + 0.22 * (b - 20.1)
    } else {
        b
    }
}

fn bark_to_hz(z: f64) -> f64 {
    let z = if z < 2.0 {
        (z - 0.3) / 0.85
    } else if z > 20.1 {
        (z - 4.422) / 1.22
    } else {
        z
    };
    1960.0 * (z + 0.53) / (26.28 - z)
}

/// The distance of two partials in the narrower critical bandwidth of the two.
fn critical_distance(f1: f64, f2: f64) -> f64 {
    let bandwidth = |f: f64| {
        let z = hz_to_bark(f);
        52548.0 / (z * z - 52.56 * z + 690.39)
    };
    (f2 - f1).abs() / bandwidth(f1).min(bandwidth(f2))
}

/// Plomp and Levelt's consonance of two partials (1: none of the roughness), their
/// distance measured in the narrower critical bandwidth of the two.
fn consonance(f1: f64, f2: f64) -> f64 {
    let d = critical_distance(f1, f2);
    if !(0.0..=1.18).contains(&d) {
        return 1.0;
    }
    let p = -6.58977878 * d.powi(5) + 28.58224226 * d.powi(4) - 47.36739986 * d.powi(3)
        + 35.70679761 * d * d
        - 10.36526344 * d
        + 1.00026609;
    p.clamp(0.0, 1.0)
}

/// The frame-wise descriptors of the analysis signal `x`, as series in name order.
pub fn series(x: &[f32]) -> Series {
    let spectrum = Spectrum::default();
    let mut out = Series(Vec::new());
    plain(x, &spectrum, &mut out);
    equal_loudness_branch(x, &spectrum, &mut out);
    out.0.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// The [`VALUES`] values, named `lowlevel.NAME` (song-level) or `lowlevel.NAME.mean` and
/// `.stdev` (frame-wise), in name order, from mono audio at 44.1 kHz at its own level (the
/// gain is applied here). EBU R128 takes it as a stereo signal with the same audio in both
/// channels. Errors, as the extractor does, on audio too quiet for a ReplayGain or with
/// every frame of a branch silent.
pub fn features(mono: &[f32]) -> Result<Vec<(String, f32)>, String> {
    let x = analysis_signal(mono).ok_or("silent: no replay gain")?;
    let ebu = ebu_r128(mono);
    let mut out: Vec<(String, f32)> = [
        ("average_loudness", average_loudness(&x)),
        ("dynamic_complexity", dynamic_complexity(&x)),
        ("loudness_ebu128.integrated", ebu.integrated),
        ("loudness_ebu128.loudness_range", ebu.range),
    ]
    .into_iter()
    .map(|(name, v)| (format!("lowlevel.{name}"), v))
    .collect();
    let mut frame_wise = series(&x).0;
    frame_wise.push(("loudness_ebu128.momentary", ebu.momentary));
    frame_wise.push(("loudness_ebu128.short_term", ebu.short_term));
    for (name, values) in frame_wise {
        if let Some((m, s)) = mean_stdev(&values) {
            out.push((format!("lowlevel.{name}.mean"), m));
            out.push((format!("lowlevel.{name}.stdev"), s));
        }
    }
    if out.len() != VALUES {
        return Err("too quiet to describe: every frame of a branch is silent".into());
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_signals::{bumps, sine};
    use super::*;

    #[test]
    fn pitch_salience_is_the_direct_autocorrelations() {
        let mag = bumps();
        let r = |lag: usize| -> f64 {
            mag[..BINS - lag]
                .iter()
                .zip(&mag[lag..])
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum()
        };
        let want = SALIENCE_LAGS.map(r).fold(f64::MIN, f64::max) / r(0);
        let got = Salience::new().of(&mag);
        assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
        assert_eq!(Salience::new().of(&[0.0; BINS]), 0.0);
    }

    fn get(f: &[(String, f32)], name: &str) -> f32 {
        f.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .1
    }

    #[test]
    fn a_sine_has_its_frequency_and_few_crossings() {
        let f = features(&sine(1000.0, 2.0, 0.5)).unwrap();
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
        // Whatever its level, the gain brings a 1 kHz sine to a mean square of about 0.02:
        // under the "20dB" threshold (0.1), over the "60dB" one (0.001).
        let q = features(&sine(1000.0, 2.0, 0.01)).unwrap();
        assert_eq!(get(&q, "lowlevel.silence_rate_20dB.mean"), 1.0);
        assert_eq!(get(&q, "lowlevel.silence_rate_60dB.mean"), 0.0);
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
        let n = features(&noise).unwrap();
        let t = features(&sine(440.0, 2.0, 0.5)).unwrap();
        for name in [
            "melbands_flatness_db",
            "barkbands_flatness_db",
            "erbbands_flatness_db",
        ] {
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
    fn all_values_in_name_order_and_silence_fails() {
        assert!(features(&vec![0.0; 44_100]).is_err());
        assert!(features(&[]).is_err());
        let f = features(&sine(300.0, 0.5, 0.3)).unwrap();
        let names: Vec<&String> = f.iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(f.len(), VALUES);
        assert_eq!(names[0], "lowlevel.average_loudness");
        assert_eq!(names[26], "lowlevel.loudness_ebu128.integrated");
        assert_eq!(names[83], "lowlevel.zerocrossingrate.stdev");
        assert!(f.iter().all(|(_, v)| v.is_finite()));
    }

    #[test]
    fn ebu_loudness_reads_the_level_before_the_gain() {
        let loud = features(&sine(1000.0, 5.0, 0.1)).unwrap();
        let quiet = features(&sine(1000.0, 5.0, 0.01)).unwrap();
        let key = "lowlevel.loudness_ebu128.integrated";
        assert!((get(&loud, key) - get(&quiet, key) - 20.0).abs() < 0.01);
        let key = "lowlevel.spectral_energy.mean";
        assert!((get(&loud, key) / get(&quiet, key) - 1.0).abs() < 1e-3);
    }

    /// One frame of summed sines, as `numpy` makes it in f64 before the cast.
    fn frame(tones: &[(f64, f64)]) -> Vec<f32> {
        (0..FRAME)
            .map(|i| {
                let t = 2.0 * std::f64::consts::PI * i as f64 / RATE;
                tones.iter().map(|&(f, a)| a * (f * t).sin()).sum::<f64>() as f32
            })
            .collect()
    }

    #[test]
    fn dissonance_matches_essentia() {
        // `Dissonance()(*SpectralPeaks(orderBy="frequency")(spectrum))`, essentia
        // 2.1b6.dev1389, on a made-up spectrum: six bumps on a ripple that makes 31 peaks.
        let made_up = super::super::test_signals::bumps();
        let d = dissonance(&made_up);
        assert!((d - 0.100_449_97).abs() < 1e-6, "{d}");
        assert_eq!(dissonance(&vec![0.0; BINS]), 0.0);

        // On windowed sines. A pure tone is not quite 0: the window's side lobes make two
        // more peaks. Those tiny peaks carry their big neighbours' loudness, so the FFT's
        // rounding (realfft here, FFTW in Essentia) shows in the fifth digit.
        let spectrum = Spectrum::default();
        for (tones, expected) in [
            (&[(1000.0, 0.5)][..], 0.015_878_107),
            (&[(440.0, 0.3), (466.16, 0.3)], 0.499_245_47),
            (&[(440.0, 0.3), (880.0, 0.3)], 0.007_972_589),
            (
                &[(261.63, 0.2), (329.63, 0.2), (392.0, 0.2), (1500.0, 0.05)],
                0.317_224_59,
            ),
        ] {
            let d = dissonance(&spectrum.magnitude(&frame(tones)));
            assert!((d - expected).abs() < 1e-4, "{tones:?}: {d} vs {expected}");
        }
    }
}
