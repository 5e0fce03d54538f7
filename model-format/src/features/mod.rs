//! Handcrafted features for the MLP baselines, computed in pure Rust so the browser can run
//! them too. `docs/features-essentia.md` and `docs/features-is13.md` specify what each one
//! must reproduce.
//!
//! - [`frames`]: Essentia-style framing, windowing and magnitude spectra;
//! - [`bands`]: Bark, mel and ERB band energies of a spectrum;
//! - [`shape`]: statistics of a spectrum or band vector (moments, crest, flatness, peaks);
//! - [`loudness`]: equal-loudness filter, ReplayGain, EBU R128 and Essentia's song-level
//!   loudness measures;
//! - [`essentia`]: the 84 low-level values of Essentia's music extractor;
//! - [`is13`]: openSMILE's `IS13_ComParE` low-level descriptors and the paper's 260 features;
//! - [`set`]: the three feature sets of the MLP baselines, per song segment.

pub mod bands;
pub mod essentia;
pub mod frames;
pub mod is13;
pub mod loudness;
pub mod set;
pub mod shape;

pub use set::{FeatureSegments, FeatureSet};

/// Mean and population standard deviation (accumulated in f64), as Essentia's pool
/// aggregator and openSMILE's functionals summarise frame-wise values. `None` when empty.
pub fn mean_stdev(values: &[f32]) -> Option<(f32, f32)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    Some((mean as f32, var.sqrt() as f32))
}

/// Signals the extractors' tests share.
#[cfg(test)]
pub(crate) mod test_signals {
    use crate::dsp::{BINS, ESSENTIA_RATE as RATE};

    /// A sine at 44.1 kHz.
    pub fn sine(hz: f64, seconds: f64, amp: f32) -> Vec<f32> {
        (0..(seconds * RATE) as usize)
            .map(|i| amp * (2.0 * std::f64::consts::PI * hz * i as f64 / RATE).sin() as f32)
            .collect()
    }

    /// A made-up magnitude spectrum: six bumps (at bins 12.3 … 180.7) on a small ripple that
    /// makes 31 peaks. Reference numbers from Essentia were computed on it.
    pub fn bumps() -> Vec<f32> {
        let bumps = [
            (12.3, 0.5),
            (13.9, 0.4),
            (30.2, 0.3),
            (47.0, 0.2),
            (100.4, 0.1),
            (180.7, 0.05),
        ];
        (0..BINS)
            .map(|k| {
                let k = k as f64;
                let b: f64 = bumps
                    .iter()
                    .map(|&(c, a)| a * (-((k - c) / 1.5).powi(2)).exp())
                    .sum();
                (b + 1e-4 * (k % 7.0) / 7.0) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn population_stdev() {
        assert_eq!(super::mean_stdev(&[1.0, 3.0]), Some((2.0, 1.0)));
        assert_eq!(super::mean_stdev(&[]), None);
    }
}
