//! Decoding a dropped file with the browser's own decoders (Web Audio), then the shared
//! front-end.

use js_sys::{ArrayBuffer, Uint8Array};
use model_format::features::{FeatureSegments, FeatureSet};
use model_format::frontend::Pcm;
use model_format::{FrontEnd, Segment};
use std::f64::consts::PI;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioBuffer, File, OfflineAudioContext};

/// Rate the browser decodes at. Most music is at 44.1 kHz, where the browser then does no
/// resampling and the shared front-end alone takes the audio to the model's rate, exactly as
/// the trainer does.
pub const DECODE_RATE: f32 = 44_100.0;
/// Longest song accepted, in seconds.
pub const MAX_SECONDS: f64 = 20.0 * 60.0;
/// Largest file accepted, in bytes.
pub const MAX_BYTES: f64 = 300.0 * 1024.0 * 1024.0;

/// A decoded song: mono samples for the waveform and the model's segments.
pub struct Song {
    /// Duration, seconds.
    pub seconds: f64,
    /// The model's rate, Hz.
    pub rate: u32,
    /// The mono signal at the model's rate (what the waveform shows).
    pub mono: Vec<f32>,
    /// The front-end's segments, peak-normalised, for the model.
    pub segments: Vec<Segment>,
    /// The song through the front-ends of the model's features, for an MLP.
    pub features: Option<FeatureSegments>,
}

/// The file's bytes.
pub async fn read_bytes(file: &File) -> Result<Vec<u8>, String> {
    if file.size() > MAX_BYTES {
        return Err(format!(
            "{} is {:.0} MB; the limit is {:.0} MB",
            file.name(),
            file.size() / 1e6,
            MAX_BYTES / 1e6
        ));
    }
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{} could not be read", file.name()))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Decodes `bytes` (any format the browser knows) and prepares it with `front_end`, and for
/// `features` too when given.
pub async fn decode(
    name: &str,
    bytes: &[u8],
    front_end: FrontEnd,
    features: Option<FeatureSet>,
) -> Result<Song, String> {
    let ctx = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        1,
        DECODE_RATE,
    )
    .map_err(|_| "this browser cannot decode audio (no Web Audio)".to_string())?;
    let array: ArrayBuffer = Uint8Array::from(bytes).buffer();
    let promise = ctx
        .decode_audio_data(&array)
        .map_err(|_| format!("{name}: the browser refused to decode it"))?;
    let buffer: AudioBuffer = JsFuture::from(promise)
        .await
        .map_err(|_| format!("{name}: not audio this browser can decode, or damaged"))?
        .unchecked_into();
    let seconds = buffer.duration();
    if seconds > MAX_SECONDS {
        return Err(format!(
            "{name} lasts {:.0} min; songs up to {:.0} min are accepted",
            seconds / 60.0,
            MAX_SECONDS / 60.0
        ));
    }
    let channels = buffer.number_of_channels() as usize;
    let frames = buffer.length() as usize;
    let planar: Vec<Vec<f32>> = (0..channels)
        .map(|c| {
            buffer
                .get_channel_data(c as u32)
                .map_err(|_| format!("{name}: channel {c} could not be read"))
        })
        .collect::<Result<_, _>>()?;
    // Interleaved, as a decoder hands it to the trainer, so the front-end sees the same input.
    let mut interleaved = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        interleaved.extend(planar.iter().map(|ch| ch[i]));
    }
    let pcm = Pcm {
        samples: &interleaved,
        channels,
        sample_rate: buffer.sample_rate() as u32,
    };
    let failed = |e: model_format::FrontEndError| format!("{name}: {e}");
    let mono = front_end.to_model_rate(pcm).map_err(failed)?;
    let segments = front_end.segment(&mono).map_err(failed)?;
    // The model front-end's segments are the features' 16 kHz ones: handed over, not recut.
    let features = features
        .map(|set| set.segment(pcm, Some(segments.clone())))
        .transpose()
        .map_err(failed)?;
    Ok(Song {
        seconds,
        rate: front_end.sample_rate,
        mono,
        segments,
        features,
    })
}

/// Shortest [`rehearsal`], seconds.
const REHEARSAL_SECONDS: f64 = 4.0;

/// A stand-in song for [`Engine::rehearse`](super::engine::Engine::rehearse), a 16-bit
/// stereo WAV at [`DECODE_RATE`]: a chord of four tones, each with a 5 Hz vibrato of ±1 %,
/// over a noise burst every half second, the same on every call. It lasts 4 s, or 1.5 times
/// what `front_end`'s segments need where that is longer. The browser starts its audio
/// decoder on first use, and runs WebAssembly through a quick compiler until a function has
/// run a while; decoding and analysing this after loading a model spares the first real song
/// that slow start.
pub fn rehearsal(front_end: FrontEnd) -> Vec<u8> {
    let rate = DECODE_RATE as f64;
    let needed =
        (front_end.segments * front_end.min_segment_samples) as f64 / front_end.sample_rate as f64;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: DECODE_RATE as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = Vec::new();
    let mut writer = hound::WavWriter::new(std::io::Cursor::new(&mut wav), spec)
        .expect("a WAV header fits in memory");
    let tones = [220.0, 277.2, 329.6, 440.0];
    let mut phases = [0.0_f64; 4]; // cycles
    let mut noise = 0x2545_f491_u32; // xorshift32 state
    for i in 0..(REHEARSAL_SECONDS.max(1.5 * needed) * rate) as usize {
        let t = i as f64 / rate;
        let vibrato = 1.0 + 0.01 * (2.0 * PI * 5.0 * t).sin();
        let mut chord = 0.0;
        for (phase, f) in phases.iter_mut().zip(tones) {
            chord += (2.0 * PI * *phase).sin();
            *phase = (*phase + f * vibrato / rate).fract();
        }
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let burst = (-(t % 0.5) * 30.0).exp() * (noise as f64 / u32::MAX as f64 - 0.5);
        let left = 0.1 * chord + 0.3 * burst; // within ±0.55
        for x in [left, 0.9 * left] {
            writer
                .write_sample((x * 32_767.0) as i16)
                .expect("writing to memory");
        }
    }
    writer.finalize().expect("writing to memory");
    wav
}
