//! Frames and spectra as Essentia's music extractor makes them: frames of 2048 samples every
//! 1024, the first centred on sample 0 (half zeros), the last the first whose centre reaches
//! the end; a Blackman-Harris (62 dB) window scaled to sum 2; the linear magnitude spectrum
//! (1025 bins at 44.1 kHz).

use realfft::RealFftPlanner;

use crate::dsp::{FRAME, HOP, SILENT_POWER};

/// The frames of `x` that are not silent, unwindowed, in order.
///
/// Essentia's streaming frame cutter does not advance past a dropped frame's hop, so the
/// position after a dropped frame (other than the first) is skipped: reproduced here.
pub fn frames(x: &[f32]) -> Vec<Vec<f32>> {
    let n = x.len() as i64;
    let mut out = Vec::new();
    let mut start = -(HOP as i64);
    loop {
        let f: Vec<f32> = (start..start + FRAME as i64)
            .map(|i| {
                if (0..n).contains(&i) {
                    x[i as usize]
                } else {
                    0.0
                }
            })
            .collect();
        let power = f.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / FRAME as f64;
        let silent = power < SILENT_POWER;
        if !silent {
            out.push(f);
        }
        // The last frame is the first whose centre reaches the end.
        if start + (FRAME / 2) as i64 >= n {
            break;
        }
        start += if silent && start >= 0 { 2 * HOP } else { HOP } as i64;
    }
    out
}

/// Blackman-Harris 62 dB, symmetric, scaled so its values sum to 2.
pub fn window() -> Vec<f32> {
    let m = (FRAME - 1) as f64;
    let w: Vec<f64> = (0..FRAME)
        .map(|i| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / m;
            0.44959 - 0.49364 * t.cos() + 0.05677 * (2.0 * t).cos()
        })
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter().map(|v| (v * 2.0 / sum) as f32).collect()
}

/// Magnitude spectra of frames with one window and FFT plan.
pub struct Spectrum {
    window: Vec<f32>,
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
}

impl Default for Spectrum {
    fn default() -> Self {
        Spectrum {
            window: window(),
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(FRAME),
        }
    }
}

impl Spectrum {
    /// `|FFT(w · f)|`, 1025 bins.
    pub fn magnitude(&self, frame: &[f32]) -> Vec<f32> {
        let mut input: Vec<f32> = frame.iter().zip(&self.window).map(|(a, b)| a * b).collect();
        let mut output = self.fft.make_output_vec();
        self.fft
            .process(&mut input, &mut output)
            .expect("buffers sized by the plan");
        output.iter().map(|c| c.norm()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::BINS;

    #[test]
    fn frames_cover_the_signal_like_essentia() {
        let x = vec![0.5f32; 10 * HOP];
        let f = frames(&x);
        // Centres 0, 1024, …, 10240: ceil(N / hop) + 1 frames.
        assert_eq!(f.len(), 11);
        assert!(
            f[0][..HOP].iter().all(|&v| v == 0.0),
            "first frame is half zeros"
        );
        assert!(f[1].iter().all(|&v| v == 0.5));
    }

    #[test]
    fn silent_frames_are_dropped_and_the_next_position_skipped() {
        let mut x = vec![0.5f32; 12 * HOP];
        x[4 * HOP..8 * HOP].fill(0.0);
        // Frames start at 1024·k − 1024; those lying wholly in the gap are silent.
        // Starts −1024 … 3072 kept; 4096 silent, so 5120 is skipped; 6144 silent, so 7168
        // is skipped; 8192 … 11264 kept: 9 frames (10 without the skip, 13 without the gap).
        let f = frames(&x);
        assert_eq!(frames(&vec![0.5f32; 12 * HOP]).len(), 13);
        assert_eq!(f.len(), 9);
        assert!(f.iter().all(|fr| fr.iter().any(|&v| v != 0.0)));
    }

    #[test]
    fn a_full_scale_sine_peaks_near_one() {
        let bin = 100.0;
        let x: Vec<f32> = (0..FRAME)
            .map(|i| (2.0 * std::f32::consts::PI * bin * i as f32 / FRAME as f32).sin())
            .collect();
        let m = Spectrum::default().magnitude(&x);
        assert_eq!(m.len(), BINS);
        let (k, peak) = m
            .iter()
            .enumerate()
            .fold((0, 0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
        assert_eq!(k, 100);
        assert!((peak - 1.0).abs() < 0.01, "{peak}");
        let w = window();
        assert!((w.iter().sum::<f32>() - 2.0).abs() < 1e-4);
    }
}
