//! Loudness as Essentia's music extractor measures it (`docs/features-essentia.md` §2.3,
//! §2.6, §3.19–3.21): the ReplayGain equal-loudness filter and gain, EBU R128 loudness
//! (K-weighting, gating, loudness range), the average loudness and the dynamic complexity.
//! Filters and sums run in f32 in Essentia's order.

use crate::dsp::ESSENTIA_RATE as RATE;

/// The equal-loudness filter: a 10th-order Yule-Walk IIR, then a 2nd-order Butterworth
/// high-pass at about 150 Hz (44.1 kHz coefficients, `a0 = 1`).
const YULE_B: [f64; 11] = [
    0.05418656406430,
    -0.02911007808948,
    -0.00848709379851,
    -0.00851165645469,
    -0.00834990904936,
    0.02245293253339,
    -0.02596338512915,
    0.01624864962975,
    -0.00240879051584,
    0.00674613682247,
    -0.00187763777362,
];
const YULE_A: [f64; 11] = [
    1.0,
    -3.47845948550071,
    6.36317777566148,
    -8.54751527471874,
    9.47693607801280,
    -8.81498681370155,
    6.85401540936998,
    -4.39470996079559,
    2.19611684890774,
    -0.75104302451432,
    0.13149317958808,
];
const BUTTER_B: [f64; 3] = [0.98500175787242, -1.97000351574484, 0.98500175787242];
const BUTTER_A: [f64; 3] = [1.0, -1.96977855582618, 0.97022847566350];

/// Direct-form-II-transposed IIR filter (`a0 = 1`) from a zero state, in f32 with subnormal
/// states flushed to zero, as Essentia runs it.
/// The order is a constant, so the state stays in registers.
fn iir<const N: usize>(b: &[f32; N], a: &[f32; N], x: &[f32]) -> Vec<f32> {
    let mut filter = Iir::new(b, a);
    x.iter().map(|&v| filter.step(v)).collect()
}

/// One IIR filter's coefficients and state.
struct Iir<'a, const N: usize> {
    b: &'a [f32; N],
    a: &'a [f32; N],
    z: [f32; N],
}

impl<'a, const N: usize> Iir<'a, N> {
    fn new(b: &'a [f32; N], a: &'a [f32; N]) -> Self {
        Iir { b, a, z: [0.0; N] }
    }

    /// The output for the next input sample.
    #[inline(always)]
    fn step(&mut self, v: f32) -> f32 {
        let (b, a, z) = (self.b, self.a, &mut self.z);
        let y = b[0] * v + z[0];
        for k in 1..N {
            let s = b[k] * v - a[k] * y + z[k];
            z[k - 1] = if s.is_subnormal() { 0.0 } else { s };
        }
        y
    }
}

fn to_f32<const N: usize>(c: [f64; N]) -> [f32; N] {
    c.map(|v| v as f32)
}

/// The ReplayGain equal-loudness curve applied to `x`.
/// Both filters run in one pass: each sample's recursion is a chain of dependent operations,
/// and two chains side by side take the time of one.
pub fn equal_loudness(x: &[f32]) -> Vec<f32> {
    let (yule_b, yule_a) = (to_f32(YULE_B), to_f32(YULE_A));
    let (butter_b, butter_a) = (to_f32(BUTTER_B), to_f32(BUTTER_A));
    let mut yule = Iir::new(&yule_b, &yule_a);
    let mut butter = Iir::new(&butter_b, &butter_a);
    x.iter().map(|&v| butter.step(yule.step(v))).collect()
}

/// The extractor's analysis signal: mono audio at 44.1 kHz scaled by its ReplayGain plus a
/// 6 dB pre-amplification, then clipped to ±1. `None` for audio too quiet to have a gain (the
/// extractor rejects it as silent).
pub fn analysis_signal(mono: &[f32]) -> Option<Vec<f32>> {
    let g = 10f32.powf((replay_gain(mono)? + 6.0) / 20.0);
    Some(mono.iter().map(|&v| (v * g).clamp(-1.0, 1.0)).collect())
}

