//! SincNet (Ravanelli & Bengio, 2018) as the paper's code ran it, in burn.
//!
//! Window → layer norm → sinc band-pass filters → |·| → max-pool → layer norm → leaky ReLU →
//! conv blocks → flatten → layer norm → fully connected blocks with batch norm → 4-way
//! log-softmax, and optionally a valence–arousal regression head beside the classifier. The
//! same module runs on burn's CPU backend (flex), on wgpu natively and on
//! WebGPU in the browser, and trains on any autodiff device.

mod block;
mod config;
mod correlate;
mod import;
mod layers;
pub(crate) mod sinc;
#[cfg(feature = "train")]
mod sinc_op;

pub use config::{ConfigError, SincNetConfig};
pub use import::load_pytorch;
pub use layers::{TimeNorm, WindowNorm};
pub use sinc::SincConv;

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, log_softmax, tanh};
use burn::tensor::module::max_pool1d;
use burn::tensor::ops::MaxPoolOptions;

/// The convolutional front: sinc filters then ordinary 1-D convolutions.
#[derive(Module, Debug)]
pub struct Cnn {
    /// Layer norm of the input window.
    pub ln0: WindowNorm,
    /// The sinc band-pass filters: `[B, 1, L]` → `[B, C, L − K + 1]`.
    pub sinc: SincConv,
    /// The convolutions after the sinc layer.
    pub conv: Vec<Conv1d>,
    /// One layer norm per block (sinc block first).
    pub ln: Vec<TimeNorm>,
    /// Max-pool length of each block (sinc block first).
    pub pool: Vec<usize>,
    /// Leaky ReLU slope.
    pub slope: f64,
}

/// The fully connected part.
#[derive(Module, Debug)]
pub struct Dnn {
    /// Layer norm of the flattened CNN output.
    pub ln0: WindowNorm,
    /// The fully connected layers, in order.
    pub wx: Vec<Linear>,
    /// One batch norm per fully connected layer.
    pub bn: Vec<BatchNorm>,
    /// Leaky ReLU slope.
    pub slope: f64,
}

/// The whole network.
#[derive(Module, Debug)]
pub struct SincNet {
    /// The convolutional front.
    pub cnn: Cnn,
    /// The fully connected blocks.
    pub dnn: Dnn,
    /// The classifier (upstream's `DNN2`).
    pub head: Linear,
    /// The valence–arousal regression head `[fc → 2]`, read through tanh; `None` in the
    /// paper's network.
    pub va_head: Option<Linear>,
}

/// Every intermediate output of one forward pass, for parity checks and inspection.
#[derive(Debug, Clone)]
pub struct Stages {
    /// `[B, L]`
    pub cnn_ln0: Tensor<2>,
    /// `[B, C, L − K + 1]`, before the absolute value.
    pub sinc_conv: Tensor<3>,
    /// Output of each CNN block, `[B, C_i, L_i]`.
    pub cnn_blocks: Vec<Tensor<3>>,
    /// `[B, C·L]`
    pub cnn_out: Tensor<2>,
    /// `[B, C·L]`
    pub dnn_ln0: Tensor<2>,
    /// Output of each fully connected block, `[B, F_i]`.
    pub dnn_layers: Vec<Tensor<2>>,
    /// `[B, classes]`
    pub log_probs: Tensor<2>,
}

/// Whether `device` is burn's flex CPU backend, with or without autodiff.
fn on_flex(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    return device.clone().without_autodiff() == Device::flex();
    #[cfg(not(feature = "flex"))]
    return false;
}

/// Max-pooling over time in runs of `len` (kernel and stride `len`, a short last run dropped),
/// as upstream's `max_pool1d`: `[B, C, L]` → `[B, C, ⌊L / len⌋]`.
fn pool(x: Tensor<3>, len: usize) -> Tensor<3> {
    if len <= 1 {
        return x;
    }
    max_pool1d(x, MaxPoolOptions::new([len]))
}

