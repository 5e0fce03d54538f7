//! Decoding audio files to interleaved f32 PCM with symphonia.
//!
//! MP3, OGG Vorbis, FLAC, WAV (integer and float), AAC/ALAC in MP4/M4A, AIFF, CAF and MKV.

use model_format::frontend::{FrontEndError, Pcm};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// File extensions treated as audio when scanning a dataset.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "ogg", "oga", "flac", "wav", "wave", "m4a", "mp4", "aac", "aif", "aiff", "caf", "mka",
    "webm",
];

/// Whether `path` has one of [`AUDIO_EXTENSIONS`] (any case).
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Most samples (all channels) one file may decode to: an hour of stereo at 48 kHz. The
/// decoded audio is held in memory as f32, so this bounds it at 1.4 GB (with the file's own
/// bytes beside it while it decodes); a longer recording is refused, and is best cut first.
pub const MAX_DECODED_SAMPLES: u64 = 3600 * 48_000 * 2;

/// Largest file read, bytes (1 GiB): an hour of 16-bit stereo WAV at 48 kHz is 691 MB. Files
/// are read whole before decoding, so with [`MAX_DECODED_SAMPLES`] this bounds a song's memory
/// at 1 GiB of file plus 1.4 GB of samples, about 2.5 GB. Measured (peak resident memory of
/// `trainer data inspect --no-cache`): 2.27 GB for that hour of 16-bit stereo at 48 kHz (the
/// limit), 2.05 GB for three hours of 16-bit mono at 16 kHz, 1.37 GB for three hours of 8-bit
/// mono at 8 kHz.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The bytes of the audio file at `path`, refusing one over [`MAX_FILE_BYTES`] before reading.
pub fn read_file(path: &Path) -> Result<Vec<u8>, AudioError> {
    let cannot = |e: std::io::Error| AudioError::new(path, format!("cannot read: {e}"));
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    if len > MAX_FILE_BYTES {
        return Err(AudioError::new(
            path,
            format!(
                "{} MB; files up to {} MB are read",
                len / 1_000_000,
                MAX_FILE_BYTES / 1_000_000
            ),
        ));
    }
    std::fs::read(path).map_err(cannot)
}

/// Decoded audio as the file holds it.
#[derive(Clone, Debug)]
pub struct DecodedPcm {
    /// Interleaved samples in [-1, 1].
    pub samples: Vec<f32>,
    /// Channels per frame.
    pub channels: usize,
    /// Frames per second, Hz.
    pub sample_rate: u32,
}

impl DecodedPcm {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }

    /// Borrowed view for the front-end.
    pub fn as_pcm(&self) -> Pcm<'_> {
        Pcm {
            samples: &self.samples,
            channels: self.channels,
            sample_rate: self.sample_rate,
        }
    }
}

/// A file that could not be turned into audio, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct AudioError {
    /// The file.
    pub path: PathBuf,
    /// Why, in words (the front-end's error too, when it is the cause).
    pub reason: String,
    /// The front-end's error, when decoding worked but the audio could not be prepared
    /// (empty, silent, too short, non-finite samples).
    #[source]
    pub front_end: Option<FrontEndError>,
}

impl AudioError {
    /// A file that could not be read or decoded.
    pub fn new(path: &Path, reason: impl ToString) -> Self {
        AudioError {
            path: path.to_path_buf(),
            reason: reason.to_string(),
            front_end: None,
        }
    }

    /// A file whose audio the front-end refused.
    pub(crate) fn front_end(path: &Path, e: FrontEndError) -> Self {
        AudioError {
            path: path.to_path_buf(),
            reason: e.to_string(),
            front_end: Some(e),
        }
    }
}

/// Decodes the whole default audio track of `path`.
pub fn decode_file(path: &Path) -> Result<DecodedPcm, AudioError> {
    decode_bytes(path, read_file(path)?)
}

/// Decodes the whole default audio track of a file already read into memory; `path` names it
/// in errors and gives the format hint.
///
/// Packets that fail to decode inside an otherwise good stream are skipped, as players do; a
/// stream in which more than half of the packets fail, or that yields no samples, is an error.
pub fn decode_bytes(path: &Path, bytes: Vec<u8>) -> Result<DecodedPcm, AudioError> {
    // symphonia's readers panic on some malformed headers (an overflow in WAV's `fmt ` chunk,
    // found by fuzzing): such a file is an error naming it, not a crash.
    std::panic::catch_unwind(|| decode_unguarded(path, bytes)).unwrap_or_else(|_| {
        Err(AudioError::new(
            path,
            "not a supported audio file (its decoder failed on malformed data)",
        ))
    })
}

fn decode_unguarded(path: &Path, bytes: Vec<u8>) -> Result<DecodedPcm, AudioError> {
    let fail = |reason: String| AudioError::new(path, reason);
    if bytes.is_empty() {
        return Err(fail("empty file".into()));
    }
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| fail(format!("not a supported audio file ({e})")))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| fail("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| fail("no audio codec parameters".into()))?
        .clone();
    let too_long = |samples: u64, channels: u64, rate: u32| {
        fail(format!(
            "too long: {:.0} min of {channels} channels at {rate} Hz; the limit is {} M samples \
             (an hour of stereo at 48 kHz), which bounds the memory decoding takes",
            samples as f64 / channels.max(1) as f64 / rate.max(1) as f64 / 60.0,
            MAX_DECODED_SAMPLES / 1_000_000
        ))
    };
    // A header that announces more than the limit is refused before anything is decoded.
    if let (Some(frames), Some(rate)) = (track.num_frames, params.sample_rate) {
        let channels = params.channels.as_ref().map_or(1, |c| c.count()) as u64;
        if frames.saturating_mul(channels) > MAX_DECODED_SAMPLES {
            return Err(too_long(frames.saturating_mul(channels), channels, rate));
        }
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| fail(format!("unsupported codec ({e})")))?;

    let mut samples: Vec<f32> = Vec::new();
    let mut spec: Option<(usize, u32)> = None;
    let (mut good, mut bad) = (0usize, 0usize);
    let mut buf: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A truncated file ends with an unexpected EOF: keep what was decoded.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::DecodeError(_)) => {
                bad += 1;
                continue;
            }
            Err(e) => return Err(fail(format!("demuxing failed: {e}"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(audio) => {
                let channels = audio.spec().channels().count();
                let rate = audio.spec().rate();
                match spec {
                    None => spec = Some((channels, rate)),
                    Some(s) if s != (channels, rate) => {
                        return Err(fail(format!(
                            "stream changes from {} ch at {} Hz to {channels} ch at {rate} Hz",
                            s.0, s.1
                        )));
                    }
                    Some(_) => {}
                }
                buf.resize(audio.samples_interleaved(), 0.0);
                audio.copy_to_slice_interleaved(&mut buf);
                samples.extend_from_slice(&buf);
                if samples.len() as u64 > MAX_DECODED_SAMPLES {
                    return Err(too_long(samples.len() as u64, channels as u64, rate));
                }
                good += 1;
            }
            Err(SymError::DecodeError(_)) => bad += 1,
            Err(e) => return Err(fail(format!("decoding failed: {e}"))),
        }
    }
    if bad > good {
        return Err(fail(format!("{bad} of {} packets are corrupt", good + bad)));
    }
    let (channels, sample_rate) = spec.ok_or_else(|| fail("no audio samples".into()))?;
    if samples.is_empty() {
        return Err(fail("no audio samples".into()));
    }
    Ok(DecodedPcm {
        samples,
        channels,
        sample_rate,
    })
}