/// ReplayGain in dB: the 95th percentile of the mean square of 50 ms blocks of the
/// equal-loudness-filtered signal, against the reference level. `None` above 40 dB.
pub fn replay_gain(mono: &[f32]) -> Option<f32> {
    let y = equal_loudness(mono);
    let block = (0.05 * RATE) as usize;
    let mut powers: Vec<f32> = y
        .chunks(block)
        .map(|c| c.iter().map(|v| v * v).sum::<f32>() / block as f32)
        .collect();
    if powers.is_empty() {
        return None;
    }
    powers.sort_by(f32::total_cmp);
    let p = powers[(0.95 * powers.len() as f64) as usize];
    let gain = -31.462_667_f32 - pow_db(p);
    (gain <= 40.0).then_some(gain)
}

/// `10·log10(p)`, or −100 below 1e-10 (Essentia's `pow2db`).
fn pow_db(p: f32) -> f32 {
    if (p as f64) < 1e-10 {
        -100.0
    } else {
        10.0 * p.log10()
    }
}

/// Frames of `size` samples every `hop` from sample 0, the last being the first to reach the
/// end: the parts of `x` they cover (zero padding left out).
fn frames_from_zero(x: &[f32], size: usize, hop: usize) -> impl Iterator<Item = &[f32]> {
    let count = x.len().saturating_sub(size).div_ceil(hop) + 1;
    (0..count).map(move |k| &x[(k * hop).min(x.len())..(k * hop + size).min(x.len())])
}

/// The f32 sum of each slice, each added up in its own order as `iter().sum()` does, but
/// eight slices at a time: the overlapping windows of EBU R128 (a 3 s window every 100 ms
/// reads every sample 30 times) run eight add chains side by side instead of one.
fn sums_in_order(slices: &[&[f32]]) -> Vec<f32> {
    const LANES: usize = 8;
    let mut out = Vec::with_capacity(slices.len());
    for group in slices.chunks(LANES) {
        if group.len() < LANES {
            out.extend(group.iter().map(|s| s.iter().sum::<f32>()));
            continue;
        }
        // Cut to one length, so the loop below needs no bounds checks.
        let common = group.iter().map(|s| s.len()).min().unwrap_or(0);
        let lanes: [&[f32]; LANES] = std::array::from_fn(|j| &group[j][..common]);
        let mut acc = [-0.0f32; LANES];
        // Sample by sample across the lanes: an index reads all eight slices.
        #[allow(clippy::needless_range_loop)]
        for i in 0..common {
            for j in 0..LANES {
                acc[j] += lanes[j][i];
            }
        }
        for (a, s) in acc.iter_mut().zip(group) {
            *a = s[common..].iter().fold(*a, |t, &v| t + v);
        }
        out.extend(acc);
    }
    out
}

/// EBU R128 loudness (LUFS; the range in LU).
pub struct EbuR128 {
    /// Gated loudness of the whole programme.
    pub integrated: f32,
    /// Spread of the gated short-term loudness, 10th to 95th percentile.
    pub range: f32,
    /// Ungated loudness of 400 ms windows every 100 ms.
    pub momentary: Vec<f32>,
    /// Ungated loudness of 3 s windows every 100 ms.
    pub short_term: Vec<f32>,
}

