//! Down-mixing and band-limited sample-rate conversion.

use super::FrontEndError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// Input frames per FFT block at 44.1 kHz (10 × 441): long enough for a steep anti-aliasing
/// filter, short enough to keep the FFTs cheap.
const BLOCK_FRAMES: usize = 4410;

/// Averages interleaved channels into one.
pub fn to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// Resamples mono audio from `from` Hz to `to` Hz with rubato's FFT resampler (a
/// Blackman-Harris windowed band-limiting filter), delay trimmed.
///
/// The output holds `ceil(len · to / from)` samples. Equal rates return a copy.
pub fn resample(mono: &[f32], from: u32, to: u32) -> Result<Vec<f32>, FrontEndError> {
    if from == 0 {
        return Err(FrontEndError::SampleRate(from));
    }
    if to == 0 {
        return Err(FrontEndError::SampleRate(to));
    }
    if mono.is_empty() {
        return Err(FrontEndError::Empty);
    }
    if from == to {
        return Ok(mono.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| FrontEndError::Resample(e.to_string());
    let mut resampler = Fft::<f32>::new_custom(
        from as usize,
        to as usize,
        BLOCK_FRAMES,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| err(&e))?;
    let out = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| err(&e))?;
    Ok(out.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn tone(freq: f64, rate: u32, seconds: f64, amp: f64) -> Vec<f32> {
        let n = (rate as f64 * seconds) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / rate as f64).sin()) as f32)
            .collect()
    }

    /// Amplitude of the sinusoid at `freq` in `x`, by least-squares fit of sin and cos.
    fn amplitude_at(x: &[f32], freq: f64, rate: u32) -> f64 {
        let (mut s, mut c) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let ph = 2.0 * PI * freq * i as f64 / rate as f64;
            s += v as f64 * ph.sin();
            c += v as f64 * ph.cos();
        }
        2.0 * (s * s + c * c).sqrt() / x.len() as f64
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// The middle of a signal, away from the resampler's edge effects.
    fn middle(x: &[f32]) -> &[f32] {
        &x[x.len() / 8..x.len() * 7 / 8]
    }

    #[test]
    fn sine_keeps_frequency_and_amplitude() {
        let input = tone(1000.0, 44_100, 3.0, 0.5);
        let out = resample(&input, 44_100, 16_000).unwrap();
        assert_eq!(
            out.len(),
            (input.len() as f64 * 16_000.0 / 44_100.0).ceil() as usize
        );
        let mid = middle(&out);
        // Amplitude at 1 kHz within 0.05 dB of the input's.
        let amp = amplitude_at(mid, 1000.0, 16_000);
        let gain_db = 20.0 * (amp / 0.5).log10();
        eprintln!("1 kHz at 44.1 → 16 kHz: gain {gain_db:+.4} dB");
        assert!(gain_db.abs() < 0.05, "1 kHz gain {gain_db:.4} dB");
        // The tone is pure: what is left after removing the 1 kHz fit is tiny.
        let sine_rms = 0.5 / 2f64.sqrt();
        assert!((rms(mid) - sine_rms).abs() / sine_rms < 1e-3);
        // Its frequency is 1 kHz: nearby frequencies fit far worse.
        for off in [-20.0, 20.0] {
            assert!(amplitude_at(mid, 1000.0 + off, 16_000) < amp * 0.05);
        }
    }

    #[test]
    fn tone_above_new_nyquist_is_removed() {
        let input = tone(12_000.0, 44_100, 3.0, 0.9);
        let out = resample(&input, 44_100, 16_000).unwrap();
        let attenuation_db = 20.0 * (rms(middle(&out)) / rms(&input)).log10();
        eprintln!("12 kHz at 44.1 → 16 kHz: {attenuation_db:.1} dB");
        assert!(
            attenuation_db < -60.0,
            "12 kHz attenuated only {attenuation_db:.1} dB"
        );
    }

    #[test]
    fn common_rates_give_expected_lengths() {
        for rate in [8_000, 11_025, 22_050, 32_000, 44_100, 48_000, 96_000] {
            let input = tone(440.0, rate, 1.5, 0.3);
            let out = resample(&input, rate, 16_000).unwrap();
            let want = (input.len() as f64 * 16_000.0 / rate as f64).ceil() as usize;
            assert_eq!(out.len(), want, "from {rate} Hz");
            let amp = amplitude_at(middle(&out), 440.0, 16_000);
            assert!((amp - 0.3).abs() < 0.003, "from {rate} Hz: amplitude {amp}");
        }
    }

    #[test]
    fn stereo_is_averaged() {
        let stereo = [1.0, 0.0, 0.5, 0.5, -1.0, 1.0];
        assert_eq!(to_mono(&stereo, 2), vec![0.5, 0.5, 0.0]);
        let six = [0.6f32; 12];
        assert!(to_mono(&six, 6).iter().all(|&v| (v - 0.6).abs() < 1e-6));
    }

    #[test]
    fn bad_rates_and_empty_input_are_errors() {
        assert_eq!(
            resample(&[0.1], 0, 16_000),
            Err(FrontEndError::SampleRate(0))
        );
        assert_eq!(resample(&[], 44_100, 16_000), Err(FrontEndError::Empty));
    }
}
