//! The model in the page: which device it runs on, loading a bundle, and song inference with
//! asynchronous read-backs (WebGPU allows no synchronous ones) and progress. The shared
//! `model_format::inference` cuts the batches and makes the prediction; the page runs each
//! batch, reads it back and yields between batches.

use super::audio::{self, Song};
use burn::prelude::*;
use model_format::FrontEnd;
use model_format::analysis::SongPrediction;
use model_format::bundle::Bundle;
use model_format::features::FeatureSet;
use model_format::inference::{Batching, Input, Model};

/// Most windows per forward pass: few enough to report progress and, on the CPU (which
/// computes on the page's thread), to give the page back between batches.
const MAX_BATCH_GPU: usize = 64;
const MAX_BATCH_CPU: usize = 8;
/// Largest activation of a batch, well under WebGPU's default 128 MiB buffer binding.
const BATCH_BYTES: usize = 64 << 20;

/// Which kind of device inference runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The browser's WebGPU.
    WebGpu,
    /// burn's CPU backend (flex), compiled to WebAssembly.
    Cpu,
}

impl BackendKind {
    /// The name the page's data attributes carry.
    pub fn id(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu => "CPU (WebAssembly)",
        }
    }
}

/// The device inference runs on.
#[derive(Clone, Debug)]
pub struct Backend {
    /// The burn device models run on.
    pub device: Device,
    /// Which kind of device it is.
    pub kind: BackendKind,
    /// Why WebGPU is not in use, when it is not.
    pub fallback_reason: Option<String>,
}

impl Backend {
    /// WebGPU where the browser offers an adapter, else burn's CPU backend (flex).
    pub async fn detect() -> Backend {
        let cpu = |reason: String| Backend {
            device: Device::flex(),
            kind: BackendKind::Cpu,
            fallback_reason: Some(reason),
        };
        if !has_webgpu() {
            return cpu("this browser does not offer WebGPU".into());
        }
        match Device::wgpu_options().init_async().await {
            Ok(device) => Backend {
                device,
                kind: BackendKind::WebGpu,
                fallback_reason: None,
            },
            Err(e) => {
                web_sys::console::warn_1(&format!("WebGPU could not start: {e}").into());
                cpu("WebGPU offers no usable adapter here".into())
            }
        }
    }

    /// How many windows a batch takes here.
    fn batching(&self) -> Batching {
        Batching {
            windows: match self.kind {
                BackendKind::WebGpu => MAX_BATCH_GPU,
                BackendKind::Cpu => MAX_BATCH_CPU,
            },
            bytes: Some(BATCH_BYTES),
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

/// A loaded bundle, ready to run.
pub struct Engine {
    /// The loaded model bundle.
    pub bundle: Bundle,
    /// The device its network runs on.
    pub backend: Backend,
    model: Model,
}

impl Engine {
    /// Loads `bytes` (a `trainer export` bundle) onto `backend`.
    pub fn load(bytes: &[u8], backend: Backend) -> Result<Engine, String> {
        let bundle = Bundle::from_bytes(bytes).map_err(|e| e.to_string())?;
        let model = Model::from_bundle(&bundle, &backend.device, backend.batching())
            .map_err(|e| e.to_string())?;
        Ok(Engine {
            bundle,
            backend,
            model,
        })
    }

    /// How songs are prepared for the model (and for the waveform).
    pub fn front_end(&self) -> FrontEnd {
        self.model.front_end()
    }

    /// The handcrafted features the model reads, if it is an MLP.
    pub fn features(&self) -> Option<FeatureSet> {
        self.model.features()
    }

    /// How the model reads a song, for the model section.
    pub fn describe(&self) -> String {
        self.model.describe()
    }

    /// Where the network runs (an MLP always on the CPU).
    pub fn backend_kind(&self) -> BackendKind {
        match self.model.features() {
            None => self.backend.kind,
            Some(_) => BackendKind::Cpu,
        }
    }

    /// One batch through a SincNet, so shaders compile and buffers exist before a song comes
    /// (an MLP has nothing to ready).
    pub async fn warm_up(&self) -> Result<(), String> {
        match self.model.warm_up_batch() {
            Some(x) => read(self.model.forward(x)).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Decodes a stand-in song ([`audio::rehearsal`]) and analyses it as a dropped song, so
    /// the browser has started its decoder and optimised the code a song runs through: the
    /// first song is then as fast as the ones after it. Where the network runs on WebGPU (an
    /// MLP never does), only the decoding and the front-end run: [`Engine::warm_up`] readied
    /// the GPU, and a software adapter would take seconds. Stops at the first step where
    /// `idle` says the page has other work; returns whether it finished.
    pub async fn rehearse(&self, idle: impl Fn() -> bool) -> Result<bool, String> {
        if !idle() {
            return Ok(false);
        }
        let wav = audio::rehearsal(self.front_end());
        let song = audio::decode("the rehearsal", &wav, self.front_end(), self.features()).await?;
        if !idle() {
            return Ok(false);
        }
        if self.backend_kind() == BackendKind::WebGpu {
            return Ok(true);
        }
        Ok(self.predict(&song, |_| idle()).await?.is_some())
    }

    /// The song's prediction; `progress` gets the fraction done after each batch and says
    /// whether to go on (`None` when it said no).
    pub async fn predict(
        &self,
        song: &Song,
        mut progress: impl FnMut(f64) -> bool,
    ) -> Result<Option<SongPrediction>, String> {
        let input = match &song.features {
            Some(f) => Input::FeatureSegments(f),
            None => Input::Segments(&song.segments),
        };
        let mut batches = self.model.batches(input).map_err(|e| e.to_string())?;
        let total = batches.total() as f64;
        let mut outputs = Vec::new();
        while let Some(x) = batches.next() {
            let x = x.map_err(|e| e.to_string())?;
            outputs.extend(read(self.model.forward(x)).await?); // [n · outputs]
            // A drop while the page had control is seen at once, before the next batch.
            yield_to_browser().await;
            if !progress(batches.done() as f64 / total) {
                return Ok(None);
            }
        }
        batches
            .finish(&outputs)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The learned sinc filters' pass bands, `(low, high)` in Hz, sorted by low cut-off (none
    /// for an MLP).
    pub fn pass_bands(&self) -> Vec<(f32, f32)> {
        self.model.pass_bands().to_vec()
    }
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