/// The K-weighting of ITU-R BS.1770 at 44.1 kHz (libebur128's high shelf then high-pass),
/// combined into one 4th-order filter with f32 coefficients: `(b, a)`.
fn k_weighting() -> ([f32; 5], [f32; 5]) {
    let k = |f0: f64| (std::f64::consts::PI * f0 / RATE).tan();
    let (kk, q) = (k(1_681.974_450_955_533), 0.707_175_236_955_419_6);
    let vh = 10f64.powf(3.999_843_853_973_347 / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + kk / q + kk * kk;
    let shelf_b = to_f32([
        (vh + vb * kk / q + kk * kk) / a0,
        2.0 * (kk * kk - vh) / a0,
        (vh - vb * kk / q + kk * kk) / a0,
    ]);
    let shelf_a = to_f32([
        1.0,
        2.0 * (kk * kk - 1.0) / a0,
        (1.0 - kk / q + kk * kk) / a0,
    ]);
    let (kk, q) = (k(38.135_470_876_024_44), 0.500_327_037_323_877_3);
    let d = 1.0 + kk / q + kk * kk;
    let high_b = [1.0, -2.0, 1.0];
    let high_a = to_f32([1.0, 2.0 * (kk * kk - 1.0) / d, (1.0 - kk / q + kk * kk) / d]);
    let product = |p: [f32; 3], q: [f32; 3]| {
        let mut c = [0f32; 5];
        for (i, pi) in p.iter().enumerate() {
            for (j, qj) in q.iter().enumerate() {
                c[i + j] += pi * qj;
            }
        }
        c
    };
    (product(shelf_b, high_b), product(shelf_a, high_a))
}

/// EBU R128 loudness of `mono` (44.1 kHz, at its own level), as Essentia's
/// `LoudnessEBUR128` measures a stereo signal with `mono` in both channels.
pub fn ebu_r128(mono: &[f32]) -> EbuR128 {
    let (b, a) = k_weighting();
    let z: Vec<f32> = iir(&b, &a, mono).iter().map(|&y| y * y + y * y).collect();
    let powers = |seconds: f64| -> Vec<f32> {
        let size = (seconds * RATE).round() as usize;
        let frames: Vec<&[f32]> =
            frames_from_zero(&z, size, (0.1 * RATE).round() as usize).collect();
        sums_in_order(&frames)
            .into_iter()
            .map(|sum| sum / size as f32)
            .collect()
    };
    let lufs = |p: f32| 10.0 * p.log10() - 0.691;
    let series = |p: &[f32]| p.iter().map(|&p| lufs(p.max(1e-30))).collect();
    let absolute = 10f64.powf((-70.0 + 0.691) / 10.0) as f32;
    // Powers at or above `gate`, and their mean.
    let gated = |p: &[f32], gate: f32| -> (Vec<f32>, Option<f32>) {
        let kept: Vec<f32> = p.iter().copied().filter(|&v| v >= gate).collect();
        let mean = (!kept.is_empty()).then(|| kept.iter().sum::<f32>() / kept.len() as f32);
        (kept, mean)
    };
    let relative = |p: &[f32], drop: f32| {
        gated(p, absolute)
            .1
            .map_or(absolute, |m| (m / drop).max(absolute))
    };

    let blocks = powers(0.4);
    let (_, mean) = gated(&blocks, relative(&blocks, 10.0));
    let integrated = lufs(mean.unwrap_or(absolute));

    let short = powers(3.0);
    let (mut kept, _) = gated(&short, relative(&short, 100.0));
    kept.sort_by(f32::total_cmp);
    let range = match kept.len() {
        0 => 0.0,
        n => {
            let at = |q: f64| kept[(q * (n - 1) as f64).round() as usize];
            lufs(at(0.95)) - lufs(at(0.1))
        }
    };
    EbuR128 {
        integrated,
        range,
        momentary: series(&blocks),
        short_term: series(&short),
    }
}

/// Essentia's `average_loudness` of `x`: the mean of Stevens' loudness (energy^0.67) of 2 s
/// frames every second, relative to the loudest, in dB, squeezed into (0, 1).
pub fn average_loudness(x: &[f32]) -> f32 {
    let size = (2.0 * RATE) as usize;
    let levels: Vec<f32> = frames_from_zero(x, size, size / 2)
        .map(|f| f.iter().map(|v| v * v).sum::<f32>().powf(0.67))
        .collect();
    let max = levels.iter().fold(1e-4f32, |m, &v| m.max(v));
    let mean = levels.iter().map(|v| (v / max).max(1e-4)).sum::<f32>() / levels.len() as f32;
    let db = (pow_db(mean) + 5.0) as f64;
    (0.5 + 0.5 * (-1.0 + 2.0 * db / 3.0).tanh()) as f32
}

/// Essentia's `dynamic_complexity` of `x`: the mean absolute deviation, in dB, of a smoothed
/// power envelope (200 ms frames) from its loudness-weighted mean, leading and trailing
/// silence left out.
pub fn dynamic_complexity(x: &[f32]) -> f32 {
    let size = (0.2 * RATE) as usize;
    let c = (-1.0 / (0.035 * RATE)).exp() as f32;
    // A cheap B-curve: a DC blocker.
    let (b0, b1, a1) = (0.98595f32, -0.98595f32, -0.9719f32);
    let mut prev = (0f32, 0f32);
    let power: Vec<f32> = x
        .iter()
        .map(|&v| {
            let s = b0 * v + b1 * prev.0 - a1 * prev.1;
            prev = (v, s);
            s * s
        })
        .collect();
    // Exponential smoothing, frame by frame: weight c^(size − 1 − i) within a frame.
    let mut weight = vec![0f32; size];
    let mut decay = 1f32;
    for w in weight.iter_mut().rev() {
        *w = decay;
        decay *= c;
    }
    let mut v = 0f32;
    let db: Vec<f32> = power
        .chunks_exact(size)
        .map(|f| {
            let inner: f64 = weight.iter().zip(f).map(|(w, p)| (w * p) as f64).sum();
            v = ((decay * v) as f64 + (1.0 - c) as f64 * inner) as f32;
            pow_db(v)
        })
        .collect();
    let first = db.iter().position(|&d| d != -100.0);
    let last = db.iter().rposition(|&d| d != -100.0);
    let (Some(first), Some(last)) = (first, last) else {
        return 0.0;
    };
    let db = &db[first..=last];
    let u: Vec<f32> = db.iter().map(|&d| 0.9f32.powf(-d)).collect();
    let total: f64 = u.iter().map(|&w| w as f64).sum();
    let loud = u
        .iter()
        .zip(db)
        .map(|(&w, &d)| ((w as f64 / total) as f32 * d) as f64)
        .sum::<f64>() as f32;
    db.iter().map(|&d| (d - loud).abs()).sum::<f32>() / db.len() as f32
}

#[cfg(test)]
mod tests {
    use super::super::test_signals::sine;
    use super::*;

    #[test]
    fn window_sums_are_the_serial_sums_bit_for_bit() {
        let x: Vec<f32> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 + 1e-7)
            .collect();
        // A group of eight, four of them cut short (one empty, one a sample), then three more.
        let slices: Vec<&[f32]> = (0..4)
            .map(|k| &x[k * 100..k * 100 + 3000])
            .chain([&x[4000..], &x[4500..], &x[..0], &x[4999..]])
            .chain([&x[100..3100], &x[4000..], &x[..0]])
            .collect();
        let want: Vec<u32> = slices
            .iter()
            .map(|s| s.iter().sum::<f32>().to_bits())
            .collect();
        let got: Vec<u32> = sums_in_order(&slices).iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn equal_loudness_matches_essentia() {
        // Settled peak of 0.5-amplitude sines through `essentia.standard.EqualLoudness()`
        // (essentia 2.1b6.dev1389): 0.023525909 at 50 Hz, 0.19215009 at 1 kHz.
        let peak = |hz: f64| {
            let y = equal_loudness(&sine(hz, 1.0, 0.5));
            y[22_050..].iter().fold(0f32, |m, v| m.max(v.abs()))
        };
        assert!((peak(50.0) - 0.023_525_909).abs() < 1e-6, "{}", peak(50.0));
        assert!(
            (peak(1000.0) - 0.192_150_09).abs() < 1e-5,
            "{}",
            peak(1000.0)
        );
    }

    #[test]
    fn replay_gain_matches_essentia() {
        // `ReplayGain(applyEqloud=False)` after `EqualLoudness()`, as the extractor chains
        // them (essentia 2.1b6.dev1389), within 2 ulps. Dissonance shows a gain off by 1e-6
        // dB, so this is computed in f32 as Essentia does.
        let close = |x: &[f32], expected: f32| {
            let g = replay_gain(x).unwrap();
            assert!((g - expected).abs() <= 2e-6, "{g} vs {expected}");
        };
        close(&sine(1000.0, 1.0, 0.5), -14.124_968);
        let mut x = sine(300.0, 0.7, 0.3);
        x.extend(sine(2500.0, 0.6, 0.05));
        x.extend(sine(80.0, 0.9, 0.6));
        close(&x, -10.231_966);
    }

    #[test]
    fn replay_gain_levels_loud_and_quiet_alike() {
        let loud = analysis_signal(&sine(1000.0, 1.0, 0.5)).unwrap();
        let quiet = analysis_signal(&sine(1000.0, 1.0, 0.05)).unwrap();
        let peak = |x: &[f32]| x.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak(&loud) - peak(&quiet)).abs() < 1e-3 * peak(&loud));
        assert!(
            analysis_signal(&vec![0.0; 44_100]).is_none(),
            "silence has no gain"
        );
    }

    #[test]
    fn frames_from_zero_end_at_the_first_to_reach_the_end() {
        let x = [0f32; 10];
        let lens = |size, hop| -> Vec<usize> {
            frames_from_zero(&x, size, hop).map(<[f32]>::len).collect()
        };
        assert_eq!(lens(4, 2), [4, 4, 4, 4]);
        assert_eq!(lens(4, 3), [4, 4, 4]);
        assert_eq!(lens(4, 4), [4, 4, 2]);
        assert_eq!(lens(20, 5), [10]);
    }

    #[test]
    fn a_minus_20_dbfs_sine_is_minus_20_lufs() {
        // EBU Tech 3341: a 1 kHz sine at −20 dBFS in both channels reads −20 LUFS.
        let e = ebu_r128(&sine(1000.0, 20.0, 0.1));
        assert!((e.integrated + 20.0).abs() < 0.1, "{}", e.integrated);
        assert!(e.range.abs() < 0.1, "{}", e.range);
        // Every full window reads the same; the last, zero-padded ones read less.
        assert!((e.momentary[10] + 20.0).abs() < 0.1 && (e.short_term[10] + 20.0).abs() < 0.1);
        assert_eq!(
            e.momentary.len(),
            197,
            "starts 0, 4410, … up to the first reaching the end"
        );
        assert_eq!(e.short_term.len(), 171);
    }

    #[test]
    fn ebu_matches_essentia() {
        // `LoudnessEBUR128()` of the signal in both channels, essentia 2.1b6.dev1389.
        // 10 s at −20 dBFS, then 10 s at −30 dBFS: both above the relative gate.
        let mut x = sine(1000.0, 10.0, 0.1);
        x.extend(sine(1000.0, 10.0, 0.1f32 / 10f32.sqrt()));
        let e = ebu_r128(&x);
        let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!((e.integrated + 22.587_44).abs() < 1e-4, "{}", e.integrated);
        assert!((e.range - 9.999_966).abs() < 1e-4, "{}", e.range);
        assert!((mean(&e.momentary) + 24.958_45).abs() < 1e-4);
        assert!((mean(&e.short_term) + 24.681_46).abs() < 1e-4);
        // 10 s of silence first: below the absolute gate, it counts for nothing but the
        // windows that reach into it; silent windows floor at 10·log10(1e-30) − 0.691.
        let mut x = vec![0.0; 441_000];
        x.extend(sine(1000.0, 10.0, 0.1));
        let e = ebu_r128(&x);
        assert!((e.integrated + 20.056_74).abs() < 1e-4, "{}", e.integrated);
        assert!((e.range - 4.357_435).abs() < 1e-4, "{}", e.range);
        assert_eq!(e.momentary[0], -300.691);
        // Nothing above the gate at all.
        let e = ebu_r128(&vec![0.0; 44_100]);
        assert!((e.integrated + 70.0).abs() < 1e-4 && e.range == 0.0);
    }

    #[test]
    fn average_loudness_rewards_a_steady_level() {
        // Equal frames: 0 dB below the loudest, squeezed to 0.5 + 0.5·tanh(7/3).
        let steady = average_loudness(&sine(440.0, 10.0, 0.5));
        assert!((steady - 0.990_64).abs() < 1e-4, "{steady}");
        let mut varying = sine(440.0, 5.0, 0.5);
        varying.extend(sine(440.0, 5.0, 0.005));
        let varying = average_loudness(&varying);
        assert!(varying < 0.8, "{varying}");
    }

    #[test]
    fn dynamic_complexity_matches_essentia() {
        // `DynamicComplexity()`, essentia 2.1b6.dev1389.
        let steady = dynamic_complexity(&sine(440.0, 5.0, 0.5));
        assert!((steady - 0.001_114_082).abs() < 1e-6, "{steady}");
        let mut contrast = Vec::new();
        for k in 0..10 {
            contrast.extend(sine(440.0, 1.0, if k % 2 == 0 { 0.5 } else { 0.005 }));
        }
        let contrast = dynamic_complexity(&contrast);
        assert!((contrast - 18.420_35).abs() < 1e-4, "{contrast}");
        assert_eq!(dynamic_complexity(&vec![0.0; 44_100]), 0.0, "all silent");
    }
}
