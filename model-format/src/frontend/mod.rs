//! The audio front-end: any PCM → mono → 16 kHz → the paper's segments.
//!
//! The trainer and the browser both call [`FrontEnd::prepare`], so a song is cut and scaled
//! identically in training, in `trainer predict` and in the demo.

mod resample;
mod segment;

pub use resample::{resample, to_mono};
pub use segment::Segment;

use serde::{Deserialize, Serialize};

/// A peak below this amplitude (−60 dBFS) counts as silence.
pub const SILENCE_PEAK: f32 = 1e-3;

/// Largest sample magnitude accepted (full scale is 1; float files may exceed it a little).
pub const MAX_SAMPLE: f32 = 1e4;

/// Settings of the front-end. Model bundles store them, so inference prepares audio the way
/// training did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontEnd {
    /// Sample rate the models see, in Hz.
    pub sample_rate: u32,
    /// Segments per song; the last one keeps the remainder.
    pub segments: usize,
    /// Shortest segment accepted, in samples at `sample_rate`.
    pub min_segment_samples: usize,
}

impl Default for FrontEnd {
    /// The paper's front-end: 16 kHz, 4 segments, each at least one 500 ms window long.
    fn default() -> Self {
        FrontEnd {
            sample_rate: 16_000,
            segments: 4,
            min_segment_samples: 8_000,
        }
    }
}

/// Interleaved PCM as a decoder hands it over.
#[derive(Clone, Copy, Debug)]
pub struct Pcm<'a> {
    /// Samples, interleaved by frame: `L0 R0 L1 R1 …`.
    pub samples: &'a [f32],
    /// Channels per frame.
    pub channels: usize,
    /// Frames per second.
    pub sample_rate: u32,
}

/// Why audio could not be prepared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrontEndError {
    /// The input holds no samples (or less than one frame).
    #[error("no audio: the stream holds no samples")]
    Empty,
    /// A channel count of zero.
    #[error("invalid channel count {0}")]
    Channels(usize),
    /// A sample rate of zero, Hz.
    #[error("invalid sample rate {0} Hz")]
    SampleRate(u32),
    /// This many samples are NaN or infinite.
    #[error("{0} samples are not finite numbers")]
    NonFinite(usize),
    /// This many samples lie beyond ±[`MAX_SAMPLE`]: not audio (full scale is ±1).
    #[error("{0} samples lie beyond ±{MAX_SAMPLE} (full scale is ±1): not audio")]
    OutOfRange(usize),
    /// The whole song peaks below [`SILENCE_PEAK`].
    #[error("silent: peak level {peak_dbfs:.1} dBFS")]
    Silent {
        /// The song's peak level, dBFS.
        peak_dbfs: f32,
    },
    /// The song is too short for the segments to reach their minimum length.
    #[error("too short: {seconds:.2} s, {min_seconds:.2} s needed for {segments} segments")]
    TooShort {
        /// The song's length, seconds.
        seconds: f32,
        /// The shortest song accepted, seconds.
        min_seconds: f32,
        /// Segments the song was to be cut into.
        segments: usize,
    },
    /// The resampler failed; its message.
    #[error("resampling failed: {0}")]
    Resample(String),
}

impl FrontEnd {
    /// Checks settings read from a file: a rate between 1 and 192 kHz, 1 to 64 segments, and
    /// segments of at least one sample.
    pub fn validate(&self) -> Result<(), String> {
        if !(1_000..=192_000).contains(&self.sample_rate) {
            return Err(format!("front-end rate of {} Hz", self.sample_rate));
        }
        if !(1..=64).contains(&self.segments) || self.min_segment_samples == 0 {
            return Err(format!(
                "{} segments of at least {} samples",
                self.segments, self.min_segment_samples
            ));
        }
        Ok(())
    }

    /// Down-mixes and resamples `pcm` to mono at [`FrontEnd::sample_rate`].
    ///
    /// Errors on empty input, a zero channel count or sample rate, and non-finite samples.
    pub fn to_model_rate(&self, pcm: Pcm<'_>) -> Result<Vec<f32>, FrontEndError> {
        if pcm.channels == 0 {
            return Err(FrontEndError::Channels(pcm.channels));
        }
        if pcm.sample_rate == 0 {
            return Err(FrontEndError::SampleRate(pcm.sample_rate));
        }
        if pcm.samples.len() < pcm.channels {
            return Err(FrontEndError::Empty);
        }
        let bad = pcm.samples.iter().filter(|x| !x.is_finite()).count();
        if bad > 0 {
            return Err(FrontEndError::NonFinite(bad));
        }
        // Float files may exceed full scale a little; values like 1e30 are garbage, and their
        // sums would overflow in the down-mix and the resampler.
        let wild = pcm.samples.iter().filter(|x| x.abs() > MAX_SAMPLE).count();
        if wild > 0 {
            return Err(FrontEndError::OutOfRange(wild));
        }
        let mono = to_mono(pcm.samples, pcm.channels);
        resample(&mono, pcm.sample_rate, self.sample_rate)
    }

    /// Cuts mono audio at the model rate into [`FrontEnd::segments`] segments and
    /// peak-normalises each one (see [`Segment`]).
    ///
    /// Errors on empty, silent or too short input.
    pub fn segment(&self, mono: &[f32]) -> Result<Vec<Segment>, FrontEndError> {
        segment::split(self, mono)
    }

    /// [`FrontEnd::to_model_rate`] then [`FrontEnd::segment`].
    pub fn prepare(&self, pcm: Pcm<'_>) -> Result<Vec<Segment>, FrontEndError> {
        self.segment(&self.to_model_rate(pcm)?)
    }
}

/// Peak absolute amplitude of `x` (0 for an empty slice).
pub fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// Amplitude in dBFS (−inf for 0).
pub fn dbfs(amplitude: f32) -> f32 {
    20.0 * amplitude.log10()
}
