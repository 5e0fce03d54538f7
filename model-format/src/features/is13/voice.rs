//! Jitter, shimmer and harmonics-to-noise ratio (`cPitchJitter`, spec §6.5): periods found by
//! waveform cross-correlation in the raw samples, guided by each 10 ms frame's F0, with the
//! component's state across frames and its `IS13` acceptance threshold.

/// logHNR of unvoiced frames and its floor, dB.
const HNR_FLOOR: f64 = -100.0;

/// The four voice-quality contours, one value per frame.
pub struct VoiceQuality {
    /// Local jitter: mean period-to-period difference over the mean period (0 when unvoiced).
    pub jitter_local: Vec<f32>,
    /// Jitter DDP: mean difference of successive period differences over the mean period.
    pub jitter_ddp: Vec<f32>,
    /// Local shimmer: mean peak-to-peak amplitude difference over the mean amplitude.
    pub shimmer: Vec<f32>,
    /// dB; −100 in unvoiced frames.
    pub log_hnr: Vec<f32>,
}

/// Pearson correlation of two equal-length runs (NaN when either is flat, which then never
/// makes a peak, as in openSMILE).
fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let (mut sa, mut sb, mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        sa += x;
        sb += y;
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    let cov = ab - sa * sb / n;
    let (va, vb) = (aa - sa * sa / n, bb - sb * sb / n);
    // Flat up to rounding (the one-pass sums leave ~1e-16 of a constant's energy).
    if va <= 1e-12 * aa || vb <= 1e-12 * bb {
        return f64::NAN;
    }
    cov / (va.sqrt() * vb.sqrt())
}

/// Peak-to-peak amplitude.
fn peak_to_peak(x: &[f32]) -> f64 {
    let (lo, hi) = x
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    if x.is_empty() { 0.0 } else { (hi - lo) as f64 }
}

/// What one voiced frame's period search found.
struct Periods {
    /// Start of every period found, then where the search stopped.
    starts: Vec<usize>,
    /// Length of the last period found (samples), or the nominal period.
    last_len: usize,
    /// The sample the next frame continues from.
    resume: usize,
    accepted: usize,
    sum_period: f64,
    jitter_local: (f64, usize),
    jitter_ddp: (f64, usize),
    amplitude: f64,
    amplitude_diff: f64,
}

/// The state carried from frame to frame.
#[derive(Default)]
struct Tracker {
    last_t0: f64,
    last_diff: f64,
    last_jitter_local: f64,
    last_jitter_ddp: f64,
    last_shimmer: f64,
}

