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

pub use set::FeatureSet;

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

#[cfg(test)]
mod tests {
    #[test]
    fn population_stdev() {
        assert_eq!(super::mean_stdev(&[1.0, 3.0]), Some((2.0, 1.0)));
        assert_eq!(super::mean_stdev(&[]), None);
    }
}
