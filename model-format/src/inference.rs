//! From a model to a song's prediction, the same way in the trainer and the browser.
//!
//! A [`Model`] is a bundle's network on a device with what it needs to read a song: its
//! front-end, its window and hop (SincNet), or its features and their pipeline (MLP).
//! [`Model::batches`] turns a song's [`Input`] into the input tensors the network takes, and
//! [`Batches::finish`] turns the network's outputs (log-posteriors, then valence and arousal
//! where the model regresses them) into a [`SongPrediction`]. The host
//! runs each batch through [`Model::forward`] and reads the result back: synchronously natively
//! ([`Model::predict`] does it all), with `into_data_async` in the browser, where WebGPU allows
//! no synchronous reads. Symphonia leaves its decode loop to the caller the same way.

use crate::analysis::{SongPrediction, WindowPlan, aggregate, from_segments};
use crate::bundle::{Bundle, BundleError, ModelKind};
use crate::features::{FeatureSegments, FeatureSet};
use crate::mlp::{FeaturePipeline, Mlp};
use crate::sincnet::{SincNet, SincNetConfig};
use crate::{FrontEnd, Segment};
use burn::prelude::*;

/// How many windows one SincNet forward pass may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batching {
    /// Most windows per batch.
    pub windows: usize,
    /// Largest activation of a batch in bytes, if capped (a GPU caps one buffer binding).
    pub bytes: Option<usize>,
}

impl Batching {
    /// Windows per batch for `config`: at least 1.
    pub fn windows_for(&self, config: &SincNetConfig) -> usize {
        let cap = self
            .bytes
            .map_or(usize::MAX, |b| config.windows_per_batch(b));
        self.windows.min(cap).max(1)
    }
}

/// Why a song could not be run through a model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InferenceError {
    /// The input is not what the model reads (segments for a SincNet, features for an MLP).
    #[error("a {model} does not read {input}")]
    WrongInput {
        /// The model's name.
        model: String,
        /// What it was given.
        input: &'static str,
    },
    /// The song has no segments.
    #[error("the song has no segments")]
    Empty,
    /// A segment's features could not be computed or do not fit the model.
    #[error("segment {segment}: {reason}")]
    Segment {
        /// 1-based.
        segment: usize,
        /// Why.
        reason: String,
    },
    /// Feature rows and segment spans given in different numbers.
    #[error("{rows} rows of features for {spans} segments")]
    Spans {
        /// Rows given.
        rows: usize,
        /// Spans given.
        spans: usize,
    },
    /// The host handed back another number of outputs than the batches asked for.
    #[error("{found} outputs where {expected} were expected")]
    Outputs {
        /// Values the batches' rows of [`Model::outputs`] make.
        expected: usize,
        /// Values given.
        found: usize,
    },
}

/// A song as a model reads it.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// The song's segments through the model's front-end (a SincNet's input).
    Segments(&'a [Segment]),
    /// The song's segments through the front-ends of the model's features (an MLP's input;
    /// [`FeatureSet::segment`] makes them).
    FeatureSegments(&'a FeatureSegments),
    /// An MLP's raw features, already computed (e.g. cached): one row per segment, with each
    /// segment's `(start, end)` in seconds.
    Features {
        /// `[segments][features]`, in the feature set's order.
        rows: &'a [Vec<f32>],
        /// One per row.
        spans: &'a [(f64, f64)],
    },
}

impl Input<'_> {
    fn name(&self) -> &'static str {
        match self {
            Input::Segments(_) => "audio segments",
            Input::FeatureSegments(_) | Input::Features { .. } => "handcrafted features",
        }
    }
}

enum Net {
    SincNet {
        model: Box<SincNet>,
        config: SincNetConfig,
        /// Samples between windows.
        shift: usize,
        /// Windows per forward pass.
        batch: usize,
        /// The sinc filters' `(low, high)` cut-offs in Hz, sorted by low cut-off.
        pass_bands: Vec<(f32, f32)>,
    },
    Mlp {
        model: Box<Mlp>,
        features: FeatureSet,
        pipeline: FeaturePipeline,
    },
}

/// A network ready to run on songs.
pub struct Model {
    net: Net,
    /// Where the network runs (the CPU for an MLP: it is tiny).
    device: Device,
    front_end: FrontEnd,
}

impl Model {
    /// The bundle's network, in inference mode on `device` (an MLP on the CPU). A SincNet's
    /// weights are unpacked once, on the CPU, where its pass bands are read, then moved.
    pub fn from_bundle(
        bundle: &Bundle,
        device: &Device,
        batching: Batching,
    ) -> Result<Model, BundleError> {
        Ok(match &bundle.model {
            ModelKind::SincNet(config) => Model::sincnet(
                bundle.sincnet(&Device::flex())?,
                config.clone(),
                bundle.front_end,
                bundle.shift_ms,
                device,
                batching,
            ),
            ModelKind::Mlp { .. } => {
                let (model, features, pipeline) = bundle.mlp(&Device::flex())?;
                Model::mlp(model, features, pipeline)
            }
        })
    }

