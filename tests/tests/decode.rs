//! Decoding real files of every supported format, and refusing broken ones clearly.

mod common;

use common::{fixture, write_float_wav};
use model_format::FrontEnd;
use std::f64::consts::PI;
use std::path::Path;
use trainer::audio::{DecodeCache, decode_file};

/// Amplitude of the sinusoid at `freq` in `x` (least-squares fit).
fn amplitude_at(x: &[f32], freq: f64, rate: u32) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let ph = 2.0 * PI * freq * i as f64 / rate as f64;
        s += v as f64 * ph.sin();
        c += v as f64 * ph.cos();
    }
    2.0 * (s * s + c * c).sqrt() / x.len() as f64
}

/// The fixtures hold 2.5 s of 440 Hz at 0.5 (left) and 1 kHz at 0.25 (right). Lossy
/// encoders move levels by up to about 0.5 dB (ffmpeg's own decoder reads the MP3 0.45 dB
/// low), so their tolerance is relative 8 %; FLAC is lossless.
#[test]
fn compressed_formats_decode_to_the_right_signal() {
    for (name, rate, tol) in [
        ("tones.mp3", 44_100, 0.08),
        ("tones.ogg", 48_000, 0.08),
        ("tones.flac", 22_050, 0.005),
        ("tones.m4a", 44_100, 0.08),
    ] {
        let pcm = decode_file(&fixture(name)).unwrap();
        assert_eq!((pcm.sample_rate, pcm.channels), (rate, 2), "{name}");
        let seconds = pcm.frames() as f64 / rate as f64;
        // Codecs pad by up to a few frames of priming and padding.
        assert!((seconds - 2.5).abs() < 0.08, "{name}: {seconds} s");
        let left: Vec<f32> = pcm.samples.iter().step_by(2).copied().collect();
        let mid = &left[left.len() / 4..left.len() * 3 / 4];
        let a = amplitude_at(mid, 440.0, rate);
        assert!((a / 0.5 - 1.0).abs() < tol, "{name}: 440 Hz at {a}");
        // Through the front-end: mono 16 kHz, both tones at half their level.
        let mono = FrontEnd::default().to_model_rate(pcm.as_pcm()).unwrap();
        let mid = &mono[mono.len() / 4..mono.len() * 3 / 4];
        let a440 = amplitude_at(mid, 440.0, 16_000);
        let a1k = amplitude_at(mid, 1000.0, 16_000);
        assert!(
            (a440 / 0.25 - 1.0).abs() < tol,
            "{name}: mono 440 Hz at {a440}"
        );
        assert!(
            (a1k / 0.125 - 1.0).abs() < tol,
            "{name}: mono 1 kHz at {a1k}"
        );
    }
}

fn write_wav(path: &Path, bits: u16, float: bool, values: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &v in values {
        match (float, bits) {
            (true, _) => w.write_sample(v).unwrap(),
            (false, 16) => w.write_sample((v * 32767.0).round() as i16).unwrap(),
            (false, 24) => w.write_sample((v * 8_388_607.0).round() as i32).unwrap(),
            (false, _) => w
                .write_sample((v as f64 * 2_147_483_647.0).round() as i32)
                .unwrap(),
        }
    }
    w.finalize().unwrap();
}

#[test]
fn wav_of_every_sample_format_decodes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let values: Vec<f32> = (0..4000)
        .map(|i| ((i * 37 % 200) as f32 - 100.0) / 125.0)
        .collect();
    for (bits, float, tolerance) in [
        (16, false, 2.0 / 32767.0),
        (24, false, 1e-6),
        (32, false, 1e-6),
        (32, true, 0.0),
    ] {
        let path = tmp.path().join(format!("x{bits}{float}.wav"));
        write_wav(&path, bits, float, &values);
        let pcm = decode_file(&path).unwrap();
        assert_eq!((pcm.channels, pcm.sample_rate), (1, 16_000));
        assert_eq!(pcm.samples.len(), values.len(), "{bits}-bit");
        let worst = pcm
            .samples
            .iter()
            .zip(&values)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= tolerance,
            "{bits}-bit float={float}: error {worst}"
        );
    }
}

