//! Chain A descriptors of one 20 ms Hamming frame's magnitude spectrum (spec §4.3–§5): the
//! auditory spectrum and its RASTA-filtered bands, the spectral shape, and MFCC 1–14.

use crate::dsp::{hz_to_mel as mel, mel_to_hz};

/// Names of the spectral descriptors (after `pcm_fftMag_`), in output order.
pub const SPECTRAL_NAMES: [&str; 15] = [
    "fband250-650",
    "fband1000-4000",
    "spectralRollOff25.0",
    "spectralRollOff50.0",
    "spectralRollOff75.0",
    "spectralRollOff90.0",
    "spectralFlux",
    "spectralCentroid",
    "spectralEntropy",
    "spectralVariance",
    "spectralSkewness",
    "spectralKurtosis",
    "spectralSlope",
    "psySharpness",
    "spectralHarmonicity",
];
const BANDS: usize = 26;
const MFCCS: usize = 14;
/// Values per frame: the two band means, 26 RASTA bands, 15 spectral, 14 MFCC.
pub const VALUES: usize = 2 + BANDS + SPECTRAL_NAMES.len() + MFCCS;
/// Floor of the mel power bands before the auditory spectrum.
const MEL_FLOOR: f64 = 9.3e-10;
/// HTK's sample scale, squared (the MFCC mel bank's `htkcompatible`).
const HTK_SCALE2: f64 = 32767.0 * 32767.0;
const COMPRESSION: f64 = 0.33;

/// openSMILE's equal-loudness weight (its `w⁷` term included).
pub fn equal_loudness(f: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f;
    let w2 = w * w;
    1e32 * (w2 + 56.8e6) * w2 * w2 / ((w2 + 6.3e6).powi(2) * (w2 + 0.38e9) * (w.powi(7) + 1.7e31))
}

/// Triangular mel filters, 26 bands from 20 Hz to 8 kHz: `(bin, band, weight)` triples.
fn mel_bank(fs: f64, nfft: usize) -> (Vec<(usize, usize, f64)>, [f64; BANDS]) {
    let df = fs / nfft as f64;
    let (lo, hi) = (20.0, 8000f64.min(fs / 2.0));
    let c: Vec<f64> = (0..BANDS + 2)
        .map(|m| mel(lo) + m as f64 * (mel(hi) - mel(lo)) / (BANDS + 1) as f64)
        .collect();
    let mut weights = Vec::new();
    let (first, last) = ((lo / df).round() as usize, (hi / df).round() as usize);
    for k in first + 1..last {
        let m = mel(k as f64 * df);
        let Some(j) = (0..BANDS + 1).find(|&j| m > c[j] && m <= c[j + 1]) else {
            continue;
        };
        let down = (c[j + 1] - m) / (c[j + 1] - c[j]);
        if j >= 1 {
            weights.push((k, j - 1, down));
        }
        if j < BANDS {
            weights.push((k, j, 1.0 - down));
        }
    }
    let centres = std::array::from_fn(|b| mel_to_hz(c[b + 1]));
    (weights, centres)
}

/// The RASTA band-pass over time (1–29 Hz at a 10 ms frame period) of one band, with its
/// late-starting feedback and first five outputs forced to 0 (spec §4.3).
#[derive(Clone, Default)]
struct Rasta {
    /// The last four inputs, newest first.
    past: [f64; 4],
    out: f64,
    frame: usize,
}

impl Rasta {
    const B: [f64; 5] = [
        0.200_209_397,
        0.099_580_105,
        0.0,
        -0.099_580_105,
        -0.200_209_397,
    ];
    const A: f64 = 0.937_209_480;

    fn step(&mut self, y: f64) -> f64 {
        let mut r = Self::B[0] * y;
        for (b, p) in Self::B[1..].iter().zip(&self.past) {
            r += b * p;
        }
        if self.frame >= 6 {
            r += Self::A * self.out;
        }
        self.past.rotate_right(1);
        self.past[0] = y;
        self.out = r;
        self.frame += 1;
        if self.frame > 5 { r } else { 0.0 }
    }
}

