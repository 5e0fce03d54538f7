//! openSMILE's `IS13_ComParE` low-level descriptors and the 260 features of the paper: the 65
//! LLDs and their 65 deltas, each summarised by population stddev and arithmetic mean
//! (`docs/features-is13.md`, which this module follows section by section).
//!
//! Two framings share a 10 ms hop: chain A, 20 ms Hamming frames (energy, auditory spectra,
//! MFCC, spectral shape), and chain B, 60 ms Gaussian frames (pitch, the voicing gate, ZCR).
//! Every stateful stage (RASTA, flux, Viterbi, jitter, the delta norm) starts afresh for each
//! call, as openSMILE does for each file. The MLP baselines call it once per song segment, so
//! each segment is its own "file"; the paper's co-author ran openSMILE on whole songs (spec §9.2,
//! §13 Q2), which changes the F0 group's deltas (their normaliser grows along a file).
//!
//! - [`spectral`]: chain A descriptors;
//! - [`pitch`]: the octave-scale spectrum, sub-harmonic summation and Viterbi smoothing;
//! - [`voice`]: jitter, shimmer and harmonics-to-noise ratio;
//! - [`contour`]: 3-frame smoothing and delta regression.

pub mod contour;
pub mod pitch;
pub mod spectral;
pub mod voice;

use realfft::RealFftPlanner;
use std::sync::Arc;

/// Low-level descriptors per frame.
pub const LLDS: usize = 65;
/// The summary: stddev and mean of every LLD and delta.
pub const FEATURES: usize = 4 * LLDS;

/// Frames of `len` samples every `hop` in `n` samples (left-aligned, complete frames only).
fn frame_count(n: usize, len: usize, hop: usize) -> usize {
    if n < len { 0 } else { (n - len) / hop + 1 }
}

/// Magnitudes of a real frame zero-padded at the end to the next power of two.
pub(crate) struct Magnitude {
    window: Vec<f32>,
    fft: Arc<dyn realfft::RealToComplex<f32>>,
}

impl Magnitude {
    fn new(window: Vec<f32>) -> Self {
        let n = window.len().next_power_of_two();
        Magnitude {
            window,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(n),
        }
    }

    /// Bins `0..=nfft/2` of `|FFT(w · frame)|`.
    fn of(&self, frame: &[f32]) -> Vec<f32> {
        let mut input = self.fft.make_input_vec();
        for (d, (x, w)) in input.iter_mut().zip(frame.iter().zip(&self.window)) {
            *d = x * w;
        }
        let mut output = self.fft.make_output_vec();
        self.fft
            .process(&mut input, &mut output)
            .expect("buffers sized by the plan");
        output
            .iter()
            .map(|c| (c.re * c.re + c.im * c.im).sqrt())
            .collect()
    }

    fn nfft(&self) -> usize {
        self.fft.len()
    }
}

/// Hamming window, symmetric.
fn hamming(len: usize) -> Vec<f32> {
    let m = (len - 1) as f64;
    (0..len)
        .map(|n| (0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / m).cos()) as f32)
        .collect()
}

/// Gaussian window with σ = 0.4 (relative to the half length).
fn gaussian(len: usize) -> Vec<f32> {
    let half = (len - 1) as f64 / 2.0;
    (0..len)
        .map(|n| (-0.5 * ((n as f64 - half) / (0.4 * half)).powi(2)).exp() as f32)
        .collect()
}

/// The 65 LLD names in openSMILE's output order.
pub fn lld_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "F0final",
        "voicingFinalUnclipped",
        "jitterLocal",
        "jitterDDP",
        "shimmerLocal",
        "logHNR",
        "audspec_lengthL1norm",
        "audspecRasta_lengthL1norm",
        "pcm_RMSenergy",
        "pcm_zcr",
    ]
    .iter()
    .map(|n| format!("{n}_sma"))
    .collect();
    names.extend((0..26).map(|b| format!("audSpec_Rfilt_sma[{b}]")));
    names.extend(
        spectral::SPECTRAL_NAMES
            .iter()
            .map(|n| format!("pcm_fftMag_{n}_sma")),
    );
    names.extend((1..=14).map(|i| format!("mfcc_sma[{i}]")));
    names
}

