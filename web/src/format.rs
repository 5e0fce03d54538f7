//! Text and positions the views show (the circumplex's are in [`crate::geometry`]), kept free
//! of the DOM so native tests cover them.

/// `1234.5` ms → `"1.23 s"`, `87.2` → `"87 ms"`.
pub fn duration_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// `0.4567` → `"45.7 %"`.
pub fn percent(p: f32) -> String {
    format!("{:.1} %", p * 100.0)
}

/// `95.0` s → `"1:35"`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Probabilities as the page's `data-probabilities` attribute: full precision, comma-separated.
pub fn probabilities_attr(p: &[f32; 4]) -> String {
    p.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Peak envelope of `x` in `columns` columns: `(min, max)` per column.
pub fn envelope(x: &[f32], columns: usize) -> Vec<(f32, f32)> {
    if x.is_empty() || columns == 0 {
        return Vec::new();
    }
    (0..columns)
        .map(|c| {
            let a = c * x.len() / columns;
            let b = ((c + 1) * x.len() / columns).max(a + 1).min(x.len());
            x[a..b]
                .iter()
                .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)))
        })
        .collect()
}

/// Position of `hz` on a mel-scaled axis from 0 to `nyquist`, in [0, 1].
pub fn mel_position(hz: f32, nyquist: f32) -> f32 {
    let mel = |f: f32| model_format::dsp::hz_to_mel(f as f64);
    ((mel(hz.clamp(0.0, nyquist)) / mel(nyquist)) as f32).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_ms(87.2), "87 ms");
        assert_eq!(duration_ms(1234.5), "1.23 s");
        assert_eq!(clock(95.0), "1:35");
        assert_eq!(clock(-3.0), "0:00");
        assert_eq!(percent(0.4567), "45.7 %");
    }

    #[test]
    fn probabilities_survive_the_attribute() {
        let p = [0.1f32, 0.2, 0.300_000_1, 0.399_999_9];
        let back: Vec<f32> = probabilities_attr(&p)
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(back, p);
    }

    #[test]
    fn envelope_keeps_the_peaks() {
        let x: Vec<f32> = (0..1000)
            .map(|i| if i == 123 { -0.9 } else { 0.1 })
            .collect();
        let e = envelope(&x, 10);
        assert_eq!(e.len(), 10);
        assert_eq!(e[1], (-0.9, 0.1));
        assert_eq!(e[0], (0.0, 0.1));
        // More columns than samples still covers every sample once.
        assert_eq!(envelope(&[0.5, -0.5], 4).len(), 4);
        assert!(envelope(&[], 4).is_empty());
    }

    #[test]
    fn mel_axis_is_monotonic_and_bounded() {
        assert_eq!(mel_position(0.0, 8000.0), 0.0);
        assert_eq!(mel_position(8000.0, 8000.0), 1.0);
        assert!(
            mel_position(1000.0, 8000.0) > 0.35,
            "low frequencies get room"
        );
        let mut last = -1.0;
        for hz in (0..8000).step_by(250) {
            let p = mel_position(hz as f32, 8000.0);
            assert!(p > last);
            last = p;
        }
    }
}
