//! The sinc layer's FFT correlation ([`super::correlate`]) and the fused CNN block
//! ([`super::block`]) as a burn backend extension with handwritten backward passes, so that
//! training on the flex CPU backend runs the widest layer through FFTs rather than burn's
//! direct convolution, and each block in one pass rather than a dozen.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::prelude::*;

use super::block::{Block, Saved};

/// The correlation and the CNN block, on flex and on autodiff over flex.
#[backend_extension(Flex, Autodiff)]
pub trait SincOps: Backend {
    /// `x`: `[B, L]`, `filters`: `[C, K]` → `[B, C, L − K + 1]`.
    fn sinc_correlate(x: FloatTensor<Self>, filters: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `h`: `[B, C, L]`, `gamma`, `beta`: `[C, N]` → `[B, C, N]`.
    fn cnn_block(
        h: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        block: Block,
    ) -> FloatTensor<Self>;
}

/// What the autodiff versions need of the backend under autodiff: the gradients, and the
/// block's forward pass with its record.
pub trait SincGrad: Backend {
    /// `x`: `[B, L]`, `filters`: `[C, K]`, `grad`: `[B, C, L − K + 1]` → the gradients with
    /// respect to `x` (`[B, L]`) and to `filters` (`[C, K]`).
    fn sinc_correlate_grad(
        x: FloatTensor<Self>,
        filters: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// [`SincOps::cnn_block`], keeping what its gradient needs.
    fn cnn_block_saved(
        h: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        block: Block,
    ) -> (FloatTensor<Self>, Saved);

    /// The gradients of [`SincOps::cnn_block`] with respect to `h` (`[B, C, L]`), `gamma` and
    /// `beta` (`[C, N]`), given its output's (`[B, C, N]`).
    fn cnn_block_grad(
        saved: &Saved,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        block: Block,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
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

    fn cnn_block(h: FlexTensor, gamma: FlexTensor, beta: FlexTensor, block: Block) -> FlexTensor {
        let ((h, shape), (gamma, _), (beta, _)) = (values(&h), values(&gamma), values(&beta));
        let [batch, channels, len] = dims3(&shape);
        let out = block.forward(&h, len, &gamma, &beta);
        tensor(out, vec![batch, channels, block.out_len(len)])
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

    fn cnn_block_saved(
        h: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        block: Block,
    ) -> (FlexTensor, Saved) {
        let ((h, shape), (gamma, _), (beta, _)) = (values(&h), values(&gamma), values(&beta));
        let [batch, channels, len] = dims3(&shape);
        let (out, saved) = block.forward_saved(&h, len, &gamma, &beta);
        (
            tensor(out, vec![batch, channels, block.out_len(len)]),
            saved,
        )
    }

    fn cnn_block_grad(
        saved: &Saved,
        gamma: FlexTensor,
        beta: FlexTensor,
        grad: FlexTensor,
        block: Block,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let ((gamma, norm_shape), (beta, _)) = (values(&gamma), values(&beta));
        let (grad, shape) = values(&grad);
        let [batch, channels, _] = dims3(&shape);
        let (g_h, g_gamma, g_beta) = block.backward(saved, &gamma, &beta, &grad);
        (
            tensor(g_h, vec![batch, channels, saved.len]),
            tensor(g_gamma, norm_shape.clone()),
            tensor(g_beta, norm_shape),
        )
    }
}

/// The two dimensions of a matrix's shape.
fn dims2(shape: &[usize]) -> [usize; 2] {
    shape.try_into().expect("a matrix")
}

/// The three dimensions of a `[B, C, L]` shape.
fn dims3(shape: &[usize]) -> [usize; 3] {
    shape.try_into().expect("a `[B, C, L]` tensor")
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

    fn cnn_block(
        h: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        block: Block,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct CnnBlock(Block);

        impl<B: SincGrad> Backward<B, 3> for CnnBlock {
            /// The forward pass's record, and the checkpointed γ and β.
            type State = (
                Saved,
                burn::backend::autodiff::NodeId,
                burn::backend::autodiff::NodeId,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let (saved, gamma, beta) = ops.state;
                let gamma = checkpointer.retrieve_node_output(gamma);
                let beta = checkpointer.retrieve_node_output(beta);
                let grad = grads.consume::<B>(&ops.node);
                let grads_in = B::cnn_block_grad(&saved, gamma, beta, grad, self.0);
                let [node_h, node_gamma, node_beta] = ops.parents;
                for (node, g) in [node_h, node_gamma, node_beta]
                    .into_iter()
                    .zip([grads_in.0, grads_in.1, grads_in.2])
                {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        let (h_node, gamma_node, beta_node) = (h.node(), gamma.node(), beta.node());
        let [h, g, b] = [&h, &gamma, &beta].map(|t| t.primitive().clone());
        match CnnBlock(block)
            .prepare::<C>([h_node, gamma_node, beta_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let (out, saved) = B::cnn_block_saved(h, g, b, block);
                let state = (saved, prep.checkpoint(&gamma), prep.checkpoint(&beta));
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::cnn_block(h, g, b, block)),
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

/// One CNN block on flex or autodiff over flex: `h`: `[B, C, L]`, `gamma`, `beta`: `[C, N]` →
/// `[B, C, N]`.
pub(crate) fn cnn_block(
    h: Tensor<3>,
    gamma: Tensor<2>,
    beta: Tensor<2>,
    block: Block,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as SincOps>::cnn_block(
        h.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        block,
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

    /// `a` equals `b` to 1e-4 of `b`'s largest magnitude, or 1e-4 where that is below 1.
    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = (a.iter().zip(b))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1e-4 * scale.max(1.0), "{what}: {worst} of {scale}");
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
        close(&fft.0, &direct.0, "output");
        close(&fft.1, &direct.1, "windows' gradient");
        close(&fft.2, &direct.2, "low cut-offs' gradient");
        close(&fft.3, &direct.3, "bandwidths' gradient");
    }

    /// Values in (−1, 1) without repeats; in these tests no pooled run holds two of one magnitude.
    fn distinct(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i + seed) as f32 * 0.618_034).fract() * 2.0 - 1.0)
            .collect()
    }

    /// The fused block against burn's composition (`|·|`, `max_pool1d`, [`TimeNorm`], leaky
    /// ReLU): the same output and the same gradients for the input, γ and β, with and
    /// without the absolute value, and a short last run dropped.
    #[test]
    fn block_equals_burns_composition() {
        use crate::sincnet::TimeNorm;
        use burn::module::Param;
        use burn::tensor::activation::leaky_relu;

        let device = Device::flex().autodiff();
        let (batch, channels, len, pool, slope) = (3, 4, 47, 3, 0.2);
        let n = len / pool;
        let matrix = |values: Vec<f32>| {
            let t = Tensor::<2>::from_data(TensorData::new(values, [channels, n]), &device);
            Param::from_tensor(t)
        };
        let norm = TimeNorm {
            gamma: matrix(distinct(channels * n, 3).iter().map(|v| 1.0 + v).collect()),
            beta: matrix(distinct(channels * n, 5).iter().map(|v| v / 2.0).collect()),
        };
        let cube = |values: Vec<f32>, len: usize| {
            Tensor::<3>::from_data(TensorData::new(values, [batch, channels, len]), &device)
        };
        let h = cube(distinct(batch * channels * len, 11), len);
        let weight = cube(noise(batch * channels * n, 13), n);
        for abs in [true, false] {
            let block = Block { pool, abs, slope };
            let run = |fused: bool| {
                let h = h.clone().require_grad();
                let y = if fused {
                    cnn_block(h.clone(), norm.gamma.val(), norm.beta.val(), block)
                } else {
                    let x = if abs { h.clone().abs() } else { h.clone() };
                    leaky_relu(norm.forward(crate::sincnet::pool(x, pool)), slope.into())
                };
                let grads = (y.clone() * weight.clone()).sum().backward();
                let read = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_into_vec_as().unwrap() };
                (
                    y.into_data().try_into_vec_as::<f32>().unwrap(),
                    h.grad(&grads)
                        .unwrap()
                        .into_data()
                        .try_into_vec_as()
                        .unwrap(),
                    read(norm.gamma.grad(&grads).unwrap()),
                    read(norm.beta.grad(&grads).unwrap()),
                )
            };
            let (fused, composed) = (run(true), run(false));
            close(&fused.0, &composed.0, &format!("output (abs {abs})"));
            close(
                &fused.1,
                &composed.1,
                &format!("input's gradient (abs {abs})"),
            );
            close(&fused.2, &composed.2, &format!("γ's gradient (abs {abs})"));
            close(&fused.3, &composed.3, &format!("β's gradient (abs {abs})"));
        }
    }
}