/// The chain A state across frames: filterbank, RASTA filters, previous spectrum (for flux).
pub struct ChainA {
    bank: Vec<(usize, usize, f64)>,
    /// DCT-II rows for MFCC 1–14, lifter and scale included: `[14][26]`.
    dct: Vec<[f64; BANDS]>,
    /// `z·g(z)` of each bin's Bark value (the sharpness weighting).
    sharpness: Vec<f64>,
    /// `ln EQL` at each band centre.
    log_eql: [f64; BANDS],
    rasta: Vec<Rasta>,
    previous: Option<Vec<f32>>,
    df: f64,
}

impl ChainA {
    /// A fresh chain for frames at `fs` Hz, FFT size `nfft`: its filterbank, DCT rows and
    /// weightings, with empty RASTA and flux state.
    pub fn new(fs: f64, nfft: usize) -> Self {
        let (bank, centres) = mel_bank(fs, nfft);
        let df = fs / nfft as f64;
        ChainA {
            bank,
            dct: dct_rows(),
            sharpness: (0..=nfft / 2)
                .map(|k| {
                    let z = bark(k as f64 * df);
                    let g = if z <= 16.0 {
                        1.0
                    } else {
                        ((z - 16.0) / 4.0).powf(1.584_962_5) + 1.0
                    };
                    z * g
                })
                .collect(),
            log_eql: centres.map(|f| equal_loudness(f).ln()),
            rasta: vec![Rasta::default(); BANDS],
            previous: None,
            df,
        }
    }

    /// The frame's [`VALUES`] values from its magnitude spectrum `m` (`nfft/2 + 1` bins):
    /// auditory band mean, RASTA band mean, 26 RASTA bands, the spectral descriptors, MFCC.
    pub fn frame(&mut self, m: &[f32]) -> Vec<f32> {
        let p: Vec<f64> = m.iter().map(|&v| (v as f64).powi(2)).collect();
        let mut e = [0f64; BANDS];
        for &(k, b, w) in &self.bank {
            e[b] += w * p[k];
        }
        let mut out = Vec::with_capacity(VALUES);
        let aud: f64 = e
            .iter()
            .zip(&self.log_eql)
            .map(|(&e, &l)| (e.max(MEL_FLOOR).ln() + l) * COMPRESSION)
            .map(f64::exp)
            .sum();
        let rasta: Vec<f64> = e
            .iter()
            .zip(&mut self.rasta)
            .zip(&self.log_eql)
            .map(|((&e, r), &l)| (COMPRESSION * (r.step(e.max(MEL_FLOOR).ln()) + l)).exp())
            .collect();
        out.push((aud / BANDS as f64) as f32);
        out.push((rasta.iter().sum::<f64>() / BANDS as f64) as f32);
        out.extend(rasta.iter().map(|&v| v as f32));
        let previous = self.previous.replace(m.to_vec());
        out.extend(spectral(
            &p,
            m,
            previous.as_deref(),
            self.df,
            &self.sharpness,
        ));
        out.extend(mfcc(&e, &self.dct));
        debug_assert_eq!(out.len(), VALUES);
        out
    }
}

/// The MFCC transform: DCT-II with HTK's `sqrt(2/26)` scale and the sinusoidal lifter 22.
fn dct_rows() -> Vec<[f64; BANDS]> {
    let n = BANDS as f64;
    let pi = std::f64::consts::PI;
    (1..=MFCCS)
        .map(|i| {
            let i = i as f64;
            let scale = (2.0 / n).sqrt() * (1.0 + 11.0 * (pi * i / 22.0).sin());
            std::array::from_fn(|m| scale * (pi * i * (m as f64 + 0.5) / n).cos())
        })
        .collect()
}

/// MFCC 1–14 of the mel power bands (HTK-scaled, log with floor 1).
fn mfcc(e: &[f64; BANDS], dct: &[[f64; BANDS]]) -> Vec<f32> {
    let log = e.map(|v| (v * HTK_SCALE2).max(1.0).ln());
    dct.iter()
        .map(|row| row.iter().zip(&log).map(|(c, l)| c * l).sum::<f64>() as f32)
        .collect()
}

