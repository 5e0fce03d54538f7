//! The model in the page: which device it runs on, loading a bundle, and song inference with
//! asynchronous read-backs (WebGPU allows no synchronous ones) and progress. A SincNet runs on
//! the backend's device; an MLP baseline computes its handcrafted features segment by segment
//! and runs its small network on the CPU.

use crate::audio::Song;
use burn::prelude::*;
use model_format::analysis::{SongPrediction, WindowPlan, aggregate, from_segments};
use model_format::bundle::Bundle;
use model_format::features::FeatureSet;
use model_format::mlp::{FeaturePipeline, Mlp};
use model_format::sincnet::SincNet;
use model_format::{FrontEnd, Segment};

/// Most windows per forward pass: few enough to report progress and, on the CPU (which
/// computes on the page's thread), to give the page back between batches.
const MAX_BATCH_GPU: usize = 64;
const MAX_BATCH_CPU: usize = 8;
/// Largest activation of a batch, well under WebGPU's default 128 MiB buffer binding.
const BATCH_BYTES: usize = 64 << 20;

/// The device inference runs on.
#[derive(Clone, Debug)]
pub struct Backend {
    pub device: Device,
    /// `"webgpu"` or `"cpu"`.
    pub id: &'static str,
    /// Why WebGPU is not in use, when it is not.
    pub fallback_reason: Option<String>,
}

impl Backend {
    /// WebGPU where the browser offers an adapter, else burn's CPU backend (flex).
    pub async fn detect() -> Backend {
        let cpu = |reason: String| Backend {
            device: Device::flex(),
            id: "cpu",
            fallback_reason: Some(reason),
        };
        if !has_webgpu() {
            return cpu("this browser does not offer WebGPU".into());
        }
        match Device::wgpu_options().init_async().await {
            Ok(device) => Backend {
                device,
                id: "webgpu",
                fallback_reason: None,
            },
            Err(e) => {
                web_sys::console::warn_1(&format!("WebGPU could not start: {e}").into());
                cpu("WebGPU offers no usable adapter here".into())
            }
        }
    }

    pub fn label(&self) -> &'static str {
        match self.id {
            "webgpu" => "WebGPU",
            _ => "CPU (WebAssembly)",
        }
    }
}

/// `navigator.gpu` exists (wgpu would otherwise fail deep inside its set-up).
fn has_webgpu() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    js_sys::Reflect::get(&window.navigator(), &"gpu".into())
        .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .unwrap_or(false)
}

/// The network of a bundle.
enum Net {
    SincNet {
        model: Box<SincNet>,
        /// The same weights on the CPU, for synchronous reads (the filter view).
        cpu_model: Box<SincNet>,
        /// Windows per forward pass.
        batch: usize,
    },
    Mlp {
        model: Box<Mlp>,
        features: FeatureSet,
        pipeline: FeaturePipeline,
    },
}

/// A loaded bundle, ready to run.
pub struct Engine {
    pub bundle: Bundle,
    pub backend: Backend,
    net: Net,
}

impl Engine {
    /// Loads `bytes` (a `trainer export` bundle) onto `backend`.
    pub fn load(bytes: &[u8], backend: Backend) -> Result<Engine, String> {
        let bundle = Bundle::from_bytes(bytes).map_err(|e| e.to_string())?;
        let net = match &bundle.model {
            model_format::bundle::ModelKind::SincNet(config) => {
                let most = if backend.id == "webgpu" {
                    MAX_BATCH_GPU
                } else {
                    MAX_BATCH_CPU
                };
                Net::SincNet {
                    batch: config.windows_per_batch(BATCH_BYTES).min(most),
                    model: Box::new(
                        bundle
                            .sincnet(&backend.device)
                            .map_err(|e| e.to_string())?
                            .valid(),
                    ),
                    cpu_model: Box::new(
                        bundle
                            .sincnet(&Device::flex())
                            .map_err(|e| e.to_string())?
                            .valid(),
                    ),
                }
            }
            model_format::bundle::ModelKind::Mlp { .. } => {
                let (model, features, pipeline) =
                    bundle.mlp(&Device::flex()).map_err(|e| e.to_string())?;
                Net::Mlp {
                    model: Box::new(model),
                    features,
                    pipeline,
                }
            }
        };
        Ok(Engine {
            bundle,
            backend,
            net,
        })
    }

    pub fn front_end(&self) -> FrontEnd {
        self.bundle.front_end
    }

    /// The second front-end the model's features need (Essentia's 44.1 kHz segments), if any.
    pub fn feature_front_end(&self) -> Option<FrontEnd> {
        match &self.net {
            Net::Mlp { features, .. } => features.front_ends().1,
            Net::SincNet { .. } => None,
        }
    }

    /// How the model reads a song, for the model section.
    pub fn describe(&self) -> String {
        match &self.net {
            Net::SincNet { .. } => format!(
                "{}, windows every {} ms",
                self.bundle.model.name(),
                self.bundle.shift_ms
            ),
            Net::Mlp { pipeline, .. } => format!(
                "{}, {} of {} selected",
                self.bundle.model.name(),
                pipeline.selected.len(),
                pipeline.names.len()
            ),
        }
    }

