//! SincNet's own layer norm: `γ ⊙ (x − mean) / (std + 1e-6) + β` over the last axis, with the
//! unbiased standard deviation and element-wise γ, β shaped like the input (not burn's
//! `LayerNorm`, which uses the biased variance inside the square root). The square root is
//! taken of the variance plus [`VAR_FLOOR`], so that a constant input (a window of digital
//! silence) has a finite gradient: upstream's has 0/0 there, and one such window turns every
//! weight to NaN.

use burn::module::Param;
use burn::prelude::*;

/// Added to the standard deviation.
pub(super) const EPS: f64 = 1e-6;
/// Added to the variance under the square root: below f32's resolution for any variance
/// that is not already negligible, so outputs match upstream's.
pub(super) const VAR_FLOOR: f64 = 1e-12;

fn normalise<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let mean = x.clone().mean_dim(D - 1);
    let std = x.clone().var(D - 1).add_scalar(VAR_FLOOR).sqrt();
    (x - mean) / (std + EPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A silent window and a constant one normalise to 0 with finite gradients.
    #[test]
    fn constant_inputs_have_finite_gradients() {
        let device = Device::flex().autodiff();
        let norm = WindowNorm::new(4, &device);
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5], [2, 4]),
            &device,
        )
        .require_grad();
        let y = norm.forward(x.clone());
        let out: Vec<f32> = y.clone().into_data().try_into_vec_as().unwrap();
        assert!(out.iter().all(|v| *v == 0.0), "{out:?}");
        let grads = y.mul_scalar(3.0).sum().backward();
        let g: Vec<f32> = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_into_vec_as()
            .unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
        let gamma: Vec<f32> = (norm.gamma.grad(&grads).unwrap().into_data())
            .try_into_vec_as()
            .unwrap();
        assert!(gamma.iter().all(|v| v.is_finite()), "{gamma:?}");
    }
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
