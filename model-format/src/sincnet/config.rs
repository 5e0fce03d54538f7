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
    /// Output classes (the four quadrants).
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

    /// Length of the flattened CNN output (6420 for 200 ms, 17100 for 500 ms); 0 for a
    /// configuration that [`SincNetConfig::validate`] refuses.
    pub fn cnn_out_len(&self) -> usize {
        match self.block_lens() {
            Ok(lens) => {
                self.conv_filters.last().unwrap_or(&self.sinc_filters) * lens[lens.len() - 1]
            }
            Err(_) => 0,
        }
    }

    /// Output length of each CNN block (the sinc block first, then one per convolution), or
    /// why the window is too short for these layers. The one place the layer lengths are
    /// computed.
    pub fn block_lens(&self) -> Result<Vec<usize>, ConfigError> {
        let too_short = || {
            ConfigError(format!(
                "a {} ms window ({} samples) is too short for these layers",
                self.window_ms,
                self.window_samples()
            ))
        };
        if self.pool_lens.len() != self.conv_lens.len() + 1 {
            return Err(ConfigError(
                "pool_lens needs one length more than conv_lens".into(),
            ));
        }
        let valid = |len: usize, k: usize, pool: usize| {
            len.checked_sub(k)
                .map(|l| (l + 1) / pool.max(1))
                .filter(|&l| l >= 1)
        };
        let mut len =
            valid(self.window_samples(), self.sinc_len, self.pool_lens[0]).ok_or_else(too_short)?;
        let mut lens = vec![len];
        for (&k, &pool) in self.conv_lens.iter().zip(&self.pool_lens[1..]) {
            len = valid(len, k, pool).ok_or_else(too_short)?;
            lens.push(len);
        }
        Ok(lens)
    }

    /// Values the network this configuration builds stores: its parameters and batch-norm
    /// statistics.
    pub fn parameters(&self) -> Result<usize, ConfigError> {
        let lens = self.block_lens()?;
        let mut n = 2 * self.sinc_filters + 2 * self.window_samples();
        let mut channels = self.sinc_filters;
        n += 2 * channels * lens[0];
        for ((&c, &k), &len) in self
            .conv_filters
            .iter()
            .zip(&self.conv_lens)
            .zip(&lens[1..])
        {
            n += c * channels * k + c + 2 * c * len;
            channels = c;
        }
        let mut width = channels * lens[lens.len() - 1];
        n += 2 * width;
        for &f in &self.fc {
            n += width * f + f + 4 * f;
            width = f;
        }
        Ok(n + width * self.classes + self.classes)
    }

    /// Checks that the shapes are consistent, the window long enough and the network of a
    /// size a browser can hold: a configuration read from a file is checked before anything
    /// is allocated for it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        if !(1_000..=192_000).contains(&self.sample_rate) {
            return bad(format!("sample rate {} Hz", self.sample_rate));
        }
        if !(1..=10_000).contains(&self.window_ms) {
            return bad(format!("window of {} ms", self.window_ms));
        }
        if self.sinc_len.is_multiple_of(2) || self.sinc_len < 3 {
            return bad(format!(
                "sinc_len {} must be odd and at least 3",
                self.sinc_len
            ));
        }
        if self.conv_filters.len() != self.conv_lens.len()
            || self.pool_lens.len() != self.conv_filters.len() + 1
        {
            return bad("conv_filters, conv_lens and pool_lens disagree in length".into());
        }
        if self.fc.is_empty() || self.classes < 2 {
            return bad("need at least one fully connected layer and two classes".into());
        }
        let widths = std::iter::once(self.sinc_filters)
            .chain(self.conv_filters.iter().copied())
            .chain(self.conv_lens.iter().copied())
            .chain(self.fc.iter().copied());
        if widths.clone().any(|w| w == 0) || widths.clone().any(|w| w > MAX_WIDTH) {
            return bad(format!(
                "layer widths and kernels must be between 1 and {MAX_WIDTH}"
            ));
        }
        if !self.leaky_slope.is_finite() {
            return bad(format!("leaky ReLU slope {}", self.leaky_slope));
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return bad(format!(
                "batch-norm momentum {} is not within [0, 1]",
                self.bn_momentum
            ));
        }
        let n = self.parameters()?;
        if n > MAX_PARAMETERS {
            return bad(format!(
                "{n} parameters, more than the {MAX_PARAMETERS} this program accepts"
            ));
        }
        Ok(())
    }
}

/// Widest layer (and longest kernel) a configuration may ask for.
const MAX_WIDTH: usize = 1 << 16;
/// Largest network a configuration may describe (1 GiB of f32).
const MAX_PARAMETERS: usize = 1 << 28;

/// Why a [`SincNetConfig`] cannot build a network.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("invalid SincNet configuration: {0}")]
pub struct ConfigError(pub String);

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
        assert_eq!(tiny.cnn_out_len(), 0);
        // The 251-tap sinc filter alone needs 251 samples: 15 ms at 16 kHz is too short.
        tiny.window_ms = 15;
        let err = tiny.block_lens().unwrap_err();
        assert!(err.0.contains("15 ms"), "{err}");
        // burn's batch norm asserts its momentum is within [0, 1]: refused here, not panicked on.
        let mut momentum = SincNetConfig::paper(200);
        momentum.bn_momentum = 1.5;
        assert!(momentum.validate().unwrap_err().0.contains("momentum"));
        momentum.bn_momentum = f64::NAN;
        assert!(momentum.validate().is_err());
        let mut huge = SincNetConfig::paper(200);
        huge.fc = vec![60_000, 60_000];
        assert!(huge.validate().unwrap_err().0.contains("parameters"));
    }

    #[test]
    fn the_parameter_count_is_the_networks() {
        let device = burn::prelude::Device::flex();
        for config in [SincNetConfig::paper(200), SincNetConfig::paper(500)] {
            use burn::module::Module;
            let n = config.init(&device).unwrap().num_params();
            assert_eq!(config.parameters().unwrap(), n);
        }
    }
}
