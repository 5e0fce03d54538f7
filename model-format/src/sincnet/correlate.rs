//! The sinc layer's convolution on burn's flex CPU backend, through real FFTs.
//!
//! A sinc filter bank is wide (80 filters of 251 taps in the paper), so the direct
//! convolution costs `C · K` multiply-adds per output sample: about 59 M per 200 ms window,
//! most of SincNet's work. Through the FFT the forward pass is one forward transform per window
//! and one inverse transform per window and filter, about 14 times less work; the filters'
//! spectra are computed once per model and window length, and kept. The backward pass
//! ([`correlate_backward`]) is one forward transform per window and filter, one inverse per
//! window and one per filter. On a GPU the convolution stays on the device.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::{Arc, Mutex, PoisonError};

/// Valid cross-correlation of every window with every filter, as `conv1d` computes it:
/// `out[b, c, t] = Σ_k x[b, t + k] · w[c, k]`.
///
/// `windows`: `[B, L]`, `filters`: `[C, K]` (row-major, `K ≤ L`) → `[B, C, L − K + 1]`.
pub(crate) fn correlate(windows: &[f32], len: usize, filters: &[f32], taps: usize) -> Vec<f32> {
    assert!(taps >= 1 && taps <= len, "{taps} taps for windows of {len}");
    assert!(windows.len().is_multiple_of(len) && filters.len().is_multiple_of(taps));
    let channels = filters.len() / taps;
    assert!(channels >= 1, "no filters");
    let out_len = len - taps + 1;
    let bank = Bank::cached(filters, taps, len);
    let (forward, inverse, bins) = (&bank.forward, &bank.inverse, bank.bins);

    let mut out = vec![0.0; windows.len() / len * channels * out_len];
    let per_window = |(x, out): (&[f32], &mut [f32])| {
        let mut time = forward.make_input_vec();
        let mut x_spec = forward.make_output_vec();
        let mut y_spec = forward.make_output_vec();
        let mut scratch =
            vec![Complex::default(); forward.get_scratch_len().max(inverse.get_scratch_len())];
        time[..len].copy_from_slice(x);
        time[len..].fill(0.0);
        forward
            .process_with_scratch(&mut time, &mut x_spec, &mut scratch)
            .expect("buffers sized by the plan");
        for (spectrum, y) in bank.spectra.chunks(bins).zip(out.chunks_mut(out_len)) {
            for ((o, a), b) in y_spec.iter_mut().zip(&x_spec).zip(spectrum) {
                *o = a * b;
            }
            // The DC and Nyquist bins of a real signal's spectrum are real.
            y_spec[0].im = 0.0;
            y_spec[bins - 1].im = 0.0;
            inverse
                .process_with_scratch(&mut y_spec, &mut time, &mut scratch)
                .expect("buffers sized by the plan");
            y.copy_from_slice(&time[..out_len]);
        }
    };
    // Natively the windows run in parallel; the page has one thread.
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        let pairs = windows
            .par_chunks(len)
            .zip(out.par_chunks_mut(channels * out_len));
        pairs.for_each(per_window);
    }
    #[cfg(target_arch = "wasm32")]
    (windows.chunks(len).zip(out.chunks_mut(channels * out_len))).for_each(per_window);
    out
}

