//! SincNet's shape: window, filters, widths.

use serde::{Deserialize, Serialize};

/// Everything that fixes a SincNet's architecture. Stored in model bundles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SincNetConfig {
    /// Sample rate of the input, Hz.
    pub sample_rate: u32,
    /// Window length, ms (`cw_len`).
    pub window_ms: u32,
    /// Number of sinc band-pass filters.
    pub sinc_filters: usize,
    /// Taps of each sinc filter (odd).
    pub sinc_len: usize,
    /// Output channels of the convolutions after the sinc layer.
    pub conv_filters: Vec<usize>,
    /// Kernel lengths of those convolutions.
    pub conv_lens: Vec<usize>,
    /// Max-pool lengths: the sinc block's, then one per convolution.
    pub pool_lens: Vec<usize>,
    /// Widths of the fully connected layers.
    pub fc: Vec<usize>,
    pub classes: usize,
    /// Leaky ReLU slope.
    pub leaky_slope: f64,
    /// Batch-norm momentum (PyTorch convention: weight of the new batch).
    pub bn_momentum: f64,
}

impl SincNetConfig {
    /// The paper's network for a window of `window_ms` (200 or 500): 80 sinc filters of 251
    /// taps, convolutions 80→60→60 of 5 taps, max-pool 3, three fully connected layers of
    /// 2048, 4 classes.
    pub fn paper(window_ms: u32) -> Self {
        SincNetConfig {
            sample_rate: 16_000,
            window_ms,
            sinc_filters: 80,
            sinc_len: 251,
            conv_filters: vec![60, 60],
            conv_lens: vec![5, 5],
            pool_lens: vec![3, 3, 3],
            fc: vec![2048, 2048, 2048],
            classes: 4,
            leaky_slope: 0.2,
            bn_momentum: 0.05,
        }
    }

    /// Samples per window.
    pub fn window_samples(&self) -> usize {
        self.sample_rate as usize * self.window_ms as usize / 1000
    }

    /// Windows per inference batch whose largest activation (the sinc layer's output, f32)
    /// fits in `bytes`, at least one: GPUs cap a single buffer binding (WebGPU at 128 MiB by
    /// default), and smaller batches bound memory everywhere.
    pub fn windows_per_batch(&self, bytes: usize) -> usize {
        let per_window =
            self.sinc_filters * (self.window_samples() + 1).saturating_sub(self.sinc_len) * 4;
        (bytes / per_window.max(1)).max(1)
    }

    /// Length of the flattened CNN output (6420 for 200 ms, 17100 for 500 ms).
    pub fn cnn_out_len(&self) -> usize {
        let mut len = (self.window_samples() - self.sinc_len + 1) / self.pool_lens[0].max(1);
        let mut channels = self.sinc_filters;
        for (i, (&c, &k)) in self.conv_filters.iter().zip(&self.conv_lens).enumerate() {
            len = (len - k + 1) / self.pool_lens[i + 1].max(1);
            channels = c;
        }
        channels * len
    }

    /// Checks that the shapes are consistent and the window long enough.
    pub fn validate(&self) -> Result<(), String> {
        if self.sinc_len.is_multiple_of(2) || self.sinc_len < 3 {
            return Err(format!(
                "sinc_len {} must be odd and at least 3",
                self.sinc_len
            ));
        }
        if self.conv_filters.len() != self.conv_lens.len()
            || self.pool_lens.len() != self.conv_filters.len() + 1
        {
            return Err("conv_filters, conv_lens and pool_lens disagree in length".into());
        }
        if self.fc.is_empty() || self.classes < 2 {
            return Err("need at least one fully connected layer and two classes".into());
        }
        let mut len = self.window_samples() as i64 - self.sinc_len as i64 + 1;
        len /= self.pool_lens[0].max(1) as i64;
        for (i, &k) in self.conv_lens.iter().enumerate() {
            len = (len - k as i64 + 1) / self.pool_lens[i + 1].max(1) as i64;
        }
        if len < 1 {
            return Err(format!(
                "a {} ms window is too short for these layers",
                self.window_ms
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_shapes() {
        assert_eq!(SincNetConfig::paper(200).window_samples(), 3200);
        assert_eq!(SincNetConfig::paper(200).cnn_out_len(), 6420);
        assert_eq!(SincNetConfig::paper(500).cnn_out_len(), 17100);
        assert!(SincNetConfig::paper(200).validate().is_ok());
        let mut tiny = SincNetConfig::paper(200);
        tiny.window_ms = 10;
        assert!(tiny.validate().is_err());
    }
}
