//! One CNN block after its convolution, fused for burn's flex CPU backend: `|·|` (the sinc
//! block only) → max-pool over time → SincNet's layer norm over time → leaky ReLU, in one pass
//! over each row, with a handwritten backward pass.
//!
//! Composed of burn's operations, a block is a dozen passes over tensors as large as the
//! convolution's output (about 120 MB after the sinc layer for a batch of 128 windows of
//! 200 ms), and as many again backward, where the pooling's gradient is a scatter. Fused, it
//! reads the convolution's output once forward and writes its gradient once backward. The
//! results equal those of [`super::TimeNorm`] over the pooling to within rounding (each row's
//! mean, variance and gradient sums are accumulated in f64).

use super::layers::{EPS, VAR_FLOOR};

/// What a block does around its layer norm.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    /// Max-pool length (kernel and stride; a short last run is dropped), at most 64.
    pub pool: usize,
    /// Whether the absolute value is taken before pooling.
    pub abs: bool,
    /// Leaky ReLU slope.
    pub slope: f32,
}

/// What the backward pass keeps of a forward pass.
#[cfg(feature = "train")]
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    /// The block's input length `L`.
    pub len: usize,
    /// The normalised values `(p − mean) / d` before γ and β, `[B, C, N]`.
    pub norm: Vec<f32>,
    /// Per output, where in its run the maximum was ([`OFFSET`] bits), and the sign of that
    /// input ([`NEGATIVE`], [`ZERO`]): the absolute value's gradient is the sign, 0 at 0.
    pub arg: Vec<u8>,
    /// Per row `(b, c)`: the standard deviation (`d = std + ε`).
    pub std: Vec<f32>,
}

#[cfg(feature = "train")]
const OFFSET: u8 = 0x3f;
const ZERO: u8 = 0x40;
const NEGATIVE: u8 = 0x80;

/// One row's outputs beside the block's output, when a backward pass will follow.
struct RowSave<'a> {
    norm: &'a mut [f32],
    arg: &'a mut [u8],
    std: &'a mut f32,
}

impl Block {
    /// Whether the fused block takes inputs of `len` samples: pooling runs of at most 64
    /// leaving at least 2 outputs (the layer norm's unbiased variance needs 2).
    pub fn fits(&self, len: usize) -> bool {
        (1..=64).contains(&self.pool) && len / self.pool >= 2
    }

    /// The output length `N` of inputs of `len` samples.
    pub fn out_len(&self, len: usize) -> usize {
        assert!(self.fits(len), "pooling {len} samples by {}", self.pool);
        len / self.pool
    }

    /// `N`, after checking that `h` holds rows of `len` and `gamma`, `beta` are `[C, N]` for a
    /// whole number of channels per batch.
    fn check(&self, h: &[f32], len: usize, gamma: &[f32], beta: &[f32]) -> usize {
        let n = self.out_len(len);
        assert!(
            h.len().is_multiple_of(len)
                && gamma.len() == beta.len()
                && gamma.len().is_multiple_of(n)
                && (h.len() / len).is_multiple_of((gamma.len() / n).max(1)),
            "γ and β are not [C, {n}] for rows of {len}"
        );
        n
    }

    /// `h`: `[B, C, L]`, `gamma`, `beta`: `[C, N]` with `N = ⌊L / pool⌋` → `[B, C, N]`.
    pub fn forward(&self, h: &[f32], len: usize, gamma: &[f32], beta: &[f32]) -> Vec<f32> {
        let n = self.check(h, len, gamma, beta);
        let mut out = vec![0.0; h.len() / len * n];
        let row = |(r, (h, out)): (usize, (&[f32], &mut [f32]))| {
            let (gamma, beta) = channel(gamma, beta, r, n);
            self.row(h, gamma, beta, out, None);
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            (h.par_chunks(len).zip(out.par_chunks_mut(n)).enumerate()).for_each(row);
        }
        #[cfg(target_arch = "wasm32")]
        (h.chunks(len).zip(out.chunks_mut(n)).enumerate()).for_each(row);
        out
    }

    /// [`Block::forward`], keeping what [`Block::backward`] needs.
    #[cfg(feature = "train")]
    pub fn forward_saved(
        &self,
        h: &[f32],
        len: usize,
        gamma: &[f32],
        beta: &[f32],
    ) -> (Vec<f32>, Saved) {
        use rayon::prelude::*;
        let n = self.check(h, len, gamma, beta);
        let rows = h.len() / len;
        let mut out = vec![0.0; rows * n];
        let mut norm = vec![0.0; rows * n];
        let mut arg = vec![0u8; rows * n];
        let mut std = vec![0.0; rows];
        let outputs = out.par_chunks_mut(n).zip(norm.par_chunks_mut(n));
        let saves = outputs.zip(arg.par_chunks_mut(n)).zip(std.par_iter_mut());
        (h.par_chunks(len).zip(saves).enumerate()).for_each(
            |(r, (h, (((out, norm), arg), std)))| {
                let (gamma, beta) = channel(gamma, beta, r, n);
                let save = RowSave { norm, arg, std };
                self.row(h, gamma, beta, out, Some(save));
            },
        );
        let saved = Saved {
            len,
            norm,
            arg,
            std,
        };
        (out, saved)
    }