impl SincNetConfig {
    /// A freshly initialised network on `device`: mel-spaced sinc filters, PyTorch-default
    /// convolutions, fully connected weights uniform in ±√(0.01 / (fan_in + fan_out)) with zero
    /// biases, layer norms at identity. A configuration [`SincNetConfig::validate`] refuses
    /// builds nothing.
    pub fn init(&self, device: &Device) -> Result<SincNet, ConfigError> {
        self.validate()?;
        let wlen = self.window_samples();
        let lens = self.block_lens()?;
        let mut ln = vec![TimeNorm::new(self.sinc_filters, lens[0], device)];
        let mut conv = Vec::new();
        let mut channels = self.sinc_filters;
        for ((&out, &k), &len) in self
            .conv_filters
            .iter()
            .zip(&self.conv_lens)
            .zip(&lens[1..])
        {
            conv.push(
                Conv1dConfig::new(channels, out, k)
                    .with_padding(PaddingConfig1d::Valid)
                    .init(device),
            );
            ln.push(TimeNorm::new(out, len, device));
            channels = out;
        }
        let flat = channels * lens[lens.len() - 1];
        let linear = |fan_in, fan_out| fc_layer(fan_in, fan_out, device);
        let mut wx = Vec::new();
        let mut bn = Vec::new();
        let mut width = flat;
        for &f in &self.fc {
            wx.push(linear(width, f));
            bn.push(
                BatchNormConfig::new(f)
                    .with_momentum(self.bn_momentum)
                    .with_epsilon(1e-5)
                    .init(device),
            );
            width = f;
        }
        Ok(SincNet {
            cnn: Cnn {
                ln0: WindowNorm::new(wlen, device),
                sinc: SincConv::new(self.sinc_filters, self.sinc_len, self.sample_rate, device),
                conv,
                ln,
                pool: self.pool_lens.clone(),
                slope: self.leaky_slope,
            },
            dnn: Dnn {
                ln0: WindowNorm::new(flat, device),
                wx,
                bn,
                slope: self.leaky_slope,
            },
            head: linear(width, self.classes),
            va_head: None,
        })
    }
}

/// A fully connected layer as upstream initialises it: weights uniform in
/// ±√(0.01 / (fan_in + fan_out)), zero biases.
fn fc_layer(fan_in: usize, fan_out: usize, device: &Device) -> Linear {
    let a = (0.01 / (fan_in + fan_out) as f64).sqrt();
    let mut l = LinearConfig::new(fan_in, fan_out)
        .with_initializer(Initializer::Uniform { min: -a, max: a })
        .init(device);
    l.bias = Some(Initializer::Zeros.init([fan_out], device));
    l
}

impl Cnn {
    /// `x`: `[B, L]` windows → `[B, C·L']` features. Pushes intermediate outputs to `stages`
    /// when given.
    fn forward_inner(&self, x: Tensor<2>, mut stages: Option<&mut Stages>) -> Tensor<2> {
        let x = self.ln0.forward(x);
        if let Some(s) = stages.as_deref_mut() {
            s.cnn_ln0 = x.clone();
        }
        let sinc = self.sinc.forward(x.unsqueeze_dim(1)); // [B, C, L − K + 1]
        if let Some(s) = stages.as_deref_mut() {
            s.sinc_conv = sinc.clone();
        }
        let mut h = self.block(sinc, 0);
        if let Some(s) = stages.as_deref_mut() {
            s.cnn_blocks.push(h.clone());
        }
        for (i, conv) in self.conv.iter().enumerate() {
            h = self.block(conv.forward(h), i + 1);
            if let Some(s) = stages.as_deref_mut() {
                s.cnn_blocks.push(h.clone());
            }
        }
        h.flatten(1, 2)
    }