#[test]
fn broken_files_are_clear_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty.mp3", Vec::new(), "empty file"),
        (
            "notes.wav",
            b"just some text, not a RIFF file at all".to_vec(),
            "not a supported audio file",
        ),
        (
            "noise.mp3",
            (0..20_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "no suitable format reader found",
        ),
        (
            "cut.flac",
            std::fs::read(fixture("tones.flac")).unwrap()[..60].to_vec(),
            "unexpected end of file",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = decode_file(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains(reason), "{name}: {text}");
    }
    let missing = decode_file(&tmp.path().join("absent.ogg")).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
}

#[test]
fn truncated_mp3_keeps_what_was_decoded() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("tones.mp3")).unwrap();
    let path = tmp.path().join("half.mp3");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let pcm = decode_file(&path).unwrap();
    let seconds = pcm.frames() as f64 / pcm.sample_rate as f64;
    assert!(
        (1.0..1.5).contains(&seconds),
        "{seconds} s from half a file"
    );
}

#[test]
fn silent_and_too_short_songs_fail_in_the_front_end() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = DecodeCache::disabled(FrontEnd::default());
    let silent = tmp.path().join("silent.wav");
    write_wav(&silent, 16, false, &vec![0.0; 64_000]);
    let decoded = cache.load(&silent).unwrap();
    let err = cache.front_end().segment(&decoded.mono).unwrap_err();
    assert!(err.to_string().contains("silent"), "{err}");
    let short = tmp.path().join("short.wav");
    write_wav(&short, 16, false, &vec![0.5; 16_000]);
    let decoded = cache.load(&short).unwrap();
    let err = cache.front_end().segment(&decoded.mono).unwrap_err();
    assert!(err.to_string().contains("too short"), "{err}");
}

/// 3 s of a 440 Hz tone of 0.5 in the first of `channels` channels, silence in the others.
fn tone_in_first_channel(channels: u16, rate: u32) -> Vec<f32> {
    (0..3 * rate as usize)
        .flat_map(|i| {
            let t = i as f64 / rate as f64;
            let x = (0.5 * (2.0 * PI * 440.0 * t).sin()) as f32;
            std::iter::once(x).chain(std::iter::repeat_n(0.0, channels as usize - 1))
        })
        .collect()
}

/// Unusual but valid files reach the model's rate with the right signal; broken ones are
/// errors that name the file and the reason, never panics.
#[test]
fn unusual_and_broken_files_through_the_front_end() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = DecodeCache::disabled(FrontEnd::default());
    // 8 channels, 192 kHz and 8 kHz: mono at 16 kHz, 440 Hz at 0.5 / channels.
    for (name, channels, rate) in [
        ("eight.wav", 8, 48_000),
        ("hi.wav", 1, 192_000),
        ("lo.wav", 1, 8_000),
    ] {
        let path = tmp.path().join(name);
        write_float_wav(
            &path,
            channels,
            rate,
            &tone_in_first_channel(channels, rate),
        );
        let d = cache.load(&path).unwrap();
        assert_eq!(
            (d.source_channels, d.source_rate),
            (channels as u32, rate),
            "{name}"
        );
        assert!(
            (d.mono.len() as i64 - 48_000).abs() <= 16,
            "{name}: {}",
            d.mono.len()
        );
        let mid = &d.mono[12_000..36_000];
        let a = amplitude_at(mid, 440.0, 16_000);
        let expected = 0.5 / channels as f64;
        assert!((a / expected - 1.0).abs() < 0.01, "{name}: 440 Hz at {a}");
    }
    let file = |name: &str| tmp.path().join(name);
    let mut nan = vec![0.25f32; 16_000];
    nan[100] = f32::NAN;
    nan[200] = f32::INFINITY;
    nan[300] = f32::NEG_INFINITY;
    write_float_wav(&file("nan.wav"), 1, 16_000, &nan);
    write_float_wav(&file("header-only.wav"), 2, 44_100, &[]);
    std::fs::write(
        file("image.mp3"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
    )
    .unwrap();
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_246_822_519) >> 17) as u8)
        .collect();
    std::fs::write(file("random.ogg"), random).unwrap();
    for (name, reason) in [
        ("nan.wav", "not finite"),
        ("header-only.wav", "no audio samples"),
        ("image.mp3", "not a supported audio file"),
        ("random.ogg", "not a supported audio file"),
    ] {
        let path = file(name);
        let text = cache.load(&path).unwrap_err().to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains(reason), "{name}: {text}");
    }
}

