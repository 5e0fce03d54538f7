//! The sinc layer's convolution on burn's flex CPU backend, through real FFTs.
//!
//! A sinc filter bank is wide (80 filters of 251 taps in the paper), so the direct
//! convolution costs `C · K` multiply-adds per output sample: about 59 M per 200 ms window,
//! most of SincNet's inference. Through the FFT it is one forward transform per window and one
//! inverse transform per window and filter, about 14 times less work; the filters' spectra are
//! computed once per model and window length, and kept. Only for inference on the CPU: training
//! needs the gradient, which burn's `conv1d` provides, and on a GPU the convolution stays on
//! the device.

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
        let mut state = 7u32;
        let mut noise = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 8) as f32 / (1 << 24) as f32 - 0.5
                })
                .collect()
        };
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

    #[test]
    fn fft_lengths_are_even_and_5_smooth() {
        assert_eq!(fft_len(3200), 3200);
        assert_eq!(fft_len(8000), 8000);
        assert_eq!(fft_len(211), 216);
        assert_eq!(fft_len(1), 2);
        assert_eq!(fft_len(7), 8);
    }
}