/// The delta of an LLD's name: `_de` after `_sma`, before any index.
fn delta_name(lld: &str) -> String {
    lld.replacen("_sma", "_sma_de", 1)
}

/// The 260 feature names: `<lld>_stddev`, `<lld>_amean` for every LLD, then for every delta.
pub fn feature_names() -> Vec<String> {
    let llds = lld_names();
    let deltas: Vec<String> = llds.iter().map(|n| delta_name(n)).collect();
    llds.iter()
        .chain(&deltas)
        .flat_map(|n| [format!("{n}_stddev"), format!("{n}_amean")])
        .collect()
}

/// Smoothed LLDs and their deltas, frame by frame.
pub struct Contours {
    /// `[65][frames]`, in [`lld_names`] order.
    pub llds: Vec<Vec<f32>>,
    /// `[65][frames]`, the deltas of `llds`.
    pub deltas: Vec<Vec<f32>>,
}

impl Contours {
    /// Number of 10 ms frames in the contours.
    pub fn frames(&self) -> usize {
        self.llds.first().map_or(0, Vec::len)
    }
}

/// The LLD contours of mono audio `x` at `fs` Hz. `None` when `x` is shorter than one 60 ms
/// frame.
///
/// # Panics
/// When `fs` is below 16 kHz (the mel bank reaches 8 kHz).
pub fn contours(x: &[f32], fs: f64) -> Option<Contours> {
    assert!(fs >= 16_000.0, "IS13 needs at least 16 kHz, got {fs}");
    let hop = (0.010 * fs).round() as usize;
    let len_a = (0.020 * fs).round() as usize;
    let len_b = (0.060 * fs).round() as usize;
    let t = frame_count(x.len(), len_b, hop);
    if t == 0 {
        return None;
    }
    let frames_a = frame_count(x.len(), len_a, hop);
    let frame = |start: usize, len: usize| &x[start..start + len];

    // Chain B: pitch candidates, the energy gate and the ZCR.
    let gauss = Magnitude::new(gaussian(len_b));
    let mut shs = pitch::Shs::new(fs, gauss.nfft());
    let mut candidates = Vec::with_capacity(t);
    let mut loud = Vec::with_capacity(t);
    let mut zcr = Vec::with_capacity(t);
    for i in 0..t {
        let f = frame(i * hop, len_b);
        candidates.push(shs.candidates(&gauss.of(f)));
        let e = f
            .iter()
            .zip(&gauss.window)
            .map(|(&v, &w)| ((v * w) as f64).powi(2))
            .sum::<f64>()
            / len_b as f64;
        loud.push(e.sqrt() > 0.001);
        zcr.push(zero_crossing_rate(f));
    }
    let (mut f0, mut voicing) = pitch::viterbi(&candidates);
    for ((f, v), &on) in f0.iter_mut().zip(&mut voicing).zip(&loud) {
        if !on {
            (*f, *v) = (0.0, 0.0);
        }
    }
    let vq = voice::voice_quality(x, fs, &f0);

    // Chain A.
    let ham = Magnitude::new(hamming(len_a));
    let mut chain_a = spectral::ChainA::new(fs, ham.nfft());
    let rms: Vec<f32> = (0..frames_a)
        .map(|i| {
            let f = frame(i * hop, len_a);
            (f.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / len_a as f64).sqrt() as f32
        })
        .collect();
    let a: Vec<Vec<f32>> = (0..frames_a)
        .map(|i| chain_a.frame(&ham.of(frame(i * hop, len_a))))
        .collect();

    // The three groups of LLDs, as openSMILE concatenates them: F0 and voice quality (zeros
    // mean unvoiced), then energy and ZCR, then chain A's bands, spectral shape and MFCC. Each
    // contour is smoothed on its own length, then all are cut to the shortest.
    let column = |j: usize| a.iter().map(|r| r[j]).collect::<Vec<f32>>();
    let nz = [
        f0,
        voicing,
        vq.jitter_local,
        vq.jitter_ddp,
        vq.shimmer,
        vq.log_hnr,
    ];
    let energy = [column(0), column(1), rms, zcr];
    let bands = (2..spectral::VALUES).map(column);

    // Smoothing adds a frame at the end of the input. The first two groups are as long as
    // the 60 ms chain (the ZCR comes from it) when their deltas are taken; chain A's group is
    // longer, and all are cut to the shortest at the end.
    let mut llds: Vec<Vec<f32>> = nz.iter().map(|c| contour::smooth_nonzero(c)).collect();
    llds.extend(energy.iter().map(|c| contour::smooth(c)));
    for c in &mut llds {
        c.truncate(t + 1);
    }
    llds.extend(bands.map(|c| contour::smooth(&c)));
    debug_assert_eq!(llds.len(), LLDS);
    let mut deltas = contour::nonzero_deltas(&llds[..nz.len()]);
    deltas.extend(llds[nz.len()..].iter().map(|c| contour::delta(c)));
    for c in llds.iter_mut().chain(deltas.iter_mut()) {
        c.truncate(t + 1);
    }
    Some(Contours { llds, deltas })
}