/// Bark (Traunmüller with corrections).
fn bark(f: f64) -> f64 {
    if f <= 0.0 {
        return 0.0;
    }
    let z = 26.81 / (1.0 + 1960.0 / f) - 0.53;
    if z < 2.0 {
        0.85 * z + 0.3
    } else if z > 20.1 {
        1.22 * z - 0.22 * 20.1
    } else {
        z
    }
}

/// Mean power per bin of the band `lo..hi` Hz, edge bins weighted by their overlap.
fn band_energy(p: &[f64], df: f64, lo: f64, hi: f64) -> f64 {
    let f = |k: usize| k as f64 * df;
    let i = (0..p.len()).find(|&k| f(k) > lo).unwrap_or(p.len() - 1);
    let (il, mut wl) = (i.saturating_sub(1), (f(i) - lo) / df);
    let j = (0..p.len()).find(|&k| f(k) >= hi).unwrap_or(p.len() - 1);
    let (ir, mut wr) = if f(j) == hi {
        (j, 1.0)
    } else {
        (j - 1, (hi - f(j - 1)) / df)
    };
    if wl == 0.0 {
        wl = 1.0;
    }
    if wr == 0.0 {
        wr = 1.0;
    }
    let inner: f64 = p[il + 1..ir].iter().sum();
    (wl * p[il] + inner + wr * p[ir]) / (p.len() - 1) as f64
}

/// `cSpectral`'s 15 descriptors over bins 1..K (power `p`, magnitude `m`).
fn spectral(
    p: &[f64],
    m: &[f32],
    previous: Option<&[f32]>,
    df: f64,
    sharpness_weight: &[f64],
) -> Vec<f32> {
    let k_all = 1..p.len();
    let n_bins = (p.len() - 1) as f64;
    let f = |k: usize| k as f64 * df;
    let s: f64 = p[1..].iter().sum();
    let mut out = vec![
        band_energy(p, df, 250.0, 650.0),
        band_energy(p, df, 1000.0, 4000.0),
    ];
    for r in [0.25, 0.5, 0.75, 0.9] {
        let mut acc = 0.0;
        let k = k_all
            .clone()
            .find(|&k| {
                acc += p[k];
                acc >= r * s
            })
            .unwrap_or(0);
        out.push(f(k));
    }
    out.push(match previous {
        Some(prev) => (k_all
            .clone()
            .map(|k| (m[k] as f64 - prev[k] as f64).powi(2))
            .sum::<f64>()
            / n_bins)
            .sqrt(),
        None => 0.0,
    });
    let centroid = if s > 0.0 {
        k_all.clone().map(|k| f(k) * p[k]).sum::<f64>() / s
    } else {
        0.0
    };
    out.push(centroid);
    let d = s.max(1e-7);
    out.push(
        -k_all
            .clone()
            .map(|k| {
                let q = p[k].max(1e-7) / d;
                q * q.log2()
            })
            .sum::<f64>(),
    );
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    if s > 0.0 {
        for k in k_all.clone() {
            let d = f(k) - centroid;
            let d2 = d * d;
            m2 += d2 * p[k];
            m3 += d2 * d * p[k];
            m4 += d2 * d2 * p[k];
        }
        (m2, m3, m4) = (m2 / s, m3 / s, m4 / s);
    }
    let var = m2;
    out.push(var);
    let (skew, kurt) = if var > 0.0 {
        (m3 / (var * var.sqrt()), m4 / (var * var))
    } else {
        (0.0, 0.0)
    };
    out.push(skew);
    out.push(kurt);
    let (sf, sp, sff, sfp) = k_all.clone().fold((0.0, 0.0, 0.0, 0.0), |a, k| {
        (a.0 + f(k), a.1 + p[k], a.2 + f(k) * f(k), a.3 + f(k) * p[k])
    });
    let slope = (n_bins * sfp - sf * sp) / (n_bins * sff - sf * sf);
    out.push(slope * (n_bins - 1.0));
    let sharpness = if s > 0.0 {
        k_all
            .clone()
            .map(|k| sharpness_weight[k] * p[k])
            .sum::<f64>()
            * 0.11
            / s
    } else {
        0.0
    };
    out.push(sharpness);
    out.push(harmonicity(p) / n_bins);
    out.into_iter().map(|v| v as f32).collect()
}