    /// One row `(b, c)`: `h` of length `L` → `out` of length `N`.
    fn row(
        &self,
        h: &[f32],
        gamma: &[f32],
        beta: &[f32],
        out: &mut [f32],
        mut save: Option<RowSave>,
    ) {
        let n = out.len();
        let value = |v: f32| if self.abs { v.abs() } else { v };
        for (t, (o, run)) in out.iter_mut().zip(h.chunks_exact(self.pool)).enumerate() {
            // The first of equal maxima, and a NaN where there is one, as burn's pooling.
            let (mut at, mut best) = (0, value(run[0]));
            for (i, &v) in run.iter().enumerate().skip(1) {
                let v = value(v);
                if v > best || v.is_nan() {
                    (at, best) = (i, v);
                }
            }
            *o = best;
            if let Some(save) = save.as_mut() {
                let v = run[at];
                let sign = if v < 0.0 {
                    NEGATIVE
                } else if v == 0.0 {
                    ZERO
                } else {
                    0
                };
                save.arg[t] = at as u8 | sign;
            }
        }
        let mean = out.iter().map(|&p| f64::from(p)).sum::<f64>() / n as f64;
        let var = (out.iter())
            .map(|&p| (f64::from(p) - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        let std = (var + VAR_FLOOR).sqrt() as f32;
        let d = spread(std);
        let mean = mean as f32;
        for (t, o) in out.iter_mut().enumerate() {
            let x = (*o - mean) / d;
            if let Some(save) = save.as_mut() {
                save.norm[t] = x;
            }
            let y = gamma[t] * x + beta[t];
            *o = if y < 0.0 { self.slope * y } else { y };
        }
        if let Some(save) = save {
            *save.std = std;
        }
    }

    /// The gradients with respect to the block's input (`[B, C, L]`), γ and β (`[C, N]` each),
    /// given the gradient `grad` of its output (`[B, C, N]`). γ's and β's are summed over the
    /// batch in order, so the result does not depend on the thread count.
    #[cfg(feature = "train")]
    pub fn backward(
        &self,
        saved: &Saved,
        gamma: &[f32],
        beta: &[f32],
        grad: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        use rayon::prelude::*;
        let (len, n) = (saved.len, saved.len / self.pool);
        let rows = grad.len() / n;
        let channels = gamma.len() / n;
        // The leaky ReLU's gradient at output `i` of channel row `c`.
        let g_y = |i: usize, c: usize, t: usize| {
            let y = gamma[c * n + t] * saved.norm[i] + beta[c * n + t];
            if y < 0.0 {
                self.slope * grad[i]
            } else {
                grad[i]
            }
        };

        let mut g_gamma = vec![0.0; gamma.len()];
        let mut g_beta = vec![0.0; beta.len()];
        (g_gamma
            .par_chunks_mut(n)
            .zip(g_beta.par_chunks_mut(n))
            .enumerate())
        .for_each(|(c, (g_gamma, g_beta))| {
            for b in 0..rows / channels {
                let row = (b * channels + c) * n;
                for t in 0..n {
                    let g = g_y(row + t, c, t);
                    g_gamma[t] += g * saved.norm[row + t];
                    g_beta[t] += g;
                }
            }
        });

        let mut g_h = vec![0.0; rows * len];
        (g_h.par_chunks_mut(len).enumerate()).for_each(|(r, g_h)| {
            let (c, row) = (r % channels, r * n);
            let std = saved.std[r];
            let d = spread(std);
            let g_norm = |t: usize| g_y(row + t, c, t) * gamma[c * n + t];
            let (mut sum, mut dot) = (0.0f64, 0.0f64);
            for t in 0..n {
                let g = f64::from(g_norm(t));
                sum += g;
                dot += g * f64::from(saved.norm[row + t]);
            }
            let mean = (sum / n as f64) as f32;
            let along = (dot / ((n - 1) as f64 * f64::from(std))) as f32;
            for t in 0..n {
                let g_p = (g_norm(t) - mean) / d - along * saved.norm[row + t];
                let arg = saved.arg[row + t];
                let sign = match arg & (NEGATIVE | ZERO) {
                    _ if !self.abs => 1.0,
                    NEGATIVE => -1.0,
                    ZERO => 0.0,
                    _ => 1.0,
                };
                g_h[t * self.pool + usize::from(arg & OFFSET)] = g_p * sign;
            }
        });
        (g_h, g_gamma, g_beta)
    }
}

/// The layer norm's divisor `d = std + ε`.
fn spread(std: f32) -> f32 {
    std + EPS as f32
}

/// Row `r`'s γ and β: `[N]` each.
fn channel<'a>(gamma: &'a [f32], beta: &'a [f32], r: usize, n: usize) -> (&'a [f32], &'a [f32]) {
    let c = r % (gamma.len() / n);
    (&gamma[c * n..(c + 1) * n], &beta[c * n..(c + 1) * n])
}
