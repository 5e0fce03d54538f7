//! Excerpts of a recording: stretches of fixed length, spread over it, written as 16-bit WAV
//! files at the recording's own rate and channels. `scripts/real-corpus` cuts its corpus with
//! them (`trainer data excerpts`).

use super::decode::{AudioError, decode_file};
use crate::run::write_atomically_with;
use model_format::frontend::{SILENCE_PEAK, peak};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One excerpt written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excerpt {
    /// The WAV file.
    pub file: PathBuf,
    /// Where it starts in the recording, seconds.
    pub offset_seconds: f64,
    /// Its length, seconds.
    pub seconds: f64,
    /// The recording's rate, Hz.
    pub sample_rate: u32,
    /// The recording's channels.
    pub channels: usize,
}

/// What became of a recording: its excerpts, and the stretches left out as silent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Excerpts {
    /// The recording's length, seconds.
    pub duration_seconds: f64,
    /// The excerpts written.
    pub excerpts: Vec<Excerpt>,
    /// Offsets (seconds) of stretches not written because they are silent.
    pub silent_offsets: Vec<f64>,
}

/// Start frames of stretches of `len` frames spread over `total` frames: the recording is cut
/// into as many equal parts as stretches fit side by side (`most` at the most), and each
/// stretch sits in the middle of its part, so neither an intro nor a fade-out is favoured.
/// None when the recording is shorter than one stretch.
pub fn offsets(total: usize, len: usize, most: usize) -> Vec<usize> {
    if len == 0 || total < len {
        return Vec::new();
    }
    let count = (total / len).min(most);
    let part = total as f64 / count as f64;
    (0..count)
        .map(|k| (k as f64 * part + (part - len as f64) / 2.0).round() as usize)
        .map(|s| s.min(total - len))
        .collect()
}

/// Cuts up to `most` excerpts of `seconds` from the recording at `path` into `out`, named
/// `{stem}.{k}.wav`. A silent stretch (peak below −60 dBFS) is left out and reported.
pub fn cut(path: &Path, out: &Path, seconds: f64, most: usize) -> Result<Excerpts, AudioError> {
    let pcm = decode_file(path)?;
    let rate = pcm.sample_rate as f64;
    let channels = pcm.channels.max(1);
    let total = pcm.frames();
    let len = (seconds * rate).round() as usize;
    let duration_seconds = total as f64 / rate;
    let starts = offsets(total, len, most);
    if starts.is_empty() {
        return Err(AudioError::new(
            path,
            format!("{duration_seconds:.1} s long, shorter than one {seconds} s excerpt"),
        ));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "excerpt".into());
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: pcm.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut result = Excerpts {
        duration_seconds,
        ..Excerpts::default()
    };
    for (k, &start) in starts.iter().enumerate() {
        let samples = &pcm.samples[start * channels..(start + len) * channels];
        let offset_seconds = start as f64 / rate;
        if peak(samples) < SILENCE_PEAK {
            result.silent_offsets.push(offset_seconds);
            continue;
        }
        let file = out.join(format!("{stem}.{k}.wav"));
        write_atomically_with(&file, |w| {
            let mut wav = hound::WavWriter::new(w, spec).map_err(std::io::Error::other)?;
            for &v in samples {
                wav.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                    .map_err(std::io::Error::other)?;
            }
            wav.finalize().map_err(std::io::Error::other)
        })
        .map_err(|e| AudioError::new(&file, format!("cannot write: {e}")))?;
        result.excerpts.push(Excerpt {
            file,
            offset_seconds,
            seconds: len as f64 / rate,
            sample_rate: pcm.sample_rate,
            channels,
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_spread_over_the_recording_and_fit_in_it() {
        assert_eq!(offsets(100, 30, 3), vec![2, 35, 68]);
        assert_eq!(
            offsets(100, 30, 1),
            vec![35],
            "one excerpt sits in the middle"
        );
        assert_eq!(offsets(50, 30, 3), vec![10], "as many as fit side by side");
        assert!(offsets(29, 30, 3).is_empty());
        for (total, len, most) in [(1000, 30, 5), (31, 30, 2), (90, 30, 3)] {
            let o = offsets(total, len, most);
            assert!(o.iter().all(|&s| s + len <= total));
            assert!(
                o.windows(2).all(|w| w[1] >= w[0] + len),
                "no overlap: {o:?}"
            );
        }
    }

    #[test]
    fn a_recording_is_cut_into_excerpts_with_its_rate_and_channels() {
        let tmp = tempfile::tempdir().unwrap();
        let song = tmp.path().join("song.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&song, spec).unwrap();
        // 10 s: a tone for 6 s, then silence.
        for i in 0..80_000 {
            let v = if i < 48_000 {
                ((i as f32 * 0.1).sin() * 8000.0) as i16
            } else {
                0
            };
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        let out = tmp.path().join("out");
        let r = cut(&song, &out, 3.0, 3).unwrap();
        assert_eq!(r.duration_seconds, 10.0);
        // Three parts of 3.33 s, an excerpt in the middle of each: from 0.17, 3.5 and 6.83 s.
        // The last lies in the silence.
        assert_eq!(r.excerpts.len(), 2);
        assert_eq!(r.excerpts[1].offset_seconds, 3.5);
        assert_eq!(r.silent_offsets.len(), 1);
        assert!((r.silent_offsets[0] - 6.833).abs() < 1e-3);
        let first = hound::WavReader::open(&r.excerpts[0].file).unwrap();
        assert_eq!(first.spec().channels, 2);
        assert_eq!(first.spec().sample_rate, 8000);
        assert_eq!(first.duration(), 24_000);
        assert!(
            cut(&song, &out, 11.0, 3)
                .unwrap_err()
                .reason
                .contains("shorter")
        );
    }
}