/// Half the summed rises and falls between consecutive strict ±2-bin extrema of `p`, over
/// bins 3..K−2.
fn harmonicity(p: &[f64]) -> f64 {
    let mut previous: Option<f64> = None;
    let mut sum = 0.0;
    for k in 3..p.len() - 2 {
        let v = p[k];
        let around = [p[k - 2], p[k - 1], p[k + 1], p[k + 2]];
        let extremum = around.iter().all(|&a| v > a) || around.iter().all(|&a| v < a);
        if extremum {
            if let Some(prev) = previous {
                sum += (v - prev).abs();
            }
            previous = Some(v);
        }
    }
    sum / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_loudness_as_the_spec_tabulates() {
        assert!((equal_loudness(89.61) - 0.00203).abs() < 2e-5);
        assert!((equal_loudness(3457.87) - 3.134).abs() < 2e-3);
        assert!((equal_loudness(7233.01) - 0.207).abs() < 2e-3);
    }

    #[test]
    fn mel_bank_spans_bins_2_to_255_with_the_spec_centres() {
        let (w, c) = mel_bank(16_000.0, 512);
        assert_eq!(w.iter().map(|t| t.0).min(), Some(2));
        assert_eq!(w.iter().map(|t| t.0).max(), Some(255));
        assert!((c[0] - 89.61).abs() < 0.01 && (c[25] - 7233.01).abs() < 0.01);
        // Every interior bin's two weights sum to 1.
        let sum: f64 = w.iter().filter(|t| t.0 == 100).map(|t| t.2).sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn band_edges_weighted_as_opensmile() {
        let p: Vec<f64> = (0..257).map(|k| k as f64).collect();
        let want = (8.0 + (9..20).sum::<usize>() as f64 + 0.8 * 20.0) / 256.0;
        assert!((band_energy(&p, 31.25, 250.0, 650.0) - want).abs() < 1e-12);
        let want = (32..=128).sum::<usize>() as f64 / 256.0;
        assert!((band_energy(&p, 31.25, 1000.0, 4000.0) - want).abs() < 1e-12);
    }

    #[test]
    fn rasta_is_silent_for_five_frames_then_band_passes() {
        let mut r = Rasta::default();
        let out: Vec<f64> = (0..8).map(|n| r.step(n as f64)).collect();
        assert!(out[..5].iter().all(|&v| v == 0.0));
        assert!((out[5] - 0.999_998).abs() < 1e-5, "{}", out[5]);
        // A constant (0 Hz) input decays away.
        let mut r = Rasta::default();
        let out: Vec<f64> = (0..200).map(|_| r.step(3.0)).collect();
        assert!(
            out.iter().all(|v| v.abs() < 1e-12),
            "the FIR part sums to 0"
        );
    }

    #[test]
    fn pure_tone_centroid_and_rolloff_sit_on_its_bin() {
        let mut m = vec![0f32; 257];
        m[64] = 1.0; // 2 kHz
        let p: Vec<f64> = m.iter().map(|&v| (v as f64).powi(2)).collect();
        let weights = vec![1.0; 257];
        let s = spectral(&p, &m, None, 31.25, &weights);
        assert_eq!(s[2..6], [2000.0; 4]);
        assert_eq!(s[6], 0.0, "no flux on the first frame");
        assert_eq!(s[7], 2000.0);
        assert_eq!(s[9], 0.0, "no variance");
    }

    #[test]
    fn harmonicity_sums_extremum_steps() {
        let p = [0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        // One maximum only: nothing to pair.
        assert_eq!(harmonicity(&p), 0.0);
        let p = [5.0, 5.0, 5.0, 5.0, 9.0, 5.0, 5.0, 1.0, 5.0, 5.0, 5.0, 5.0];
        assert_eq!(harmonicity(&p), 4.0);
    }
}