/// The 260 features of `x` at `fs` Hz, in [`feature_names`] order. `None` when `x` is
/// shorter than one 60 ms frame.
pub fn features(x: &[f32], fs: f64) -> Option<Vec<f32>> {
    let c = contours(x, fs)?;
    Some(
        c.llds
            .iter()
            .chain(&c.deltas)
            .flat_map(|v| {
                let (mean, std) = super::mean_stdev(v).expect("at least one frame");
                [std, mean]
            })
            .collect(),
    )
}

/// Zero crossings per sample of a raw frame, counting a zero sample between opposite signs.
fn zero_crossing_rate(f: &[f32]) -> f32 {
    let crossings = (1..f.len() - 1)
        .filter(|&n| f[n - 1] * f[n] < 0.0 || (f[n] == 0.0 && f[n - 1] * f[n + 1] <= 0.0))
        .count();
    crossings as f32 / f.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_opensmile() {
        let n = feature_names();
        assert_eq!(n.len(), FEATURES);
        assert_eq!(n[0], "F0final_sma_stddev");
        assert_eq!(n[1], "F0final_sma_amean");
        assert_eq!(n[20], "audSpec_Rfilt_sma[0]_stddev");
        assert_eq!(n[129], "mfcc_sma[14]_amean");
        assert_eq!(n[130], "F0final_sma_de_stddev");
        assert_eq!(n[150], "audSpec_Rfilt_sma_de[0]_stddev");
        assert_eq!(n[259], "mfcc_sma_de[14]_amean");
        assert!(n.contains(&"pcm_fftMag_spectralRollOff50.0_sma_de_stddev".to_string()));
        assert!(n.contains(&"logHNR_sma_stddev".to_string()));
    }

    #[test]
    fn frames_are_those_of_the_60_ms_chain() {
        let x: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        let c = contours(&x, 16_000.0).unwrap();
        assert_eq!(
            c.frames(),
            (16_000 - 960) / 160 + 2,
            "the 60 ms frames and one"
        );
        assert!(
            c.llds
                .iter()
                .chain(&c.deltas)
                .all(|v| v.len() == c.frames())
        );
        assert!(contours(&x[..959], 16_000.0).is_none());
        assert_eq!(features(&x, 16_000.0).unwrap().len(), FEATURES);
    }

    #[test]
    fn zcr_counts_sign_changes_per_sample() {
        assert_eq!(zero_crossing_rate(&[1.0, -1.0, 1.0, -1.0]), 0.5);
        assert_eq!(zero_crossing_rate(&[1.0, 0.0, -1.0, -1.0]), 0.25);
        assert_eq!(zero_crossing_rate(&[1.0, 1.0, 1.0, 1.0]), 0.0);
    }
}