/// A recording past the decoding limit (an hour of stereo at 48 kHz) is refused with the limit
/// named, before anything is decoded when its header announces the length: here a WAV header
/// that claims four hours over one second of samples. A file past the size limit is refused
/// before it is read.
#[test]
fn recordings_past_the_length_or_size_limit_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("four-hours.wav");
    let (rate, channels) = (48_000u32, 2u16);
    let claimed = 4 * 3600 * rate * channels as u32 * 2; // bytes of 16-bit samples
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + claimed).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    wav.extend_from_slice(&(channels * 2).to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&claimed.to_le_bytes());
    for i in 0..rate {
        let v = (((i as f32) * 0.05).sin() * 10_000.0) as i16;
        wav.extend_from_slice(&v.to_le_bytes());
        wav.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&path, &wav).unwrap();
    // A file over the size limit is refused before it is read (a sparse file: no disk used).
    let big = tmp.path().join("big.wav");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(trainer::audio::decode::MAX_FILE_BYTES + 1)
        .unwrap();
    let err = decode_file(&big).unwrap_err();
    assert!(err.reason.contains("files up to 1073 MB are read"), "{err}");
    let err = decode_file(&path).unwrap_err();
    assert_eq!(err.path, path);
    assert!(
        err.reason
            .contains("too long: 240 min of 2 channels at 48000 Hz")
            && err.reason.contains("the limit is 345 M samples"),
        "{err}"
    );
}

/// A three-hour recording, streamed to disk second by second (never whole in memory here), is
/// within the limit at 8 kHz mono and goes through decoding and the front-end: its four
/// segments are 45 minutes each. (Its memory peak is measured, not asserted: see the limits'
/// documentation in `trainer::audio::decode`.)
#[test]
fn a_three_hour_recording_streamed_to_disk_is_read() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("three-hours.wav");
    let (rate, seconds) = (8_000u32, 3 * 3600u32);
    let bytes = rate * seconds; // 8-bit mono
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"RIFF").unwrap();
    f.write_all(&(36 + bytes).to_le_bytes()).unwrap();
    f.write_all(b"WAVEfmt ").unwrap();
    for field in [
        16u32.to_le_bytes().as_slice(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
    ] {
        f.write_all(field).unwrap();
    }
    f.write_all(&rate.to_le_bytes()).unwrap();
    f.write_all(&rate.to_le_bytes()).unwrap(); // bytes per second
    f.write_all(&1u16.to_le_bytes()).unwrap(); // block align
    f.write_all(&8u16.to_le_bytes()).unwrap();
    f.write_all(b"data").unwrap();
    f.write_all(&bytes.to_le_bytes()).unwrap();
    let second: Vec<u8> = (0..rate)
        .map(|i| (128.0 + 60.0 * (2.0 * PI * 440.0 * i as f64 / rate as f64).sin()) as u8)
        .collect();
    for _ in 0..seconds {
        f.write_all(&second).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();

    let pcm = decode_file(&path).unwrap();
    assert_eq!((pcm.channels, pcm.sample_rate), (1, rate));
    assert_eq!(pcm.samples.len(), bytes as usize);
    let segments = FrontEnd::default().prepare(pcm.as_pcm()).unwrap();
    assert_eq!(segments.len(), 4);
    for s in &segments {
        let (start, end) = s.span(16_000);
        assert!((end - start - 2700.0).abs() < 0.01, "{start}–{end} s");
    }
}
