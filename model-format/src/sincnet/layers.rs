//! SincNet's own layer norm: `γ ⊙ (x − mean) / (std + 1e-6) + β` over the last axis, with the
//! unbiased standard deviation and element-wise γ, β shaped like the input (not burn's
//! `LayerNorm`, which uses the biased variance inside the square root).

use burn::module::Param;
use burn::prelude::*;

const EPS: f64 = 1e-6;

fn normalise<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let mean = x.clone().mean_dim(D - 1);
    let std = x.clone().var(D - 1).sqrt();
    (x - mean) / (std + EPS)
}

/// Layer norm of `[B, L]` inputs with γ, β of shape `[L]`.
#[derive(Module, Debug)]
pub struct WindowNorm {
    /// Element-wise scale γ, `[L]`.
    pub gamma: Param<Tensor<1>>,
    /// Element-wise shift β, `[L]`.
    pub beta: Param<Tensor<1>>,
}

impl WindowNorm {
    /// A norm over inputs of `len` samples, at identity (γ = 1, β = 0).
    pub fn new(len: usize, device: &Device) -> Self {
        WindowNorm {
            gamma: Param::from_tensor(Tensor::ones([len], device)),
            beta: Param::from_tensor(Tensor::zeros([len], device)),
        }
    }

    /// `[B, L]` → `[B, L]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        normalise(x) * self.gamma.val().unsqueeze() + self.beta.val().unsqueeze()
    }
}

/// Layer norm over time of `[B, C, L]` inputs with γ, β of shape `[C, L]`.
#[derive(Module, Debug)]
pub struct TimeNorm {
    /// Element-wise scale γ, `[C, L]`.
    pub gamma: Param<Tensor<2>>,
    /// Element-wise shift β, `[C, L]`.
    pub beta: Param<Tensor<2>>,
}

impl TimeNorm {
    /// A norm over `[channels, len]` inputs, at identity (γ = 1, β = 0).
    pub fn new(channels: usize, len: usize, device: &Device) -> Self {
        TimeNorm {
            gamma: Param::from_tensor(Tensor::ones([channels, len], device)),
            beta: Param::from_tensor(Tensor::zeros([channels, len], device)),
        }
    }

    /// `[B, C, L]` → `[B, C, L]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        normalise(x) * self.gamma.val().unsqueeze() + self.beta.val().unsqueeze()
    }
}