impl Tracker {
    /// Finds the periods of `x` for an F0 of `fs / tf` samples; `read0` is the frame's nominal
    /// read length.
    fn periods(&mut self, x: &[f32], tf: f64, fs: f64, read0: usize) -> Periods {
        let t0f = tf.round() as usize;
        let (tmin, tmax) = ((0.75 * tf).floor() as usize, (1.25 * tf).ceil() as usize);
        let mut p = Periods {
            starts: Vec::new(),
            last_len: 0,
            resume: 0,
            accepted: 0,
            sum_period: 0.0,
            jitter_local: (0.0, 0),
            jitter_ddp: (0.0, 0),
            amplitude: 0.0,
            amplitude_diff: 0.0,
        };
        let mut min_cc = f32::INFINITY;
        let mut start = 0;
        let mut cc = vec![0.0; tmax - tmin + 1];
        while start + 2 * tmax + 1 < x.len() {
            for (l, c) in (tmin..=tmax).zip(&mut cc) {
                *c = pearson(&x[start..start + l], &x[start + l..start + 2 * l]);
            }
            // The highest strict local peak; the last two lags can never be chosen.
            let peak = (1..(tmax - tmin).saturating_sub(1))
                .filter(|&m| cc[m - 1] < cc[m] && cc[m] > cc[m + 1])
                .fold(None, |b: Option<usize>, m| match b {
                    Some(b) if cc[b] >= cc[m] => Some(b),
                    _ => Some(m),
                });
            match peak {
                None => {
                    start += t0f;
                    p.last_len = t0f;
                }
                Some(m) => {
                    let len = tmin + m;
                    let from = start;
                    start += len;
                    let a0 = peak_to_peak(&x[from + 1..from + len - 1]);
                    let a1 = peak_to_peak(&x[start + 1..start + len - 1]);
                    p.starts.push(from);
                    p.last_len = len;
                    let (a, b, c) = (cc[m - 1], cc[m], cc[m + 1]);
                    let curve = a - 2.0 * b + c;
                    let (d, height) = if curve != 0.0 {
                        let d = (a - c) / (2.0 * curve);
                        (d, b - (a - c) * d / 4.0)
                    } else {
                        (0.0, b)
                    };
                    let period = (tmin as f64 + m as f64 + d).abs() / fs;
                    min_cc = min_cc.min(height as f32);
                    // IS13's threshold is the frame's worst correlation so far, this one
                    // included, kept in f32: a period counts when it beats an earlier one,
                    // or when rounding its correlation to f32 rounded it down.
                    if height > min_cc as f64 {
                        p.sum_period += period;
                        p.accepted += 1;
                        if self.last_t0 > 0.0 {
                            let diff = (self.last_t0 - period).abs();
                            p.jitter_local.0 += diff;
                            p.jitter_local.1 += 1;
                            if self.last_diff > 0.0 {
                                p.jitter_ddp.0 += (self.last_diff - diff).abs();
                                p.jitter_ddp.1 += 1;
                            }
                            self.last_diff = diff;
                        }
                        self.last_t0 = period;
                        p.amplitude += (a0 + a1) / 2.0;
                        p.amplitude_diff += (a0 - a1).abs();
                    }
                }
            }
            if start + 1 < read0 {
                p.resume = start;
            }
        }
        p.starts.push(start);
        p
    }
}

/// Harmonics-to-noise ratio (dB) of the periods found: the average period's energy over the
/// periods' deviation from it.
fn log_hnr(x: &[f32], p: &Periods, t0f: usize) -> f64 {
    let at = |i: usize| x.get(i).copied().unwrap_or(0.0) as f64;
    let count = p.starts.len() as f64;
    let avg: Vec<f64> = (0..t0f)
        .map(|i| p.starts.iter().map(|&s| at(s + i)).sum::<f64>() / count)
        .collect();
    let eh = if t0f > 6 {
        (avg[3..=t0f - 3].iter().map(|v| v * v).sum::<f64>() / (t0f - 4) as f64).sqrt()
    } else {
        0.0
    };
    let (mut noise, mut n) = (0.0, 0usize);
    for (k, &s) in p.starts.iter().enumerate() {
        let end = p.starts.get(k + 1).copied().unwrap_or(s + p.last_len);
        let end = end.min(s + t0f).min(x.len());
        for j in s + 2..end.saturating_sub(2) {
            noise += (at(j) - avg[j - s]).powi(2);
            n += 1;
        }
    }
    let en = if n > 0 {
        (noise / n as f64).sqrt()
    } else {
        0.0
    };
    if en == 0.0 {
        0.0
    } else if eh <= 0.0 {
        HNR_FLOOR
    } else {
        (20.0 * (eh / en).log10()).max(HNR_FLOOR)
    }
}