    /// Where the network runs (an MLP always on the CPU).
    pub fn backend_id(&self) -> &'static str {
        match self.net {
            Net::SincNet { .. } => self.backend.id,
            Net::Mlp { .. } => "cpu",
        }
    }

    /// One batch through the model, so shaders compile and buffers exist before a song comes.
    pub async fn warm_up(&self) -> Result<(), String> {
        match &self.net {
            Net::SincNet { model, batch, .. } => {
                let wlen = self.bundle.window_samples();
                let x = Tensor::<2>::zeros([*batch, wlen], &self.backend.device);
                read(model.forward(x)).await.map(|_| ())
            }
            Net::Mlp { .. } => Ok(()),
        }
    }

    /// The song's prediction; `progress` gets the fraction done after each batch or segment.
    pub async fn predict(
        &self,
        song: &Song,
        progress: impl FnMut(f64),
    ) -> Result<SongPrediction, String> {
        match &self.net {
            Net::SincNet { model, batch, .. } => {
                self.predict_windows(model, *batch, &song.segments, progress)
                    .await
            }
            Net::Mlp {
                model,
                features,
                pipeline,
            } => predict_segments(model, *features, pipeline, song, progress).await,
        }
    }

    async fn predict_windows(
        &self,
        model: &SincNet,
        batch: usize,
        segments: &[Segment],
        mut progress: impl FnMut(f64),
    ) -> Result<SongPrediction, String> {
        let plan = WindowPlan::new(
            segments,
            self.bundle.window_samples(),
            self.bundle.shift_samples(),
        );
        let total = plan.windows.len();
        let mut log_probs = Vec::with_capacity(total * 4);
        let mut start = 0;
        while start < total {
            let end = (start + batch).min(total);
            let x = plan.gather(segments, start..end);
            let x = Tensor::<2>::from_data(
                TensorData::new(x, [end - start, plan.wlen]),
                &self.backend.device,
            );
            log_probs.extend(read(model.forward(x)).await?); // [n · 4]
            start = end;
            progress(start as f64 / total as f64);
            yield_to_browser().await;
        }
        Ok(aggregate(
            &plan,
            segments,
            &log_probs,
            self.bundle.front_end.sample_rate,
        ))
    }

    /// The learned sinc filters' pass bands, `(low, high)` in Hz, sorted by low cut-off (none
    /// for an MLP).
    pub fn pass_bands(&self) -> Vec<(f32, f32)> {
        let Net::SincNet { cpu_model, .. } = &self.net else {
            return Vec::new();
        };
        let (low, high) = cpu_model.cnn.sinc.band_edges(); // [C, 1] each
        let low: Vec<f32> = low.into_data().try_into_vec_as().unwrap_or_default();
        let high: Vec<f32> = high.into_data().try_into_vec_as().unwrap_or_default();
        let mut bands: Vec<(f32, f32)> = low.into_iter().zip(high).collect();
        bands.sort_by(|a, b| a.0.total_cmp(&b.0));
        bands
    }
}

/// An MLP's prediction: each segment's features (yielding to the page between segments),
/// then the network on all of them.
async fn predict_segments(
    model: &Mlp,
    features: FeatureSet,
    pipeline: &FeaturePipeline,
    song: &Song,
    mut progress: impl FnMut(f64),
) -> Result<SongPrediction, String> {
    let n = song.segments.len();
    let mut inputs = Vec::with_capacity(n * pipeline.selected.len());
    if song.feature_segments.as_ref().is_some_and(|s| s.len() != n) {
        return Err("the two segmentations of the song differ".into());
    }
    for (i, seg) in song.segments.iter().enumerate() {
        let at_44k = song
            .feature_segments
            .as_ref()
            .map(|s| s[i].samples.as_slice());
        let named = features.extract(Some(&seg.samples), at_44k)?;
        let raw: Vec<f32> = named.into_iter().map(|(_, v)| v).collect();
        inputs.extend(pipeline.transform(&raw)?);
        progress((i + 1) as f64 / n as f64);
        yield_to_browser().await;
    }
    let device = Device::flex();
    let x = Tensor::<2>::from_data(
        TensorData::new(inputs, [n, pipeline.selected.len()]),
        &device,
    );
    let lp = read(model.forward(x)).await?; // [n · 4]
    let spans: Vec<(f64, f64)> = song.segments.iter().map(|s| s.span(song.rate)).collect();
    let rows: Vec<[f32; 4]> = lp
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    Ok(from_segments(&spans, &rows))
}

/// A tensor's values, read back without blocking.
async fn read(t: Tensor<2>) -> Result<Vec<f32>, String> {
    t.into_data_async()
        .await
        .map_err(|e| format!("reading the result back: {e:?}"))?
        .try_into_vec_as()
        .map_err(|e| format!("reading the result back: {e:?}"))
}

/// Lets the browser paint and handle input (a zero-delay timeout).
pub async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