    /// Block `i` after its convolution: `|·|` (the sinc block) → max-pool → layer norm →
    /// leaky ReLU, `[B, C, L]` → `[B, C, ⌊L / pool⌋]`. On burn's flex CPU backend in one fused
    /// pass ([`block`]; in training too with the `train` feature), else composed on the device.
    fn block(&self, h: Tensor<3>, i: usize) -> Tensor<3> {
        let device = h.device();
        let (norm, len) = (&self.ln[i], h.dims()[2]);
        let block = block::Block {
            pool: self.pool[i].max(1),
            abs: i == 0,
            slope: self.slope as f32,
        };
        if on_flex(&device) && block.fits(len) {
            #[cfg(feature = "train")]
            if device.is_autodiff() {
                return sinc_op::cnn_block(h, norm.gamma.val(), norm.beta.val(), block);
            }
            if !device.is_autodiff() {
                let [batch, channels, _] = h.dims();
                let read =
                    |t: Tensor<2>| t.try_into_vec_as::<f32>().expect("a CPU tensor reads back");
                let (gamma, beta) = (read(norm.gamma.val()), read(norm.beta.val()));
                let h = h.try_into_vec_as::<f32>().expect("a CPU tensor reads back");
                let out = block.forward(&h, len, &gamma, &beta);
                let shape = [batch, channels, block.out_len(len)];
                return Tensor::from_data(TensorData::new(out, shape), &device);
            }
        }
        let h = if block.abs { h.abs() } else { h };
        leaky_relu(norm.forward(pool(h, self.pool[i])), self.slope)
    }
}

impl Dnn {
    fn forward_inner(&self, x: Tensor<2>, mut stages: Option<&mut Stages>) -> Tensor<2> {
        let mut h = self.ln0.forward(x);
        if let Some(s) = stages.as_deref_mut() {
            s.dnn_ln0 = h.clone();
        }
        for (wx, bn) in self.wx.iter().zip(&self.bn) {
            h = leaky_relu(bn.forward(wx.forward(h)), self.slope);
            if let Some(s) = stages.as_deref_mut() {
                s.dnn_layers.push(h.clone());
            }
        }
        h
    }
}

impl SincNet {
    /// The network with a freshly initialised valence–arousal head (replacing any it had).
    pub fn with_va_head(mut self) -> SincNet {
        let device = self.head.weight.device();
        let [width, _] = self.head.weight.dims();
        self.va_head = Some(fc_layer(width, 2, &device));
        self
    }

    /// `x`: `[B, L]` windows → `[B, classes]` log-probabilities.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_va(x).0
    }

    /// `x`: `[B, L]` windows → `[B, classes]` log-probabilities and, with a regression head,
    /// `[B, 2]` valence and arousal in (−1, 1).
    pub fn forward_va(&self, x: Tensor<2>) -> (Tensor<2>, Option<Tensor<2>>) {
        let h = self
            .dnn
            .forward_inner(self.cnn.forward_inner(x, None), None);
        let va = self.va_head.as_ref().map(|l| tanh(l.forward(h.clone())));
        (log_softmax(self.head.forward(h), 1), va)
    }

    /// Like [`SincNet::forward`], keeping every intermediate output.
    pub fn forward_stages(&self, x: Tensor<2>) -> Stages {
        let empty2 = || Tensor::<2>::zeros([1, 1], &x.device());
        let mut s = Stages {
            cnn_ln0: empty2(),
            sinc_conv: Tensor::zeros([1, 1, 1], &x.device()),
            cnn_blocks: Vec::new(),
            cnn_out: empty2(),
            dnn_ln0: empty2(),
            dnn_layers: Vec::new(),
            log_probs: empty2(),
        };
        let cnn_out = self.cnn.forward_inner(x, Some(&mut s));
        s.cnn_out = cnn_out.clone();
        let h = self.dnn.forward_inner(cnn_out, Some(&mut s));
        s.log_probs = log_softmax(self.head.forward(h), 1);
        s
    }
}
