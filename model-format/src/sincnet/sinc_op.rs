//! The sinc layer's FFT correlation ([`super::correlate`]) as a burn backend extension with a
//! handwritten backward pass, so that training on the flex CPU backend runs the widest layer
//! through FFTs rather than burn's direct convolution.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::prelude::*;

/// The correlation, on flex and on autodiff over flex.
#[backend_extension(Flex, Autodiff)]
pub trait SincOps: Backend {
    /// `x`: `[B, L]`, `filters`: `[C, K]` → `[B, C, L − K + 1]`.
    fn sinc_correlate(x: FloatTensor<Self>, filters: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The correlation's gradients, on the backend under autodiff.
pub trait SincGrad: Backend {
    /// `x`: `[B, L]`, `filters`: `[C, K]`, `grad`: `[B, C, L − K + 1]` → the gradients with
    /// respect to `x` (`[B, L]`) and to `filters` (`[C, K]`).
    fn sinc_correlate_grad(
        x: FloatTensor<Self>,
        filters: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// A flex tensor's `f32` values and its shape.
fn values(t: &FlexTensor) -> (std::borrow::Cow<'_, [f32]>, Vec<usize>) {
    let shape = t.shape().to_vec();
    let values = match t.as_slice::<f32>() {
        Some(v) => std::borrow::Cow::Borrowed(v),
        None => std::borrow::Cow::Owned(
            (t.to_contiguous().as_slice::<f32>())
                .expect("the sinc layer runs in f32")
                .to_vec(),
        ),
    };
    (values, shape)
}

/// A flex tensor of `values` in row-major order.
fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl SincOps for Flex {
    fn sinc_correlate(x: FlexTensor, filters: FlexTensor) -> FlexTensor {
        let ((x, x_shape), (w, w_shape)) = (values(&x), values(&filters));
        let ([batch, len], [channels, taps]) = (dims2(&x_shape), dims2(&w_shape));
        let out = super::correlate::correlate(&x, len, &w, taps);
        tensor(out, vec![batch, channels, len - taps + 1])
    }
}

impl SincGrad for Flex {
    fn sinc_correlate_grad(
        x: FlexTensor,
        filters: FlexTensor,
        grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        let ((x, x_shape), (w, w_shape)) = (values(&x), values(&filters));
        let (g, _) = values(&grad);
        let ([_, len], [_, taps]) = (dims2(&x_shape), dims2(&w_shape));
        let (dx, dw) = super::correlate::correlate_backward(&x, len, &w, taps, &g);
        (tensor(dx, x_shape), tensor(dw, w_shape))
    }
}

/// The two dimensions of a matrix's shape.
fn dims2(shape: &[usize]) -> [usize; 2] {
    shape.try_into().expect("a matrix")
}

impl<B: SincOps + SincGrad, C: CheckpointStrategy> SincOps for Autodiff<B, C> {
    fn sinc_correlate(x: FloatTensor<Self>, filters: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Correlate;

        impl<B: SincGrad> Backward<B, 2> for Correlate {
            /// The checkpointed windows and filters.
            type State = (
                burn::backend::autodiff::NodeId,
                burn::backend::autodiff::NodeId,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let (x, filters) = ops.state;
                let x = checkpointer.retrieve_node_output(x);
                let filters = checkpointer.retrieve_node_output(filters);
                let grad = grads.consume::<B>(&ops.node);
                let (dx, dw) = B::sinc_correlate_grad(x, filters, grad);
                let [node_x, node_w] = ops.parents;
                if let Some(node) = node_x {
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_w {
                    grads.register::<B>(node.id, dw);
                }
            }
        }

        let out = B::sinc_correlate(x.primitive().clone(), filters.primitive().clone());
        match Correlate
            .prepare::<C>([x.node(), filters.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&filters));
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// `x`: `[B, L]`, `filters`: `[C, K]` → `[B, C, L − K + 1]`, on flex or autodiff over flex.
pub(crate) fn correlate(x: Tensor<2>, filters: Tensor<2>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as SincOps>::sinc_correlate(
        x.into_dispatch(),
        filters.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sincnet::SincConv;
    use burn::tensor::module::conv1d;
    use burn::tensor::ops::ConvOptions;

    fn noise(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i + seed) * 2_654_435_761) % 2000) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// Through the extension and through burn's `conv1d`: the same output, and the same
    /// gradients for the windows and the cut-offs.
    #[test]
    fn gradients_equal_burns_convolution() {
        let device = Device::flex().autodiff();
        let (batch, len, channels, taps) = (3, 200, 4, 31);
        let out_len = len - taps + 1;
        let sinc = SincConv::new(channels, taps, 16000, &device);
        let x = Tensor::<2>::from_data(
            TensorData::new(noise(batch * len, 1), [batch, len]),
            &device,
        );
        let weight = Tensor::<3>::from_data(
            TensorData::new(
                noise(batch * channels * out_len, 7),
                [batch, channels, out_len],
            ),
            &device,
        );
        let run = |fft: bool| {
            let x = x.clone().require_grad();
            let y = if fft {
                correlate(x.clone(), sinc.filters())
            } else {
                let w = sinc.filters().unsqueeze_dim(1);
                conv1d(
                    x.clone().unsqueeze_dim(1),
                    w,
                    None,
                    ConvOptions::new([1], [0], [1], 1),
                )
            };
            let grads = (y.clone() * weight.clone()).sum().backward();
            let read = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_into_vec_as().unwrap() };
            let y: Vec<f32> = y.into_data().try_into_vec_as().unwrap();
            (
                y,
                read(x.grad(&grads).unwrap()),
                read(sinc.low_hz.grad(&grads).unwrap()),
                read(sinc.band_hz.grad(&grads).unwrap()),
            )
        };
        let (fft, direct) = (run(true), run(false));
        let close = |a: &[f32], b: &[f32], what: &str| {
            assert_eq!(a.len(), b.len(), "{what}");
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(b)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst <= 1e-4 * scale.max(1.0), "{what}: {worst} of {scale}");
        };
        close(&fft.0, &direct.0, "output");
        close(&fft.1, &direct.1, "windows' gradient");
        close(&fft.2, &direct.2, "low cut-offs' gradient");
        close(&fft.3, &direct.3, "bandwidths' gradient");
    }
}