    /// A SincNet of `config` reading `front_end`'s segments in windows every `shift_ms`, moved
    /// to `device` in inference mode. Its filters are read back synchronously where `model`
    /// is: not on WebGPU.
    pub fn sincnet(
        model: SincNet,
        config: SincNetConfig,
        front_end: FrontEnd,
        shift_ms: u32,
        device: &Device,
        batching: Batching,
    ) -> Model {
        let pass_bands = pass_bands(&model);
        let shift = (front_end.sample_rate as usize * shift_ms as usize / 1000).max(1);
        Model {
            net: Net::SincNet {
                model: Box::new(model.valid().to_device(device)),
                batch: batching.windows_for(&config),
                config,
                shift,
                pass_bands,
            },
            device: device.clone(),
            front_end,
        }
    }

    /// An MLP on `features` through `pipeline`, on the CPU.
    pub fn mlp(model: Mlp, features: FeatureSet, pipeline: FeaturePipeline) -> Model {
        Model {
            net: Net::Mlp {
                model: Box::new(model),
                features,
                pipeline,
            },
            device: Device::flex(),
            front_end: FrontEnd::default(),
        }
    }

    /// How songs must be prepared for [`Input::Segments`].
    pub fn front_end(&self) -> FrontEnd {
        self.front_end
    }

    /// The handcrafted features an MLP reads; `None` for a SincNet.
    pub fn features(&self) -> Option<FeatureSet> {
        match &self.net {
            Net::Mlp { features, .. } => Some(*features),
            Net::SincNet { .. } => None,
        }
    }

    /// Where the network runs.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The learned sinc filters' `(low, high)` cut-offs in Hz, sorted by low cut-off (none for
    /// an MLP).
    pub fn pass_bands(&self) -> &[(f32, f32)] {
        match &self.net {
            Net::SincNet { pass_bands, .. } => pass_bands,
            Net::Mlp { .. } => &[],
        }
    }

    /// What the model is and how it reads a song, in a few words.
    pub fn describe(&self) -> String {
        match &self.net {
            Net::SincNet { config, shift, .. } => format!(
                "SincNet {} ms, windows every {} ms",
                config.window_ms,
                shift * 1000 / self.front_end.sample_rate as usize
            ),
            Net::Mlp {
                features, pipeline, ..
            } => format!(
                "MLP on {} features, {} of {} selected",
                features.name(),
                pipeline.selected.len(),
                pipeline.names.len()
            ),
        }
    }

    /// One full batch of silence: running it compiles a GPU's shaders and makes its buffers
    /// before a song comes. `None` for an MLP.
    pub fn warm_up_batch(&self) -> Option<Tensor<2>> {
        match &self.net {
            Net::SincNet { config, batch, .. } => Some(Tensor::zeros(
                [*batch, config.window_samples()],
                &self.device,
            )),
            Net::Mlp { .. } => None,
        }
    }

    /// Whether the network regresses valence and arousal beside the quadrant.
    pub fn regresses_va(&self) -> bool {
        match &self.net {
            Net::SincNet { model, .. } => model.va_head.is_some(),
            Net::Mlp { model, .. } => model.va_head.is_some(),
        }
    }

    /// Values per row of [`Model::forward`]'s output: 4 log-posteriors, then valence and
    /// arousal when the network regresses them.
    pub fn outputs(&self) -> usize {
        if self.regresses_va() { 6 } else { 4 }
    }

