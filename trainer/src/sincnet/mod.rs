//! Training SincNet: the protocol's sampling and optimiser, checkpoints that resume exactly,
//! starting from another model's weights, and how many windows an inference batch takes on each device.

pub mod checkpoint;
pub mod data;
pub mod init;
pub mod train;

use burn::prelude::*;
use model_format::inference::Batching;

/// Most windows per forward pass at inference.
pub const INFERENCE_BATCH: usize = 256;
/// Largest activation of an inference batch on a GPU: under wgpu's 128 MiB cap on one
/// buffer binding.
pub const INFERENCE_BYTES: usize = 96 << 20;

/// Inference batches on `device`: [`INFERENCE_BATCH`] windows on the CPU, and on a GPU as many
/// as keep the largest activation under [`INFERENCE_BYTES`].
pub fn batching(device: &Device) -> Batching {
    batching_for(*device != Device::flex())
}

fn batching_for(gpu: bool) -> Batching {
    Batching {
        windows: INFERENCE_BATCH,
        bytes: gpu.then_some(INFERENCE_BYTES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model_format::sincnet::SincNetConfig;

    #[test]
    fn the_cpu_takes_full_batches_and_gpus_capped_ones() {
        let config = SincNetConfig::paper(200);
        let batch = |b: Batching, c: &SincNetConfig| b.windows_for(c);
        assert_eq!(batch(batching(&Device::flex()), &config), INFERENCE_BATCH);
        // 80 filters × 2950 samples × 4 bytes a window: 106 windows under 96 MiB.
        assert_eq!(batch(batching_for(true), &config), 106);
        // 500 ms: 80 × 7750 × 4 bytes, 40 windows.
        assert_eq!(batch(batching_for(true), &SincNetConfig::paper(500)), 40);
        // A small network is held to the CPU's batch.
        let small = SincNetConfig {
            sinc_filters: 8,
            ..SincNetConfig::paper(200)
        };
        assert_eq!(batch(batching_for(true), &small), INFERENCE_BATCH);
    }
}
