//! The fuzz targets: each takes arbitrary bytes to a parser (and on to what consumes its
//! output) and must return, never panic. Each comes with valid inputs to start from.

use burn::prelude::Device;
use model_format::FrontEnd;
use model_format::bundle::{Bundle, ModelKind, Provenance, WeightsDType, pack_weights};
use model_format::features::FeatureSet;
use model_format::inference::{Batching, Model};
use model_format::sincnet::SincNetConfig;
use std::path::Path;
use trainer::audio::DecodeCache;
use trainer::audio::cache::{Decoded, entry_bytes, parse_entry};
use trainer::dataset::split::Split;
use trainer::dataset::{Dataset, Layout, Song};

/// A parser under test.
pub struct Target {
    /// Its name, as `mer-fuzz` and `regressions/` know it.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
    /// Valid inputs to mutate.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Longest input the fuzzer makes.
    pub max_len: usize,
}

/// Every target.
pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "bundle",
            run: bundle,
            seeds: bundle_seeds,
            max_len: 1 << 16,
        },
        Target {
            name: "decode-cache-entry",
            run: decode_cache_entry,
            seeds: decode_cache_seeds,
            max_len: 1 << 16,
        },
        Target {
            name: "feature-cache-entry",
            run: feature_cache_entry,
            seeds: feature_cache_seeds,
            max_len: 1 << 14,
        },
        Target {
            name: "split",
            run: split,
            seeds: split_seeds,
            max_len: 1 << 12,
        },
        Target {
            name: "ch818-workbook",
            run: ch818_workbook,
            seeds: ch818_workbook_seeds,
            max_len: 1 << 15,
        },
        Target {
            name: "ch818-csv",
            run: ch818_csv,
            seeds: ch818_csv_seeds,
            max_len: 1 << 12,
        },
        Target {
            name: "audio",
            run: audio,
            seeds: audio_seeds,
            max_len: 1 << 15,
        },
    ]
}

/// The length of a bundle's header (magic, version, length, BLAKE3).
const BUNDLE_HEADER: usize = 52;