    /// A batch from [`Batches`] → `[n, outputs]`: log-posteriors `[n, 4]`, then valence and
    /// arousal `[n, 2]` from a network that regresses them, so one read-back takes both.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let (log_probs, va) = match &self.net {
            Net::SincNet { model, .. } => model.forward_va(x),
            Net::Mlp { model, .. } => model.forward_va(x),
        };
        match va {
            Some(va) => Tensor::cat(vec![log_probs, va], 1),
            None => log_probs,
        }
    }

    /// The batches that make up `input`'s prediction.
    pub fn batches<'a>(&'a self, input: Input<'a>) -> Result<Batches<'a>, InferenceError> {
        let wrong = || InferenceError::WrongInput {
            model: self.describe(),
            input: input.name(),
        };
        let (plan, total) = match (&self.net, input) {
            (
                Net::SincNet {
                    config,
                    shift,
                    batch,
                    ..
                },
                Input::Segments(segments),
            ) => {
                let plan = WindowPlan::new(segments, config.window_samples(), *shift);
                let total = plan.windows.len().div_ceil(*batch);
                (Some(plan), total)
            }
            (Net::Mlp { .. }, Input::FeatureSegments(s)) => (None, s.len()),
            (Net::Mlp { .. }, Input::Features { rows, spans }) => {
                if rows.len() != spans.len() {
                    return Err(InferenceError::Spans {
                        rows: rows.len(),
                        spans: spans.len(),
                    });
                }
                (None, usize::from(!rows.is_empty()))
            }
            _ => return Err(wrong()),
        };
        if total == 0 {
            return Err(InferenceError::Empty);
        }
        Ok(Batches {
            model: self,
            input,
            plan,
            next: 0,
            total,
        })
    }

    /// `input`'s prediction, reading every batch back synchronously: native code, or the CPU
    /// in the browser.
    pub fn predict(&self, input: Input<'_>) -> Result<SongPrediction, InferenceError> {
        let mut batches = self.batches(input)?;
        let mut outputs = Vec::new();
        for x in batches.by_ref() {
            let out: Vec<f32> = self
                .forward(x?)
                .into_data()
                .try_into_vec_as()
                .expect("outputs are floats");
            outputs.extend(out);
        }
        batches.finish(&outputs)
    }
}

/// The sinc filters' cut-offs, sorted by low cut-off.
fn pass_bands(model: &SincNet) -> Vec<(f32, f32)> {
    let (low, high) = model.cnn.sinc.band_edges(); // [C, 1] each
    let read = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_into_vec_as().unwrap_or_default() };
    let mut bands: Vec<(f32, f32)> = read(low).into_iter().zip(read(high)).collect();
    bands.sort_by(|a, b| a.0.total_cmp(&b.0));
    bands
}

/// The input tensors of one song, batch by batch: SincNet windows `[n, window]` on the
/// model's device, or MLP feature rows `[n, selected features]` on the CPU (one segment per
/// batch when the features are computed here, so a page can show progress between them).
pub struct Batches<'a> {
    model: &'a Model,
    input: Input<'a>,
    plan: Option<WindowPlan>,
    next: usize,
    total: usize,
}

impl Batches<'_> {
    /// Batches handed out so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Batches in all.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The song's prediction from the outputs of every batch, in order (`[n · outputs]`, see
    /// [`Model::forward`]).
    pub fn finish(self, outputs: &[f32]) -> Result<SongPrediction, InferenceError> {
        let plan = self.plan.as_ref();
        let rows = match self.input {
            Input::Segments(_) => plan.map_or(0, |p| p.windows.len()),
            Input::FeatureSegments(s) => s.len(),
            Input::Features { rows, .. } => rows.len(),
        };
        let width = self.model.outputs();
        if outputs.len() != rows * width {
            return Err(InferenceError::Outputs {
                expected: rows * width,
                found: outputs.len(),
            });
        }
        let log_probs: Vec<[f32; 4]> = outputs
            .chunks_exact(width)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect();
        let va: Option<Vec<[f32; 2]>> =
            (width == 6).then(|| outputs.chunks_exact(width).map(|c| [c[4], c[5]]).collect());
        Ok(match self.input {
            Input::Segments(segments) => aggregate(
                plan.expect("a SincNet's batches have a plan"),
                segments,
                log_probs.as_flattened(),
                va.as_deref(),
                self.model.front_end.sample_rate,
            ),
            Input::FeatureSegments(s) => from_segments(&s.spans(), &log_probs, va.as_deref()),
            Input::Features { spans, .. } => from_segments(spans, &log_probs, va.as_deref()),
        })
    }

    /// MLP rows `rows` of raw features as the network's input `[rows, selected]`.
    fn mlp_input(
        &self,
        pipeline: &FeaturePipeline,
        rows: &[Vec<f32>],
        first: usize,
    ) -> Result<Tensor<2>, InferenceError> {
        let mut flat = Vec::with_capacity(rows.len() * pipeline.selected.len());
        for (i, r) in rows.iter().enumerate() {
            flat.extend(
                pipeline
                    .transform(r)
                    .map_err(|reason| InferenceError::Segment {
                        segment: first + i + 1,
                        reason,
                    })?,
            );
        }
        Ok(Tensor::from_data(
            TensorData::new(flat, [rows.len(), pipeline.selected.len()]),
            &self.model.device,
        ))
    }
}