/// The gradients of [`correlate`] with respect to its windows and its filters, given the
/// gradient of its output.
///
/// `windows`: `[B, L]`, `filters`: `[C, K]`, `grad`: `[B, C, L − K + 1]` →
/// (`[B, L]`, `[C, K]`):
/// - `∂x[b, i] = Σ_c Σ_t g[b, c, t] · w[c, i − t]`, a full convolution of length `L`;
/// - `∂w[c, k] = Σ_b Σ_t g[b, c, t] · x[b, t + k]`.
///
/// Neither wraps in a transform of length `n ≥ L`. The filters' gradient is summed over the
/// windows in fixed groups and the groups in order, so it does not depend on the thread count.
#[cfg(any(feature = "train", test))]
pub(crate) fn correlate_backward(
    windows: &[f32],
    len: usize,
    filters: &[f32],
    taps: usize,
    grad: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    assert!(taps >= 1 && taps <= len, "{taps} taps for windows of {len}");
    assert!(windows.len().is_multiple_of(len) && filters.len().is_multiple_of(taps));
    let (batch, channels) = (windows.len() / len, filters.len() / taps);
    assert!(channels >= 1, "no filters");
    let out_len = len - taps + 1;
    assert_eq!(grad.len(), batch * channels * out_len, "gradient shape");
    let bank = Bank::cached(filters, taps, len);
    let (forward, inverse, bins) = (&bank.forward, &bank.inverse, bank.bins);
    let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());

    // One group: its windows' gradients, and its share of the filters' spectra `Σ_b X_b · conj(G_bc)`.
    let per_group = |(x, (g, dx)): (&[f32], (&[f32], &mut [f32]))| -> Vec<Complex<f32>> {
        let mut time = forward.make_input_vec();
        let mut x_spec = forward.make_output_vec();
        let mut g_spec = forward.make_output_vec();
        let mut dx_spec = forward.make_output_vec();
        let mut scratch = vec![Complex::default(); scratch_len];
        let mut dw_spec = vec![Complex::default(); channels * bins];
        let windows = x.chunks(len).zip(g.chunks(channels * out_len));
        for ((x, g), dx) in windows.zip(dx.chunks_mut(len)) {
            time[..len].copy_from_slice(x);
            time[len..].fill(0.0);
            forward
                .process_with_scratch(&mut time, &mut x_spec, &mut scratch)
                .expect("buffers sized by the plan");
            dx_spec.fill(Complex::default());
            let per_filter = g.chunks(out_len).zip(bank.spectra.chunks(bins));
            for ((g, spectrum), dw) in per_filter.zip(dw_spec.chunks_mut(bins)) {
                time[..out_len].copy_from_slice(g);
                time[out_len..].fill(0.0);
                forward
                    .process_with_scratch(&mut time, &mut g_spec, &mut scratch)
                    .expect("buffers sized by the plan");
                // `spectrum` is conj(W)/n: G · W / n, whose inverse is the convolution.
                for (((d, a), s), (w, x)) in dx_spec
                    .iter_mut()
                    .zip(&g_spec)
                    .zip(spectrum)
                    .zip(dw.iter_mut().zip(&x_spec))
                {
                    *d += a * s.conj();
                    *w += x * a.conj();
                }
            }
            dx_spec[0].im = 0.0;
            dx_spec[bins - 1].im = 0.0;
            inverse
                .process_with_scratch(&mut dx_spec, &mut time, &mut scratch)
                .expect("buffers sized by the plan");
            dx.copy_from_slice(&time[..len]);
        }
        dw_spec
    };

    let mut dx = vec![0.0; windows.len()];
    let groups = windows.chunks(len * GROUP).zip(
        grad.chunks(channels * out_len * GROUP)
            .zip(dx.chunks_mut(len * GROUP)),
    );
    #[cfg(not(target_arch = "wasm32"))]
    let partial: Vec<Vec<Complex<f32>>> = {
        use rayon::prelude::*;
        groups
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(per_group)
            .collect()
    };
    #[cfg(target_arch = "wasm32")]
    let partial: Vec<Vec<Complex<f32>>> = groups.map(per_group).collect();

    let mut dw_spec = vec![Complex::default(); channels * bins];
    for part in &partial {
        for (sum, v) in dw_spec.iter_mut().zip(part) {
            *sum += v;
        }
    }
    let n = (bins - 1) * 2;
    let mut time = inverse.make_output_vec();
    let mut scratch = vec![Complex::default(); scratch_len];
    let mut dw = vec![0.0; filters.len()];
    for (spec, dw) in dw_spec.chunks_mut(bins).zip(dw.chunks_mut(taps)) {
        spec[0].im = 0.0;
        spec[bins - 1].im = 0.0;
        inverse
            .process_with_scratch(spec, &mut time, &mut scratch)
            .expect("buffers sized by the plan");
        for (d, t) in dw.iter_mut().zip(&time) {
            *d = t / n as f32;
        }
    }
    (dx, dw)
}

