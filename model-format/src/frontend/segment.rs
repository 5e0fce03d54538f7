//! The paper's segmentation: equal segments, the last keeping the remainder, each
//! peak-normalised.

use super::{FrontEnd, FrontEndError, SILENCE_PEAK, dbfs, peak};

/// One segment of a song at the model rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Offset of the first sample in the song's mono signal at the model rate.
    pub start: usize,
    /// The samples, scaled so that the peak absolute value is 1. A segment quieter than
    /// [`SILENCE_PEAK`] inside a louder song is left unscaled rather than turning its noise
    /// floor into full-scale noise.
    pub samples: Vec<f32>,
    /// The gain that was applied (1 / the original peak, or 1 when left unscaled).
    pub gain: f32,
}

impl Segment {
    /// Where the segment lies in the song, `(start, end)` in seconds, at `rate` Hz.
    pub fn span(&self, rate: u32) -> (f64, f64) {
        let rate = rate as f64;
        (
            self.start as f64 / rate,
            (self.start + self.samples.len()) as f64 / rate,
        )
    }
}

pub(super) fn split(fe: &FrontEnd, mono: &[f32]) -> Result<Vec<Segment>, FrontEndError> {
    if mono.is_empty() {
        return Err(FrontEndError::Empty);
    }
    let song_peak = peak(mono);
    if song_peak < SILENCE_PEAK {
        return Err(FrontEndError::Silent {
            peak_dbfs: dbfs(song_peak),
        });
    }
    let n = fe.segments.max(1);
    let len = mono.len() / n;
    if len < fe.min_segment_samples.max(1) {
        let rate = fe.sample_rate as f32;
        return Err(FrontEndError::TooShort {
            seconds: mono.len() as f32 / rate,
            min_seconds: (n * fe.min_segment_samples.max(1)) as f32 / rate,
            segments: n,
        });
    }
    Ok((0..n)
        .map(|k| {
            let start = k * len;
            let end = if k + 1 == n { mono.len() } else { start + len };
            let raw = &mono[start..end];
            let p = peak(raw);
            let gain = if p < SILENCE_PEAK { 1.0 } else { 1.0 / p };
            Segment {
                start,
                samples: raw.iter().map(|v| v * gain).collect(),
                gain,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(min: usize) -> FrontEnd {
        FrontEnd {
            sample_rate: 16_000,
            segments: 4,
            min_segment_samples: min,
        }
    }

    /// A ramp with a different level in each quarter.
    fn song(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let level = [0.2, 0.9, 0.05, 0.5][(i * 4 / len).min(3)];
                level * ((i % 7) as f32 - 3.0) / 3.0
            })
            .collect()
    }

    #[test]
    fn four_equal_segments_last_keeps_remainder() {
        let x = song(16_003);
        let segs = fe(100).segment(&x).unwrap();
        assert_eq!(segs.len(), 4);
        let lens: Vec<usize> = segs.iter().map(|s| s.samples.len()).collect();
        assert_eq!(lens, vec![4000, 4000, 4000, 4003]);
        let starts: Vec<usize> = segs.iter().map(|s| s.start).collect();
        assert_eq!(starts, vec![0, 4000, 8000, 12000]);
        for s in &segs {
            assert!((peak(&s.samples) - 1.0).abs() < 1e-6);
            // Scaled copies of the original samples, in order.
            for (i, v) in s.samples.iter().enumerate() {
                assert!((v / s.gain - x[s.start + i]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn quiet_segment_in_loud_song_is_not_amplified() {
        let mut x = song(40_000);
        x[..10_000].iter_mut().for_each(|v| *v *= 1e-4);
        let segs = fe(100).segment(&x).unwrap();
        assert_eq!(segs[0].gain, 1.0);
        assert!(peak(&segs[0].samples) < SILENCE_PEAK);
        assert!((peak(&segs[1].samples) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn silent_empty_and_short_inputs_are_errors() {
        assert_eq!(fe(100).segment(&[]), Err(FrontEndError::Empty));
        assert!(matches!(
            fe(100).segment(&vec![1e-5; 50_000]),
            Err(FrontEndError::Silent { .. })
        ));
        let err = fe(8_000).segment(&song(31_999)).unwrap_err();
        assert!(matches!(err, FrontEndError::TooShort { segments: 4, .. }));
        assert!(err.to_string().contains("2.00 s needed"), "{err}");
        assert!(fe(8_000).segment(&song(32_000)).is_ok());
    }

    #[test]
    fn prepare_runs_the_whole_chain() {
        // 3 s of stereo noise-like audio at 44.1 kHz → 48 000 samples at 16 kHz.
        let stereo: Vec<f32> = (0..44_100 * 3 * 2)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.3)
            .collect();
        let pcm = super::super::Pcm {
            samples: &stereo,
            channels: 2,
            sample_rate: 44_100,
        };
        let segs = FrontEnd::default().prepare(pcm).unwrap();
        let total: usize = segs.iter().map(|s| s.samples.len()).sum();
        assert_eq!(total, 48_000);
        assert_eq!(segs.len(), 4);
    }

    #[test]
    fn non_finite_out_of_range_and_channel_errors() {
        let f = FrontEnd::default();
        let pcm = |s: &'static [f32], ch| super::super::Pcm {
            samples: s,
            channels: ch,
            sample_rate: 44_100,
        };
        assert_eq!(
            f.to_model_rate(pcm(&[0.0, f32::NAN], 1)),
            Err(FrontEndError::NonFinite(1))
        );
        // Finite but absurd (a fuzzed float WAV): refused before the down-mix overflows.
        assert_eq!(
            f.to_model_rate(pcm(&[0.5, 3e38, -3e38, 2.0], 2)),
            Err(FrontEndError::OutOfRange(2))
        );
        assert_eq!(
            f.to_model_rate(pcm(&[0.0], 0)),
            Err(FrontEndError::Channels(0))
        );
        assert_eq!(f.to_model_rate(pcm(&[0.0], 2)), Err(FrontEndError::Empty));
    }
}