/// The voice-quality contours of `x` at `fs` for each 10 ms frame's (gated) F0.
pub fn voice_quality(x: &[f32], fs: f64, f0: &[f32]) -> VoiceQuality {
    let step = (0.010 * fs).ceil() as usize;
    let frame_len = (0.060 * fs).round() as usize;
    let mut out = VoiceQuality {
        jitter_local: Vec::with_capacity(f0.len()),
        jitter_ddp: Vec::with_capacity(f0.len()),
        shimmer: Vec::with_capacity(f0.len()),
        log_hnr: Vec::with_capacity(f0.len()),
    };
    let mut state = Tracker::default();
    let (mut index, mut carry) = (0usize, 0usize);
    for (t, &f) in f0.iter().enumerate() {
        let read0 = step + carry;
        let mut read = read0;
        let tf = fs / f as f64;
        if f > 0.0 {
            read = read.max(2 * (1.25 * tf).ceil() as usize + 2);
        }
        read = read.min(carry + frame_len);
        if (t * step).checked_sub(carry) != Some(index) {
            index = t * step;
            read = read.min(frame_len);
        }
        let chunk = &x[index.min(x.len())..(index + read).min(x.len())];
        let advance;
        let (jl, jd, sh, hnr);
        if f > 0.0 {
            let p = state.periods(chunk, tf, fs, read0);
            hnr = log_hnr(chunk, &p, tf.round() as usize);
            // A frame without accepted periods repeats the last values; one with periods but
            // no period-to-period difference gives 0.
            if p.accepted > 0 {
                let mean_period = p.sum_period / p.accepted as f64;
                let ratio = |(sum, n): (f64, usize), last: &mut f64| {
                    if n > 0 {
                        *last = (sum / n as f64 / mean_period).min(1.0);
                        *last
                    } else {
                        0.0
                    }
                };
                jl = ratio(p.jitter_local, &mut state.last_jitter_local);
                jd = ratio(p.jitter_ddp, &mut state.last_jitter_ddp);
                state.last_shimmer = if p.amplitude > 0.0 {
                    (p.amplitude_diff / p.amplitude).min(1.0)
                } else {
                    0.0
                };
            } else {
                (jl, jd) = (state.last_jitter_local, state.last_jitter_ddp);
            }
            sh = state.last_shimmer;
            advance = p.resume;
            carry = read0 - p.resume;
        } else {
            state = Tracker::default();
            (jl, jd, sh, hnr) = (0.0, 0.0, 0.0, HNR_FLOOR);
            advance = read0;
            carry = 0;
        }
        index += advance;
        out.jitter_local.push(jl as f32);
        out.jitter_ddp.push(jd as f32);
        out.shimmer.push(sh as f32);
        out.log_hnr.push(hnr as f32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Damped-sine pulses every `period` samples plus uniform noise of amplitude `noise`.
    fn pulse_train(period: usize, fs: f64, seconds: f64, noise: f32) -> Vec<f32> {
        let n = (fs * seconds) as usize;
        let mut seed = 12345u32;
        (0..n)
            .map(|t| {
                let i = (t % period) as f32;
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let r = (seed >> 8) as f32 / (1 << 24) as f32 - 0.5;
                (i * 0.3).sin() * (-i / 10.0).exp() + noise * r
            })
            .collect()
    }

    #[test]
    fn noise_lowers_the_hnr_of_a_steady_voice() {
        let fs = 16_000.0;
        let f0 = vec![160.0f32; 90];
        let mean = |v: &[f32]| v[10..80].iter().sum::<f32>() / 70.0;
        let clean = voice_quality(&pulse_train(100, fs, 1.0, 0.01), fs, &f0);
        let noisy = voice_quality(&pulse_train(100, fs, 1.0, 0.5), fs, &f0);
        assert!(mean(&clean.log_hnr) > 20.0, "{:?}", clean.log_hnr);
        assert!(
            mean(&noisy.log_hnr) < mean(&clean.log_hnr) - 10.0,
            "{:?}",
            noisy.log_hnr
        );
        for v in [&clean, &noisy] {
            assert!(
                v.jitter_local
                    .iter()
                    .chain(&v.shimmer)
                    .all(|j| (0.0..=1.0).contains(j))
            );
        }
    }

    #[test]
    fn unvoiced_frames_reset_and_carry_minus_100_db() {
        let x = pulse_train(100, 16_000.0, 0.5, 0.01);
        let v = voice_quality(&x, 16_000.0, &[0.0; 40]);
        assert!(v.log_hnr.iter().all(|&h| h == -100.0));
        assert!(v.jitter_local.iter().chain(&v.shimmer).all(|&j| j == 0.0));
    }
}
