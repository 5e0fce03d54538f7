//! Constants and formulas the front-end, the sinc layer, the handcrafted features and the page
//! share: the mel scale, and the rate and frames of the Essentia-style features.

/// Rate of the Essentia-style features, Hz (the music extractor's).
pub const ESSENTIA_RATE: f64 = 44_100.0;
/// Samples per Essentia-style frame.
pub const FRAME: usize = 2048;
/// Samples between Essentia-style frames.
pub const HOP: usize = 1024;
/// Bins of a frame's magnitude spectrum.
pub const BINS: usize = FRAME / 2 + 1;
/// Hz between spectrum bins at [`ESSENTIA_RATE`].
pub const BIN_HZ: f64 = ESSENTIA_RATE / FRAME as f64;
/// A frame is silent, and dropped, below this mean square (−100 dB).
pub const SILENT_POWER: f64 = 1e-10;

/// HTK mel of `hz`: `2595 · log10(1 + hz / 700)`. The filter banks built on it space their
/// bands linearly in mel, which no scale factor changes, so HTK's `1127 · ln(…)` form gives
/// the same banks.
pub fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Hz of HTK `mel`; the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_round_trips_and_matches_htk_at_1000_hz() {
        for hz in [0.0, 30.0, 700.0, 8000.0, 22_050.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * hz.max(1.0));
        }
        assert!((hz_to_mel(1000.0) - 1000.0).abs() < 0.1);
        // The natural-log form differs by a constant factor only.
        let ln_form = |f: f64| 1127.0 * (1.0 + f / 700.0).ln();
        let ratio = hz_to_mel(5000.0) / ln_form(5000.0);
        assert!((hz_to_mel(300.0) / ln_form(300.0) - ratio).abs() < 1e-12);
    }
}
