//! The model bundle: one self-describing file that `trainer export` writes and the browser
//! and `trainer predict` load.
//!
//! Layout: magic `MERMODEL`, format version (u32 LE), payload length (u64 LE), BLAKE3 hash of
//! the payload (32 bytes), then the payload: a [`Bundle`] serialised with bincode (serde,
//! standard configuration). The weights inside are a burnpack of the model's parameters,
//! optionally in f16. A truncated, corrupted, foreign or newer file is a [`BundleError`].
//!
//! Version 2 added the MLP; version 3, the valence–arousal regression head: its payload is
//! version 2's followed by an [`Extension`] (bincode too). Files of versions 1 and 2 read
//! unchanged, and a bundle is written in the oldest version that holds it.

use crate::features::FeatureSet;
use crate::mlp::{FeaturePipeline, Mlp, MlpConfig};
use crate::sincnet::{SincNet, SincNetConfig};
use crate::{FrontEnd, Quadrant};
use burn::prelude::*;
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

/// First bytes of every bundle.
pub const MAGIC: &[u8; 8] = b"MERMODEL";
/// The version this code writes and reads.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest version this code reads.
const OLDEST_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;
/// The most a payload may decode to, in bytes (the paper's SincNet, about 22 M parameters by
/// its layer sizes, is about 86 MB in f32).
/// The decoder counts every length a payload claims against it before allocating, so a
/// crafted bundle cannot ask for more memory than this.
pub const MAX_PAYLOAD: usize = 256 << 20;

/// The architecture and its configuration. bincode encodes a variant by its index: add new
/// variants at the end only (the same holds for [`FeatureSet`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelKind {
    /// SincNet on raw audio windows.
    SincNet(SincNetConfig),
    /// The handcrafted-feature baseline: a song segment's features, scaled and selected by
    /// `pipeline`, into the network.
    Mlp {
        /// The network's input, hidden and output sizes.
        config: MlpConfig,
        /// The handcrafted feature set extracted from each segment.
        features: FeatureSet,
        /// Scaling and selection applied to the features before the network.
        pipeline: FeaturePipeline,
    },
}

impl ModelKind {
    /// The oldest format that can hold this model: SincNet bundles stay readable by version 1
    /// readers.
    fn format_version(&self) -> u32 {
        match self {
            ModelKind::SincNet(_) => 1,
            ModelKind::Mlp { .. } => 2,
        }
    }

    /// The analysis window the network reads, ms (0 for a model that reads whole segments).
    pub fn window_ms(&self) -> u32 {
        match self {
            ModelKind::SincNet(c) => c.window_ms,
            ModelKind::Mlp { .. } => 0,
        }
    }

    /// The architecture in a few words.
    pub fn name(&self) -> String {
        match self {
            ModelKind::SincNet(c) => format!("SincNet {} ms", c.window_ms),
            ModelKind::Mlp { features, .. } => format!("MLP on {} features", features.name()),
        }
    }
}

/// How the weights are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightsDType {
    /// Single precision, as trained.
    F32,
    /// Half precision (batch norms stay f32); about half the size, for the web.
    F16,
}

/// Where the model came from: enough to repeat or audit its training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Training datasets, in the order they were used.
    pub datasets: Vec<String>,
    /// Set-up: within, cross, transfer, mixed, or an import.
    pub setup: String,
    /// The split manifest used (its content hash), if any.
    pub split: Option<String>,
    /// Random seed of the training run.
    pub seed: u64,
    /// Training epochs run.
    pub epochs: usize,
    /// Evaluation results at export, as JSON.
    pub metrics_json: String,
    /// `trainer` version that wrote the bundle.
    pub code_version: String,
}