impl Iterator for Batches<'_> {
    type Item = Result<Tensor<2>, InferenceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.total {
            return None;
        }
        let k = self.next;
        self.next += 1;
        let model = self.model;
        Some(match (&model.net, self.input) {
            (Net::SincNet { batch, .. }, Input::Segments(segments)) => {
                let plan = self.plan.as_ref().expect("a SincNet's batches have a plan");
                let range = k * batch..((k + 1) * batch).min(plan.windows.len());
                let n = range.len();
                let x = plan.gather(segments, range); // [n · window]
                Ok(Tensor::from_data(
                    TensorData::new(x, [n, plan.wlen]),
                    &model.device,
                ))
            }
            (
                Net::Mlp {
                    features, pipeline, ..
                },
                Input::FeatureSegments(song),
            ) => features
                .extract_segment(song, k)
                .map_err(|reason| InferenceError::Segment {
                    segment: k + 1,
                    reason,
                })
                .and_then(|named| {
                    let raw: Vec<f32> = named.into_iter().map(|(_, v)| v).collect();
                    self.mlp_input(pipeline, &[raw], k)
                }),
            (Net::Mlp { pipeline, .. }, Input::Features { rows, .. }) => {
                self.mlp_input(pipeline, rows, 0)
            }
            _ => unreachable!("Model::batches checked the input"),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Provenance, WeightsDType, pack_weights};

    fn tiny_sincnet() -> (Bundle, SincNet) {
        let config = SincNetConfig {
            sinc_filters: 8,
            conv_filters: vec![6, 6],
            fc: vec![16, 16],
            ..SincNetConfig::paper(200)
        };
        let model = config.init(&Device::flex()).unwrap();
        let bundle = Bundle::new(
            ModelKind::SincNet(config),
            FrontEnd::default(),
            100,
            Provenance::default(),
            WeightsDType::F32,
            pack_weights(&model, WeightsDType::F32).unwrap(),
        );
        (bundle, model)
    }

    fn song(seconds: f64) -> Vec<Segment> {
        let mono: Vec<f32> = (0..(16_000.0 * seconds) as usize)
            .map(|i| ((i as f32 * 0.05).sin() * 0.5) * (1.0 + (i % 7) as f32 / 10.0))
            .collect();
        FrontEnd::default().segment(&mono).unwrap()
    }

    #[test]
    fn batches_cover_every_window_and_agree_with_one_pass() {
        let (bundle, model) = tiny_sincnet();
        let segments = song(4.0);
        let small = Batching {
            windows: 7,
            bytes: None,
        };
        let m = Model::from_bundle(&bundle, &Device::flex(), small).unwrap();
        let batches = m.batches(Input::Segments(&segments)).unwrap();
        // 4 segments of 1 s: (16000 − 3200) / 1600 + 1 = 9 windows each, 36 in 6 batches.
        assert_eq!(batches.len(), 6);
        let p = m.predict(Input::Segments(&segments)).unwrap();
        assert_eq!(p.segments.len(), 4);
        assert!(p.segments.iter().all(|s| s.windows == 9));
        // The same windows in one forward pass give the same posteriors.
        let plan = WindowPlan::new(&segments, 3200, 1600);
        let x = Tensor::<2>::from_data(
            TensorData::new(plan.gather(&segments, 0..36), [36, 3200]),
            &Device::flex(),
        );
        let lp: Vec<f32> = model.valid().forward(x).into_data().try_to_vec().unwrap();
        let whole = aggregate(&plan, &segments, &lp, None, 16_000);
        for (a, b) in p.probabilities.iter().zip(whole.probabilities) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        assert_eq!(m.pass_bands().len(), 8);
        assert!(m.pass_bands().windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(
            m.pass_bands()
                .iter()
                .all(|(lo, hi)| lo < hi && *hi <= 8000.0)
        );
    }

    #[test]
    fn inputs_a_model_does_not_read_and_short_outputs_are_errors() {
        let (bundle, _) = tiny_sincnet();
        let m = Model::from_bundle(
            &bundle,
            &Device::flex(),
            Batching {
                windows: 64,
                bytes: None,
            },
        )
        .unwrap();
        let rows = vec![vec![0.0; 3]];
        let features = Input::Features {
            rows: &rows,
            spans: &[(0.0, 1.0)],
        };
        assert!(matches!(
            m.batches(features),
            Err(InferenceError::WrongInput { .. })
        ));
        assert_eq!(
            m.batches(Input::Segments(&[])).err(),
            Some(InferenceError::Empty)
        );
        let segments = song(4.0);
        let b = m.batches(Input::Segments(&segments)).unwrap();
        assert_eq!(
            b.finish(&[0.0; 8]).err(),
            Some(InferenceError::Outputs {
                expected: 144,
                found: 8
            })
        );
    }

    #[test]
    fn batching_caps_windows_by_bytes() {
        let config = SincNetConfig::paper(200);
        let b = |windows, bytes| Batching { windows, bytes }.windows_for(&config);
        assert_eq!(b(256, None), 256);
        // 80 filters × 2950 samples × 4 bytes a window: 106 windows under 96 MiB.
        assert_eq!(b(256, Some(96 << 20)), 106);
        assert_eq!(b(64, Some(96 << 20)), 64);
        assert_eq!(b(0, None), 1);
    }
}
