//! Training and evaluating SincNet: the protocol's sampling and optimiser, checkpoints that
//! resume exactly, sliding-window evaluation, and prediction with a model bundle.

pub mod checkpoint;
pub mod data;
pub mod eval;
pub mod train;

use burn::prelude::*;
use model_format::Segment;
use model_format::analysis::WindowPlan;
use model_format::sincnet::{SincNet, SincNetConfig};

/// Most windows per forward pass at inference.
pub const INFERENCE_BATCH: usize = 256;
/// Largest activation of an inference batch on a GPU: under wgpu's 128 MiB cap on one
/// buffer binding.
pub const INFERENCE_BYTES: usize = 96 << 20;

/// Windows per inference batch for `config` on `device`: [`INFERENCE_BATCH`] on the CPU, and
/// on a GPU as many as keep the largest activation under [`INFERENCE_BYTES`].
pub fn inference_batch(config: &SincNetConfig, device: &Device) -> usize {
    batch_for(config, *device != Device::flex())
}

fn batch_for(config: &SincNetConfig, gpu: bool) -> usize {
    if gpu {
        config
            .windows_per_batch(INFERENCE_BYTES)
            .min(INFERENCE_BATCH)
    } else {
        INFERENCE_BATCH
    }
}

/// Log-posteriors of every window of `plan` (`[windows · 4]`), in batches of `batch`, on
/// `device`. `model` must be in inference mode (`valid()`).
pub fn infer(
    model: &SincNet,
    plan: &WindowPlan,
    segments: &[Segment],
    batch: usize,
    device: &Device,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(plan.windows.len() * 4);
    let mut start = 0;
    while start < plan.windows.len() {
        let end = (start + batch.max(1)).min(plan.windows.len());
        let x = plan.gather(segments, start..end);
        let x = Tensor::<2>::from_data(TensorData::new(x, [end - start, plan.wlen]), device);
        let lp: Vec<f32> = model
            .forward(x)
            .into_data()
            .try_into_vec_as()
            .expect("log-probabilities are floats");
        out.extend(lp);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_takes_full_batches_and_gpus_capped_ones() {
        let config = SincNetConfig::paper(200);
        assert_eq!(inference_batch(&config, &Device::flex()), INFERENCE_BATCH);
        // 80 filters × 2950 samples × 4 bytes a window: 106 windows under 96 MiB.
        assert_eq!(batch_for(&config, true), 106);
        // 500 ms: 80 × 7750 × 4 bytes, 40 windows.
        assert_eq!(batch_for(&SincNetConfig::paper(500), true), 40);
        // A small network is held to the CPU's batch.
        let small = SincNetConfig {
            sinc_filters: 8,
            ..SincNetConfig::paper(200)
        };
        assert_eq!(batch_for(&small, true), INFERENCE_BATCH);
    }
}