/// Everything a model needs to run on a song.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// The architecture and its configuration.
    pub model: ModelKind,
    /// Class names, in output order.
    pub labels: Vec<String>,
    /// How songs must be prepared.
    pub front_end: FrontEnd,
    /// Analysis window, ms (0 for a model that reads whole segments): a copy of the
    /// network's own ([`ModelKind::window_ms`]), which is the one code reads. The file keeps it
    /// so that version 1 readers still read SincNet bundles; [`Bundle::new`] fills it and
    /// [`Bundle::check`] refuses a bundle where the two differ.
    pub window_ms: u32,
    /// Hop between windows at inference, ms (`cw_shift`; 0 for a model that reads whole
    /// segments).
    pub shift_ms: u32,
    /// Where the model came from.
    pub provenance: Provenance,
    /// How [`Bundle::weights`] are stored.
    pub weights_dtype: WeightsDType,
    /// Burnpack of the parameters.
    pub weights: Vec<u8>,
    /// The network regresses valence and arousal beside the quadrant (its weights hold the
    /// `va_head`). Stored in the version 3 [`Extension`].
    #[serde(skip)]
    pub va_head: bool,
}

/// What version 3 appends to the payload. Later versions may append more fields.
#[derive(Serialize, Deserialize)]
struct Extension {
    va_head: bool,
}

/// Why a bundle could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    /// The file does not start with [`MAGIC`].
    #[error("not a model bundle (no MERMODEL header)")]
    NotABundle,
    /// The format version is newer than [`FORMAT_VERSION`].
    #[error("bundle format {found} is newer than this program reads ({FORMAT_VERSION}); update it")]
    Newer {
        /// The version in the header.
        found: u32,
    },
    /// The format version is older than any this code reads.
    #[error(
        "bundle format {found} is not supported (this program reads {OLDEST_VERSION} to {FORMAT_VERSION})"
    )]
    Unsupported {
        /// The version in the header.
        found: u32,
    },
    /// The file is shorter than its header, or than the header says.
    #[error("truncated: {found} of {expected} bytes")]
    Truncated {
        /// Bytes the file should hold.
        expected: u64,
        /// Bytes the file holds.
        found: u64,
    },
    /// The payload does not match its BLAKE3 hash.
    #[error("corrupted: checksum mismatch")]
    Checksum,
    /// The payload does not decode as a [`Bundle`], or its contents are inconsistent.
    #[error("malformed contents: {0}")]
    Malformed(String),
    /// The weights could not be packed, or do not fit the model.
    #[error("weights do not fit the model: {0}")]
    Weights(String),
}

fn adapter() -> HalfPrecisionAdapter {
    HalfPrecisionAdapter::new()
        .with_module("SincConv")
        .with_module("TimeNorm")
        .with_module("WindowNorm")
}

/// The parameters of `model` as a burnpack (f16 except batch norms when asked). Reads the
/// tensors synchronously: native only.
pub fn pack_weights<M: ModuleSnapshot>(
    model: &M,
    dtype: WeightsDType,
) -> Result<Vec<u8>, BundleError> {
    let mut store = BurnpackStore::from_bytes(None);
    if dtype == WeightsDType::F16 {
        store = store.with_to_adapter(adapter());
    }
    let failed = |e: String| BundleError::Weights(format!("packing: {e}"));
    model
        .save_into(&mut store)
        .map_err(|e| failed(e.to_string()))?;
    Ok(store
        .get_bytes()
        .map_err(|e| failed(e.to_string()))?
        .to_vec())
}

/// Loads burnpack `weights` into `model`, every parameter required, as f32.
pub fn unpack_weights<M: ModuleSnapshot>(
    model: &mut M,
    weights: &[u8],
    dtype: WeightsDType,
) -> Result<(), BundleError> {
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(weights.to_vec())));
    if dtype == WeightsDType::F16 {
        store = store.with_from_adapter(adapter());
    }
    let r = model
        .load_from(&mut store)
        .map_err(|e| BundleError::Weights(e.to_string()))?;
    if !r.missing.is_empty() || !r.errors.is_empty() {
        return Err(BundleError::Weights(format!(
            "missing {:?}, errors {:?}",
            r.missing, r.errors
        )));
    }
    Ok(())
}

