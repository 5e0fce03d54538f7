//! The sinc layer: band-pass filters parametrised by learnable cut-offs.

use crate::dsp::{hz_to_mel as to_mel, mel_to_hz as to_hz};
use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;

/// Lowest low cut-off and narrowest band, Hz.
pub const MIN_LOW_HZ: f64 = 50.0;
pub const MIN_BAND_HZ: f64 = 50.0;

/// `C` band-pass filters of `K` taps. Low cut-off `50 + |low_hz|`, high cut-off
/// `clamp(low + 50 + |band_hz|, 50, fs/2)`; each filter is the difference of two windowed
/// sincs (half-Hamming), divided by twice its bandwidth so the centre tap is 1.
#[derive(Module, Debug)]
pub struct SincConv {
    /// `[C, 1]`
    pub low_hz: Param<Tensor<2>>,
    /// `[C, 1]`
    pub band_hz: Param<Tensor<2>>,
    /// `2π · t` for the left half of the taps, `t = (−(K−1)/2 .. 0) / fs`: `[1, K/2]`.
    n: Tensor<2>,
    /// Half Hamming window: `[1, K/2]`.
    window: Tensor<2>,
    sample_rate: f64,
}

impl SincConv {
    /// Mel-initialised filters: `C + 1` points evenly spaced in mel from 30 Hz to
    /// `fs/2 − 100` Hz give the low cut-offs and the bandwidths.
    pub fn new(channels: usize, taps: usize, sample_rate: u32, device: &Device) -> Self {
        let fs = sample_rate as f64;
        let (lo, hi) = (to_mel(30.0), to_mel(fs / 2.0 - (MIN_LOW_HZ + MIN_BAND_HZ)));
        let hz: Vec<f64> = (0..=channels)
            .map(|i| to_hz(lo + (hi - lo) * i as f64 / channels as f64))
            .collect();
        let low: Vec<f32> = hz[..channels].iter().map(|&v| v as f32).collect();
        let band: Vec<f32> = hz.windows(2).map(|w| (w[1] - w[0]) as f32).collect();
        let half = taps / 2;
        let n: Vec<f32> = (0..half)
            .map(|i| (2.0 * std::f64::consts::PI * (i as f64 - half as f64) / fs) as f32)
            .collect();
        // linspace(0, K/2 − 1, K/2) as upstream writes it: step (K/2 − 1)/(K/2 − 1) over the
        // real-valued K/2, i.e. points 0, s, 2s, … with s = (K/2 − 1)/(⌊K/2⌋ − 1).
        let last = taps as f64 / 2.0 - 1.0;
        let window: Vec<f32> = (0..half)
            .map(|i| {
                let x = last * i as f64 / (half as f64 - 1.0);
                (0.54 - 0.46 * (2.0 * std::f64::consts::PI * x / taps as f64).cos()) as f32
            })
            .collect();
        SincConv {
            low_hz: Param::from_tensor(Tensor::from_data(
                TensorData::new(low, [channels, 1]),
                device,
            )),
            band_hz: Param::from_tensor(Tensor::from_data(
                TensorData::new(band, [channels, 1]),
                device,
            )),
            n: Tensor::from_data(TensorData::new(n, [1, half]), device),
            window: Tensor::from_data(TensorData::new(window, [1, half]), device),
            sample_rate: fs,
        }
    }

    /// The filters: `[C, K]`.
    pub fn filters(&self) -> Tensor<2> {
        let (low, high) = self.band_edges(); // [C, 1] each
        let band = high.clone() - low.clone(); // [C, 1]
        let t_low = low.matmul(self.n.clone()); // [C, K/2]
        let t_high = high.matmul(self.n.clone());
        let left = (t_high.sin() - t_low.sin()) / (self.n.clone() / 2.0) * self.window.clone();
        let centre = band.clone() * 2.0;
        let right = left.clone().flip([1]);
        Tensor::cat(vec![left, centre, right], 1) / (band * 2.0)
    }

    /// The cut-offs in Hz, `(low, high)` per filter: `[C, 1]` each.
    pub fn band_edges(&self) -> (Tensor<2>, Tensor<2>) {
        let low = self.low_hz.val().abs() + MIN_LOW_HZ;
        let high = (low.clone() + MIN_BAND_HZ + self.band_hz.val().abs())
            .clamp(MIN_LOW_HZ, self.sample_rate / 2.0);
        (low, high)
    }

    /// `[B, 1, L]` → `[B, C, L − K + 1]`. On burn's flex CPU backend through FFTs (in
    /// training too with the `train` feature), else as burn's convolution on the device.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let device = x.device();
        let on_flex = super::on_flex(&device);
        #[cfg(feature = "train")]
        if on_flex && device.is_autodiff() {
            return super::sinc_op::correlate(x.squeeze_dim(1), self.filters());
        }
        if !on_flex || device.is_autodiff() {
            return conv1d(
                x,
                self.filters().unsqueeze_dim(1),
                None,
                ConvOptions::new([1], [0], [1], 1),
            );
        }
        let [batch, _, len] = x.dims();
        let filters = self.filters(); // [C, K]
        let [channels, taps] = filters.dims();
        let windows = x.try_into_vec_as::<f32>().expect("a CPU tensor reads back"); // [B, L]
        let filters = filters
            .try_into_vec_as::<f32>()
            .expect("a CPU tensor reads back");
        let out = super::correlate::correlate(&windows, len, &filters, taps);
        Tensor::from_data(
            TensorData::new(out, [batch, channels, len - taps + 1]),
            &device,
        )
    }
}