/// The bytes as a bundle and, with the length and checksum made right, as one whose payload
/// is the rest; a bundle that reads is loaded as a model on the CPU.
fn bundle(data: &[u8]) {
    let _ = Bundle::from_bytes(data);
    if data.len() < BUNDLE_HEADER {
        return;
    }
    let mut framed = data.to_vec();
    let payload = &data[BUNDLE_HEADER..];
    framed[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    framed[20..BUNDLE_HEADER].copy_from_slice(blake3::hash(payload).as_bytes());
    if let Ok(b) = Bundle::from_bytes(&framed) {
        let batching = Batching {
            windows: 8,
            bytes: None,
        };
        let _ = Model::from_bundle(&b, &Device::flex(), batching);
    }
}

/// A SincNet bundle small enough to mutate quickly, in f16 and f32.
fn bundle_seeds() -> Vec<Vec<u8>> {
    let config = SincNetConfig {
        sinc_filters: 4,
        sinc_len: 15,
        conv_filters: vec![4, 4],
        fc: vec![8],
        ..SincNetConfig::paper(200)
    };
    let model = config.init(&Device::flex()).expect("a valid configuration");
    [WeightsDType::F16, WeightsDType::F32]
        .into_iter()
        .map(|dtype| {
            let weights = pack_weights(&model, dtype).expect("packs");
            let kind = ModelKind::SincNet(config.clone());
            Bundle::new(
                kind,
                FrontEnd::default(),
                200,
                Provenance::default(),
                dtype,
                weights,
            )
            .to_bytes()
        })
        .collect()
}

/// A decode-cache entry, and the front-end on what it holds.
fn decode_cache_entry(data: &[u8]) {
    let fe = FrontEnd::default();
    if let Some(d) = parse_entry(data, fe.sample_rate) {
        let _ = fe.segment(&d.mono);
    }
}

fn decode_cache_seeds() -> Vec<Vec<u8>> {
    let tone = |n: usize| -> Vec<f32> { (0..n).map(|i| (i as f32 * 0.07).sin() * 0.5).collect() };
    [1_000, 40_000]
        .into_iter()
        .map(|n| {
            entry_bytes(&Decoded {
                mono: tone(n),
                rate: 16_000,
                source_rate: 44_100,
                source_channels: 2,
                source_frames: n as u64 * 44_100 / 16_000,
            })
        })
        .collect()
}

/// A feature-cache entry of each set.
fn feature_cache_entry(data: &[u8]) {
    for set in [FeatureSet::Is13, FeatureSet::Essentia, FeatureSet::Combined] {
        let _ = trainer::features::parse_entry(data, set);
    }
}

fn feature_cache_seeds() -> Vec<Vec<u8>> {
    let set = FeatureSet::Essentia;
    let names: Vec<String> = (0..set.values()).map(|i| format!("\"f{i}\"")).collect();
    let row: Vec<String> = (0..set.values()).map(|i| format!("{}.5", i)).collect();
    vec![
        format!(
            "{{\"names\":[{}],\"rows\":[[{}]],\"spans\":[[0.0,7.5]]}}",
            names.join(","),
            row.join(",")
        )
        .into_bytes(),
    ]
}

/// A split manifest, resolved against a few songs.
fn split(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Split::parse(text) {
        let songs: Vec<Song> = (0..4)
            .map(|i| Song {
                id: format!("s{i}"),
                path: format!("s{i}.wav").into(),
                quadrant: model_format::Quadrant::ALL[i],
                valence_arousal: None,
            })
            .collect();
        let _ = s.resolve(&songs);
        let _ = s.datasets();
    }
}

fn split_seeds() -> Vec<Vec<u8>> {
    vec![
        br#"{"format":1,"dataset":"tr x","seed":42,"test_fraction":0.2,"balanced":false,"train":[{"id":"s0","quadrant":"Q1"},{"id":"s1","quadrant":"Q2"}],"test":[{"id":"s2","quadrant":"Q3"},{"id":"s3","quadrant":"Q4"}]}"#.to_vec(),
    ]
}

/// The bytes as `name` in a CH-818 folder with a few clips, loaded as the dataset.
fn ch818_folder(name: &str, data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let clips = dir.path().join("clips");
    if std::fs::create_dir(&clips).is_err() || std::fs::write(dir.path().join(name), data).is_err()
    {
        return;
    }
    for n in ["001", "002", "003"] {
        let _ = std::fs::write(clips.join(format!("{n}.wav")), b"");
    }
    let _ = Dataset::load(dir.path(), Some(Layout::Ch818));
}

fn ch818_workbook(data: &[u8]) {
    ch818_folder("CH818.xlsx", data);
}

fn ch818_csv(data: &[u8]) {
    ch818_folder("CH818.csv", data);
}

/// The workbook `trainer data synth --layout ch818` writes.
fn ch818_workbook_seeds() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let opts = trainer::synth::SynthOptions {
        layout: Layout::Ch818,
        songs: 4,
        seconds: 2.0,
        seed: 1,
    };
    trainer::synth::write_dataset(dir.path(), &opts, &indicatif::ProgressBar::hidden())
        .expect("synthesises");
    vec![std::fs::read(dir.path().join("CH818.xlsx")).expect("the workbook")]
}

fn ch818_csv_seeds() -> Vec<Vec<u8>> {
    vec![
        b"Song,Title,Artist,Valence,Arousal,Quads\n1,a,b,2.5,3.0,Q1\n2,c,d,-4,6,Q2\n3,e,f,-1.5,-2,Q3\n"
            .to_vec(),
        b"Song,Valence,Arousal\n1,2.5,3.0\n2,-4,6\n3,-1.5,-2\n".to_vec(),
    ]
}

/// The bytes as an audio file (its kind chosen by the first byte), through decoding, the
/// front-end and both feature extractors.
fn audio(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let ext = ["wav", "mp3", "ogg", "flac"][kind as usize % 4];
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join(format!("song.{ext}"));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    audio_file(&path);
}

fn audio_file(path: &Path) {
    let cache = DecodeCache::disabled(FrontEnd::default());
    if cache.load_segments(path).is_ok() {
        let _ = trainer::features::song_features(path, FeatureSet::Combined, &cache);
    }
}

/// Short WAV files (16-bit and float, mono and stereo), and a kind byte for each.
fn audio_seeds() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut out = Vec::new();
    for (k, (channels, float)) in [(1u16, false), (2, true)].into_iter().enumerate() {
        let path = dir.path().join(format!("{k}.wav"));
        let spec = hound::WavSpec {
            channels,
            sample_rate: 8_000,
            bits_per_sample: if float { 32 } else { 16 },
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("writes");
        for i in 0..8_000 * channels as usize {
            let v = (i as f32 * 0.05).sin() * 0.4;
            if float {
                w.write_sample(v).expect("writes");
            } else {
                w.write_sample((v * 32_767.0) as i16).expect("writes");
            }
        }
        w.finalize().expect("writes");
        let mut input = vec![0u8];
        input.extend(std::fs::read(&path).expect("reads"));
        out.push(input);
    }
    out
}