impl Bundle {
    /// A bundle of `model`'s packed `weights`: the labels are the four quadrants' names and
    /// the window is the network's.
    pub fn new(
        model: ModelKind,
        front_end: FrontEnd,
        shift_ms: u32,
        provenance: Provenance,
        weights_dtype: WeightsDType,
        weights: Vec<u8>,
    ) -> Bundle {
        Bundle {
            window_ms: model.window_ms(),
            model,
            labels: Quadrant::ALL.iter().map(|q| q.name().to_string()).collect(),
            front_end,
            shift_ms,
            provenance,
            weights_dtype,
            weights,
            va_head: false,
        }
    }

    /// The oldest format version that holds this bundle.
    pub fn format_version(&self) -> u32 {
        if self.va_head {
            3
        } else {
            self.model.format_version()
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let config = bincode::config::standard();
        let version = self.format_version();
        let mut payload = bincode::serde::encode_to_vec(self, config).expect("a bundle serialises");
        if version >= 3 {
            let extension = Extension {
                va_head: self.va_head,
            };
            payload.extend(bincode::serde::encode_to_vec(extension, config).expect("serialises"));
        }
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(blake3::hash(&payload).as_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads a bundle, checking header, version, length and checksum before decoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(BundleError::NotABundle);
        }
        if bytes.len() < HEADER_LEN {
            return Err(BundleError::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if version > FORMAT_VERSION {
            return Err(BundleError::Newer { found: version });
        }
        if version < OLDEST_VERSION {
            return Err(BundleError::Unsupported { found: version });
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
        let payload = &bytes[HEADER_LEN..];
        if (payload.len() as u64) < len {
            return Err(BundleError::Truncated {
                expected: (HEADER_LEN as u64).saturating_add(len),
                found: bytes.len() as u64,
            });
        }
        let payload = &payload[..len as usize];
        if blake3::hash(payload).as_bytes() != &bytes[20..HEADER_LEN] {
            return Err(BundleError::Checksum);
        }
        let config = bincode::config::standard().with_limit::<MAX_PAYLOAD>();
        let malformed = |e: bincode::error::DecodeError| BundleError::Malformed(e.to_string());
        let (mut bundle, mut used): (Bundle, usize) =
            bincode::serde::decode_from_slice(payload, config).map_err(malformed)?;
        if version >= 3 {
            let (extension, more): (Extension, usize) =
                bincode::serde::decode_from_slice(&payload[used..], config).map_err(malformed)?;
            bundle.va_head = extension.va_head;
            used += more;
        }
        if used != payload.len() {
            return Err(BundleError::Malformed(
                "trailing bytes in the payload".into(),
            ));
        }
        bundle.check()?;
        Ok(bundle)
    }

    /// Checks that the parts agree: a sane front-end, one label per quadrant, and a network
    /// whose classes, window, rate and inputs are the bundle's. [`Bundle::from_bytes`] runs
    /// it, so a bundle that reads never hands a model input of a shape it cannot take.
    pub fn check(&self) -> Result<(), BundleError> {
        let malformed = |m: String| Err(BundleError::Malformed(m));
        self.front_end.validate().map_err(BundleError::Malformed)?;
        if self.labels.len() != Quadrant::ALL.len() {
            return malformed(format!("{} labels for 4 quadrants", self.labels.len()));
        }
        match &self.model {
            ModelKind::SincNet(config) => {
                config
                    .validate()
                    .map_err(|e| BundleError::Malformed(e.to_string()))?;
                if config.classes != Quadrant::ALL.len() {
                    return malformed(format!("a SincNet of {} classes", config.classes));
                }
                if config.window_ms != self.window_ms
                    || config.sample_rate != self.front_end.sample_rate
                {
                    return malformed(format!(
                        "a SincNet of {} ms windows at {} Hz fed {} ms windows at {} Hz",
                        config.window_ms,
                        config.sample_rate,
                        self.window_ms,
                        self.front_end.sample_rate
                    ));
                }
                if self.shift_ms == 0 {
                    return malformed("a window hop of 0 ms".into());
                }
            }
            ModelKind::Mlp {
                config,
                features,
                pipeline,
            } => {
                pipeline.validate().map_err(BundleError::Malformed)?;
                if self.front_end != FrontEnd::default() {
                    return malformed(
                        "an MLP's features are defined on the default front-end's segments".into(),
                    );
                }
                if config.classes != Quadrant::ALL.len()
                    || !(1..=1 << 16).contains(&config.hidden)
                    || config.inputs == 0
                {
                    return malformed(format!(
                        "a network of {} inputs, {} hidden units and {} classes",
                        config.inputs, config.hidden, config.classes,
                    ));
                }
                if pipeline.selected.len() != config.inputs
                    || pipeline.names.len() != features.values()
                {
                    return malformed(format!(
                        "{} selected of {} features for a network of {} inputs on {} {} features",
                        pipeline.selected.len(),
                        pipeline.names.len(),
                        config.inputs,
                        features.values(),
                        features.name()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The SincNet this bundle describes, with its weights, on `device`.
    pub fn sincnet(&self, device: &Device) -> Result<SincNet, BundleError> {
        let ModelKind::SincNet(config) = &self.model else {
            return Err(BundleError::Malformed(format!(
                "a {} where a SincNet was expected",
                self.model.name()
            )));
        };
        self.check()?;
        let mut model = config
            .init(device)
            .map_err(|e| BundleError::Malformed(e.to_string()))?;
        if self.va_head {
            model = model.with_va_head();
        }
        unpack_weights(&mut model, &self.weights, self.weights_dtype)?;
        Ok(model)
    }

    /// The MLP this bundle describes, with its weights on `device` and its feature pipeline.
    pub fn mlp(&self, device: &Device) -> Result<(Mlp, FeatureSet, FeaturePipeline), BundleError> {
        let ModelKind::Mlp {
            config,
            features,
            pipeline,
        } = &self.model
        else {
            return Err(BundleError::Malformed(format!(
                "a {} where an MLP was expected",
                self.model.name()
            )));
        };
        self.check()?;
        let mut model = config.init(device);
        if self.va_head {
            model = model.with_va_head();
        }
        unpack_weights(&mut model, &self.weights, self.weights_dtype)?;
        Ok((model, *features, pipeline.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SincNetConfig {
        SincNetConfig {
            sinc_filters: 8,
            conv_filters: vec![6, 6],
            fc: vec![16, 16],
            ..SincNetConfig::paper(200)
        }
    }

    fn bundle(dtype: WeightsDType) -> (Bundle, SincNet) {
        let device = Device::flex();
        let config = tiny();
        let model = config.init(&device).unwrap();
        let b = Bundle {
            model: ModelKind::SincNet(config),
            labels: crate::Quadrant::ALL
                .iter()
                .map(|q| q.name().to_string())
                .collect(),
            front_end: FrontEnd::default(),
            window_ms: 200,
            shift_ms: 10,
            provenance: Provenance {
                datasets: vec!["synthetic 4Q".into()],
                setup: "within".into(),
                seed: 12,
                ..Provenance::default()
            },
            weights_dtype: dtype,
            weights: pack_weights(&model, dtype).unwrap(),
            va_head: false,
        };
        (b, model)
    }

    fn outputs(m: &SincNet) -> Vec<f32> {
        let device = Device::flex();
        let x: Vec<f32> = (0..2 * 3200)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [2, 3200]), &device);
        m.valid().forward(x).into_data().try_into_vec_as().unwrap()
    }

    #[test]
    fn round_trip_gives_the_same_model() {
        let (b, model) = bundle(WeightsDType::F32);
        let back = Bundle::from_bytes(&b.to_bytes()).unwrap();
        assert_eq!(back, b);
        assert_eq!(
            outputs(&back.sincnet(&Device::flex()).unwrap()),
            outputs(&model)
        );
    }

    #[test]
    fn f16_is_smaller_and_close() {
        let (b32, model) = bundle(WeightsDType::F32);
        let (b16, _) = bundle(WeightsDType::F16);
        assert!(
            b16.weights.len() * 10 < b32.weights.len() * 6,
            "{} vs {}",
            b16.weights.len(),
            b32.weights.len()
        );
        let half = Bundle::from_bytes(&b16.to_bytes())
            .unwrap()
            .sincnet(&Device::flex())
            .unwrap();
        for (a, b) in outputs(&half).iter().zip(outputs(&model)) {
            assert!((a - b).abs() < 0.02, "{a} vs {b}");
        }
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let (b, _) = bundle(WeightsDType::F32);
        let bytes = b.to_bytes();
        assert_eq!(
            Bundle::from_bytes(b"RIFF....WAVE"),
            Err(BundleError::NotABundle)
        );
        assert!(matches!(
            Bundle::from_bytes(&bytes[..bytes.len() / 2]),
            Err(BundleError::Truncated { .. })
        ));
        // A header claiming more bytes than any file holds (found by the coverage-guided fuzzer:
        // the expected length overflowed).
        let mut huge = bytes.clone();
        huge[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            Bundle::from_bytes(&huge),
            Err(BundleError::Truncated {
                expected: u64::MAX,
                found: bytes.len() as u64
            })
        );
        // A payload with a valid checksum whose first label claims 2^62 bytes (found by the
        // coverage-guided fuzzer: the decoder tried to allocate them and aborted the process).
        let payload = &bytes[HEADER_LEN..];
        let at = payload
            .windows(4)
            .position(|w| w == [4, 2, b'Q', b'1'])
            .expect("the labels")
            + 1;
        let mut crafted = payload[..at].to_vec();
        crafted.push(253); // bincode's varint marker of a u64
        crafted.extend_from_slice(&(1u64 << 62).to_le_bytes());
        crafted.extend_from_slice(&payload[at + 1..]);
        let mut claims = bytes[..12].to_vec();
        claims.extend_from_slice(&(crafted.len() as u64).to_le_bytes());
        claims.extend_from_slice(blake3::hash(&crafted).as_bytes());
        claims.extend_from_slice(&crafted);
        let err = Bundle::from_bytes(&claims).unwrap_err();
        assert!(matches!(err, BundleError::Malformed(_)), "{err}");
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 1;
        assert_eq!(Bundle::from_bytes(&flipped), Err(BundleError::Checksum));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let err = Bundle::from_bytes(&newer).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        // Weights of another architecture do not load.
        let mut other = b.clone();
        let ModelKind::SincNet(c) = &mut other.model else {
            unreachable!()
        };
        c.fc = vec![32, 16];
        assert!(matches!(
            other.sincnet(&Device::flex()),
            Err(BundleError::Weights(_))
        ));
    }

    #[test]
    fn bundles_whose_parts_disagree_do_not_read() {
        let (b, _) = bundle(WeightsDType::F32);
        type Craft = fn(&mut Bundle);
        let crafted: [(&str, Craft); 7] = [
            ("5 classes", |b| {
                let ModelKind::SincNet(c) = &mut b.model else {
                    unreachable!()
                };
                c.classes = 5;
            }),
            ("3 labels", |b| {
                b.labels.pop();
            }),
            ("500 ms windows", |b| b.window_ms = 500),
            ("22050 Hz", |b| b.front_end.sample_rate = 22_050),
            ("hop of 0 ms", |b| b.shift_ms = 0),
            ("0 segments", |b| b.front_end.segments = 0),
            ("10 ms window", |b| {
                let ModelKind::SincNet(c) = &mut b.model else {
                    unreachable!()
                };
                c.window_ms = 10;
                b.window_ms = 10;
            }),
        ];
        for (what, craft) in crafted {
            let mut bad = b.clone();
            craft(&mut bad);
            let err = Bundle::from_bytes(&bad.to_bytes()).unwrap_err();
            assert!(matches!(err, BundleError::Malformed(_)), "{what}: {err}");
            assert!(
                matches!(bad.sincnet(&Device::flex()), Err(BundleError::Malformed(_))),
                "{what}"
            );
        }
    }

    #[test]
    fn sincnet_bundles_stay_version_1() {
        let (b, _) = bundle(WeightsDType::F32);
        let mut v1 = b.to_bytes();
        assert_eq!(
            v1[8..12],
            1u32.to_le_bytes(),
            "readable by version 1 readers"
        );
        assert_eq!(Bundle::from_bytes(&v1).unwrap(), b);
        v1[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            Bundle::from_bytes(&v1),
            Err(BundleError::Unsupported { found: 0 })
        ));
    }

    #[test]
    fn a_regression_head_makes_version_3_and_round_trips() {
        let device = Device::flex();
        let (plain, _) = bundle(WeightsDType::F32);
        let model = tiny().init(&device).unwrap().with_va_head();
        let b = Bundle {
            weights: pack_weights(&model, WeightsDType::F32).unwrap(),
            va_head: true,
            ..plain.clone()
        };
        let bytes = b.to_bytes();
        assert_eq!(bytes[8..12], 3u32.to_le_bytes());
        let back = Bundle::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.1f32; 3200], [1, 3200]), &device);
        let va = |m: &SincNet| -> Vec<f32> {
            let (_, va) = m.valid().forward_va(x.clone());
            va.expect("a head").into_data().try_to_vec().unwrap()
        };
        let loaded = back.sincnet(&device).unwrap();
        assert_eq!(va(&loaded), va(&model));
        assert!(va(&loaded).iter().all(|v| v.abs() < 1.0));
        // The flag and the weights must agree: a head the weights lack is an error.
        let lying = Bundle {
            va_head: true,
            ..plain.clone()
        };
        let err = Bundle::from_bytes(&lying.to_bytes())
            .unwrap()
            .sincnet(&device)
            .unwrap_err();
        assert!(matches!(err, BundleError::Weights(_)), "{err}");
        // A version 3 file cut short of its extension, or with bytes after it, is malformed.
        let mut cut = plain.to_bytes();
        cut[8..12].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(
            Bundle::from_bytes(&cut),
            Err(BundleError::Malformed(_))
        ));
    }

    #[test]
    fn an_mlp_round_trips_with_its_pipeline() {
        let device = Device::flex();
        let set = FeatureSet::Essentia;
        let config = MlpConfig::paper(3);
        let model = config.init(&device);
        let pipeline = FeaturePipeline {
            names: (0..set.values()).map(|i| format!("f{i}")).collect(),
            scale: vec![1.0; set.values()],
            offset: vec![0.0; set.values()],
            selected: vec![0, 5, 9],
        };
        let b = Bundle {
            model: ModelKind::Mlp {
                config,
                features: set,
                pipeline: pipeline.clone(),
            },
            weights: pack_weights(&model, WeightsDType::F32).unwrap(),
            window_ms: 0,
            shift_ms: 0,
            ..bundle(WeightsDType::F32).0
        };
        assert_eq!(b.to_bytes()[8..12], 2u32.to_le_bytes());
        let back = Bundle::from_bytes(&b.to_bytes()).unwrap();
        let (m, f, p) = back.mlp(&device).unwrap();
        assert_eq!((f, &p), (set, &pipeline));
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.3f32; 3], [1, 3]), &device);
        let out = |m: &Mlp| -> Vec<f32> { m.forward(x.clone()).into_data().try_to_vec().unwrap() };
        assert_eq!(out(&m), out(&model));
        assert!(back.sincnet(&device).is_err());
        assert!(bundle(WeightsDType::F32).0.mlp(&device).is_err());
        // A pipeline that does not fit the network is refused.
        let mut broken = b.clone();
        if let ModelKind::Mlp { pipeline, .. } = &mut broken.model {
            pipeline.selected.pop();
        }
        assert!(matches!(
            broken.mlp(&device),
            Err(BundleError::Malformed(_))
        ));
    }
}