/// Windows per group in [`correlate_backward`]: each group sums its filters' spectra on its own.
#[cfg(any(feature = "train", test))]
const GROUP: usize = 8;

/// A filter bank made ready for windows of one length: its spectra and the FFT plans. Found
/// again by its window length and its filters, `[C, K]`, compared bit for bit.
struct Bank {
    len: usize,
    taps: usize,
    filters: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// Bins per spectrum, `n/2 + 1` for the transform length `n`.
    bins: usize,
    /// `conj(W_c) / n`: the correlation's filter spectra, the inverse's scaling folded in.
    /// `[C, n/2 + 1]`.
    spectra: Vec<Complex<f32>>,
}

/// The banks made ready last, the newest first. A model's filters are the same for every
/// batch of a song, and making them ready costs about as much as a window (one transform per
/// filter), and the plans besides: the page's CPU batches hold 8 windows.
static BANKS: Mutex<Vec<Arc<Bank>>> = Mutex::new(Vec::new());
/// Banks kept: a few models in use at once.
const BANKS_KEPT: usize = 4;

impl Bank {
    /// The bank for `filters` (`[C, K]`) and windows of `len`, made ready unless one of the
    /// last few has the same filters (compared by value, so a trained or reloaded model is
    /// never served another's spectra).
    fn cached(filters: &[f32], taps: usize, len: usize) -> Arc<Bank> {
        let mut banks = BANKS.lock().unwrap_or_else(PoisonError::into_inner);
        let same_bits = |a: &[f32]| {
            a.len() == filters.len()
                && a.iter()
                    .zip(filters)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let same = |b: &Arc<Bank>| b.len == len && b.taps == taps && same_bits(&b.filters);
        let bank = match banks.iter().position(same) {
            Some(i) => banks.remove(i),
            None => Arc::new(Bank::new(filters, taps, len)),
        };
        banks.insert(0, bank.clone());
        banks.truncate(BANKS_KEPT);
        bank
    }

    fn new(filters: &[f32], taps: usize, len: usize) -> Bank {
        // A circular correlation of length n ≥ L wraps only into outputs past L − K.
        let n = fft_len(len);
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(n);
        let inverse = planner.plan_fft_inverse(n);
        let bins = n / 2 + 1; // the last is the Nyquist bin: n is even
        let mut spectra = vec![Complex::default(); filters.len() / taps * bins];
        let mut buf = forward.make_input_vec();
        let mut scratch = forward.make_scratch_vec();
        for (w, spectrum) in filters.chunks(taps).zip(spectra.chunks_mut(bins)) {
            buf[..taps].copy_from_slice(w);
            buf[taps..].fill(0.0);
            forward
                .process_with_scratch(&mut buf, spectrum, &mut scratch)
                .expect("buffers sized by the plan");
            for v in spectrum.iter_mut() {
                *v = v.conj() / n as f32;
            }
        }
        Bank {
            len,
            taps,
            filters: filters.to_vec(),
            forward,
            inverse,
            bins,
            spectra,
        }
    }
}

/// The smallest even length ≥ `len` whose only prime factors are 2, 3 and 5, where FFTs are
/// fastest (3200 and 8000, the paper's windows at 16 kHz, are their own).
fn fft_len(len: usize) -> usize {
    let smooth = |mut m: usize| {
        for p in [2, 3, 5] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        m == 1
    };
    (len.max(2)..)
        .find(|&n| n.is_multiple_of(2) && smooth(n))
        .expect("a 5-smooth length exists above any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(windows: &[f32], len: usize, filters: &[f32], taps: usize) -> Vec<f32> {
        let out_len = len - taps + 1;
        let mut out = Vec::new();
        for x in windows.chunks(len) {
            for w in filters.chunks(taps) {
                out.extend((0..out_len).map(|t| (0..taps).map(|k| x[t + k] * w[k]).sum::<f32>()));
            }
        }
        out
    }

    /// A generator of `n` values of seeded noise in [-0.5, 0.5).
    fn noise_source(mut state: u32) -> impl FnMut(usize) -> Vec<f32> {
        move |n| {
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 8) as f32 / (1 << 24) as f32 - 0.5
                })
                .collect()
        }
    }

    fn worst_error(got: &[f32], want: &[f32]) -> f32 {
        got.iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    /// Against the direct sum, for lengths that are and are not 5-smooth, odd and even taps,
    /// and a filter as long as the window.
    #[test]
    fn equals_the_direct_correlation() {
        let mut noise = noise_source(7);
        for (len, taps, channels, batch) in [(320, 25, 3, 2), (211, 8, 2, 3), (40, 40, 2, 1)] {
            let x = noise(batch * len);
            let w = noise(channels * taps);
            let got = correlate(&x, len, &w, taps);
            let want = direct(&x, len, &w, taps);
            assert_eq!(got.len(), batch * channels * (len - taps + 1));
            let worst = worst_error(&got, &want);
            assert!(worst < 1e-5, "{len}/{taps}: {worst}");
        }
    }

    /// Equal filters give the same output, and changed filters never get an earlier bank's
    /// spectra.
    #[test]
    fn changed_filters_are_never_served_cached_spectra() {
        let x: Vec<f32> = (0..2 * 64).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        let w: Vec<f32> = (0..3 * 9).map(|i| ((i * 13) % 7) as f32 - 3.0).collect();
        let first = correlate(&x, 64, &w, 9);
        assert_eq!(
            correlate(&x, 64, &w, 9),
            first,
            "the same filters, the same output"
        );
        let mut changed = w.clone();
        changed[4] += 0.5;
        let got = correlate(&x, 64, &changed, 9);
        let want = direct(&x, 64, &changed, 9);
        let worst = worst_error(&got, &want);
        assert!(worst < 1e-4, "{worst}");
        assert_eq!(correlate(&x, 64, &w, 9), first, "the first bank again");
    }

    /// The gradients against the direct sums of their definitions, with a window count that
    /// is not a multiple of the group.
    #[test]
    fn backward_equals_the_direct_gradients() {
        let mut noise = noise_source(11);
        for (len, taps, channels, batch) in [(320, 25, 3, 11), (211, 8, 2, 3), (40, 40, 2, 1)] {
            let out_len = len - taps + 1;
            let x = noise(batch * len);
            let w = noise(channels * taps);
            let g = noise(batch * channels * out_len);
            let (dx, dw) = correlate_backward(&x, len, &w, taps, &g);
            let mut want_dx = vec![0.0f32; batch * len];
            let mut want_dw = vec![0.0f32; channels * taps];
            for b in 0..batch {
                for c in 0..channels {
                    for t in 0..out_len {
                        let gv = g[(b * channels + c) * out_len + t];
                        for k in 0..taps {
                            want_dx[b * len + t + k] += gv * w[c * taps + k];
                            want_dw[c * taps + k] += gv * x[b * len + t + k];
                        }
                    }
                }
            }
            let (ex, ew) = (worst_error(&dx, &want_dx), worst_error(&dw, &want_dw));
            assert!(ex < 1e-4 && ew < 1e-3, "{len}/{taps}: {ex} {ew}");
        }
    }

    #[test]
    fn fft_lengths_are_even_and_5_smooth() {
        assert_eq!(fft_len(3200), 3200);
        assert_eq!(fft_len(8000), 8000);
        assert_eq!(fft_len(211), 216);
        assert_eq!(fft_len(1), 2);
        assert_eq!(fft_len(7), 8);
    }
}
