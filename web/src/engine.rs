//! The model in the page: which device it runs on, loading a bundle, and song inference with
//! asynchronous read-backs (WebGPU allows no synchronous ones) and progress.

use burn::prelude::*;
use model_format::analysis::{SongPrediction, WindowPlan, aggregate};
use model_format::bundle::{Bundle, ModelKind};
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

/// A loaded bundle, ready to run.
pub struct Engine {
    pub bundle: Bundle,
    pub model: SincNet,
    pub backend: Backend,
    /// The same weights on the CPU, for synchronous reads (the filter view).
    pub cpu_model: SincNet,
    /// Windows per forward pass.
    batch: usize,
}

impl Engine {
    /// Loads `bytes` (a `trainer export` bundle) onto `backend`.
    pub fn load(bytes: &[u8], backend: Backend) -> Result<Engine, String> {
        let bundle = Bundle::from_bytes(bytes).map_err(|e| e.to_string())?;
        let ModelKind::SincNet(config) = &bundle.model;
        let most = if backend.id == "webgpu" {
            MAX_BATCH_GPU
        } else {
            MAX_BATCH_CPU
        };
        let batch = config.windows_per_batch(BATCH_BYTES).min(most);
        let model = bundle
            .sincnet(&backend.device)
            .map_err(|e| e.to_string())?
            .valid();
        let cpu_model = bundle
            .sincnet(&Device::flex())
            .map_err(|e| e.to_string())?
            .valid();
        Ok(Engine {
            bundle,
            model,
            backend,
            cpu_model,
            batch,
        })
    }

    pub fn front_end(&self) -> FrontEnd {
        self.bundle.front_end
    }

    /// One batch through the model, so shaders compile and buffers exist before a song comes.
    pub async fn warm_up(&self) -> Result<(), String> {
        let wlen = self.bundle.window_samples();
        let x = Tensor::<2>::zeros([self.batch, wlen], &self.backend.device);
        read(self.model.forward(x)).await.map(|_| ())
    }

    /// The song's prediction; `progress` gets the fraction of windows done after each batch.
    pub async fn predict(
        &self,
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
            let end = (start + self.batch).min(total);
            let x = plan.gather(segments, start..end);
            let x = Tensor::<2>::from_data(
                TensorData::new(x, [end - start, plan.wlen]),
                &self.backend.device,
            );
            log_probs.extend(read(self.model.forward(x)).await?); // [n · 4]
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

    /// The learned sinc filters' pass bands, `(low, high)` in Hz, sorted by low cut-off.
    pub fn pass_bands(&self) -> Vec<(f32, f32)> {
        let (low, high) = self.cpu_model.cnn.sinc.band_edges(); // [C, 1] each
        let low: Vec<f32> = low.into_data().try_into_vec_as().unwrap_or_default();
        let high: Vec<f32> = high.into_data().try_into_vec_as().unwrap_or_default();
        let mut bands: Vec<(f32, f32)> = low.into_iter().zip(high).collect();
        bands.sort_by(|a, b| a.0.total_cmp(&b.0));
        bands
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
