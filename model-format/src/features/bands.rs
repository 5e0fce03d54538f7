//! Band energies of a power spectrum (1025 bins at 44.1 kHz) as Essentia's music extractor
//! takes them (`docs/features-essentia.md` §3.3–3.5): 27 Bark bands, 40 mel bands (MFCC's)
//! and 40 ERB bands (GFCC's gammatone filters).

use crate::dsp::{BIN_HZ, BINS, ESSENTIA_RATE as RATE, FRAME, hz_to_mel as mel, mel_to_hz};
use std::sync::OnceLock;

/// Bark band edges in Hz (27 bands; the 27 kHz edge is above Nyquist).
const BARK_EDGES: [f64; 28] = [
    0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 510.0, 630.0, 770.0, 920.0, 1080.0, 1270.0,
    1480.0, 1720.0, 2000.0, 2320.0, 2700.0, 3150.0, 3700.0, 4400.0, 5300.0, 6400.0, 7700.0, 9500.0,
    12000.0, 15500.0, 20500.0,
];

/// Power in each Bark band, over bins `[round(lo), round(hi))`.
pub fn bark(power: &[f32]) -> Vec<f32> {
    BARK_EDGES
        .windows(2)
        .map(|e| {
            let k = |f: f64| (((f / BIN_HZ) + 0.5) as usize).min(BINS);
            power[k(e[0])..k(e[1])].iter().sum()
        })
        .collect()
}

/// A filter bank: per band, its first bin and weights.
pub struct Bank(Vec<(usize, Vec<f32>)>);

impl Bank {
    /// 40 HTK mel triangles from 0 to 11 kHz, linear in mel, each normalised to unit sum
    /// over its bins.
    pub fn mel() -> Bank {
        let top = mel(11_000.0);
        let edges: Vec<f64> = (0..42).map(|i| mel_to_hz(i as f64 * top / 41.0)).collect();
        Bank(
            (0..40)
                .map(|i| {
                    let (lo, mid, hi) = (edges[i], edges[i + 1], edges[i + 2]);
                    let first = (lo / BIN_HZ).ceil() as usize;
                    let last = ((hi / BIN_HZ).floor() as usize).min(BINS - 1);
                    let w: Vec<f64> = (first..=last)
                        .map(|k| {
                            let m = mel(k as f64 * BIN_HZ);
                            if k as f64 * BIN_HZ < mid {
                                (m - mel(lo)) / (mel(mid) - mel(lo))
                            } else {
                                (mel(hi) - m) / (mel(hi) - mel(mid))
                            }
                            .max(0.0)
                        })
                        .collect();
                    let sum: f64 = w.iter().sum();
                    let w = w.iter().map(|v| if sum > 0.0 { v / sum } else { 0.0 });
                    (first, w.map(|v| v as f32).collect())
                })
                .collect(),
        )
    }

    /// 40 fourth-order gammatone filters (Slaney's form) with centre frequencies evenly
    /// spaced on the ERB scale from 40 Hz up towards Nyquist, as their magnitude responses on
    /// every bin, unnormalised. Ported term by term in f32 from Essentia's `ERBBands`. Built
    /// once per process: it costs 41,000 complex magnitudes and powers.
    pub fn erb() -> &'static Bank {
        static ERB: OnceLock<Bank> = OnceLock::new();
        ERB.get_or_init(Bank::build_erb)
    }

    fn build_erb() -> Bank {
        const EAR_Q: f32 = 9.26449;
        const MIN_BW: f32 = 24.7;
        let (n, sr) = (40, RATE as f32);
        let (low, high) = (40f32, sr / 2.0);
        let bw = EAR_Q * MIN_BW;
        let mut centres = vec![0f32; n];
        for i in 1..=n {
            let step = i as f32 * (-(high + bw).ln() + (low + bw).ln()) * (1.0 / n as f32);
            centres[n - i] = -bw + step.exp() * (high + bw);
        }
        let pi = std::f32::consts::PI;
        let unit: Vec<C> = (0..BINS)
            .map(|k| C::cis(2.0 * pi * k as f32 / FRAME as f32))
            .collect();
        let sqrt_p = (3.0 + 2f64.powf(1.5)).sqrt() as f32;
        let sqrt_m = (3.0 - 2f64.powf(1.5)).sqrt() as f32;
        let t = (1.0 / sr as f64) as f32;
        Bank(
            centres
                .iter()
                .map(|&cf| {
                    let erb = cf / EAR_Q + MIN_BW;
                    let b = ((1.019f32 * 2.0) as f64 * std::f64::consts::PI * erb as f64) as f32;
                    let theta = (2.0 * std::f64::consts::PI * cf as f64 / sr as f64) as f32;
                    let pole = C::cis(theta).scale((-b / sr).exp());
                    let (sin_cf, cos_cf) = (2.0 * cf * pi * t).sin_cos();
                    let gt_cos = 2.0 * t * cos_cf / (b * t).exp();
                    let gt_sin = t * sin_cf / (b * t).exp();
                    let zeros = [
                        (gt_cos + 2.0 * sqrt_p * gt_sin) / 2.0 / t,
                        (gt_cos - 2.0 * sqrt_p * gt_sin) / 2.0 / t,
                        (gt_cos + 2.0 * sqrt_m * gt_sin) / 2.0 / t,
                        (gt_cos - 2.0 * sqrt_m * gt_sin) / 2.0 / t,
                    ];
                    let g1 = C::cis(4.0 * cf * pi * t).scale(-2.0).scale(t);
                    let g2 = C::cis(2.0 * cf * pi * t)
                        .scale((-(b * t)).exp())
                        .scale(2.0)
                        .scale(t);
                    let cx = C::cis(4.0 * cf * pi * t);
                    let term = |s: f32| g1.add(g2.scale(cos_cf + s * sin_cf));
                    let num = term(-sqrt_m)
                        .mul(term(sqrt_m))
                        .mul(term(-sqrt_p))
                        .mul(term(sqrt_p));
                    let den = cx
                        .scale(-2.0)
                        .add(C(-2.0 / (2.0 * b * t).exp(), 0.0))
                        .add(cx.add(C(1.0, 0.0)).scale(2.0).div((b * t).exp()));
                    let gain = num.abs() / den.abs().powi(4);
                    let scale = (t as f64).powf(4.0) / gain as f64;
                    let weights = unit
                        .iter()
                        .map(|&u| {
                            let d = pole.sub(u);
                            let w = zeros
                                .iter()
                                .fold(scale, |acc, &z| acc * u.sub(C(z, 0.0)).abs() as f64);
                            (w * d.mul(d).abs().powf(-4.0) as f64) as f32
                        })
                        .collect();
                    (0, weights)
                })
                .collect(),
        )
    }

    /// The band energies of `power`: weighted sums, accumulated in f32, each in bin order.
    /// Bands over the same bins (all of the ERB bank's) are summed four at a time, as four
    /// add chains side by side, with the same result as one after the other.
    pub fn apply(&self, power: &[f32]) -> Vec<f32> {
        let band = |(first, w): &(usize, Vec<f32>)| -> f32 {
            w.iter().zip(&power[*first..]).map(|(w, p)| p * w).sum()
        };
        let mut out = Vec::with_capacity(self.0.len());
        for group in self.0.chunks(4) {
            let [a, b, c, d] = group else {
                out.extend(group.iter().map(band));
                continue;
            };
            let (first, n) = (a.0, a.1.len());
            if [b, c, d].iter().any(|g| g.0 != first || g.1.len() != n) {
                out.extend(group.iter().map(band));
                continue;
            }
            let mut acc = [-0.0f32; 4];
            for (k, &p) in power[first..].iter().take(n).enumerate() {
                acc[0] += p * a.1[k];
                acc[1] += p * b.1[k];
                acc[2] += p * c.1[k];
                acc[3] += p * d.1[k];
            }
            out.extend(acc);
        }
        out
    }
}

/// A complex number in f32, for the gammatone responses.
#[derive(Clone, Copy)]
struct C(f32, f32);

impl C {
    /// `e^{iθ}`.
    fn cis(theta: f32) -> C {
        let (s, c) = theta.sin_cos();
        C(c, s)
    }
    fn add(self, o: C) -> C {
        C(self.0 + o.0, self.1 + o.1)
    }
    fn sub(self, o: C) -> C {
        C(self.0 - o.0, self.1 - o.1)
    }
    fn mul(self, o: C) -> C {
        C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
    }
    fn scale(self, s: f32) -> C {
        C(self.0 * s, self.1 * s)
    }
    fn div(self, s: f32) -> C {
        C(self.0 / s, self.1 / s)
    }
    fn abs(self) -> f32 {
        self.0.hypot(self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bark_bands_cover_their_bins() {
        let b = bark(&[1.0; BINS]);
        assert_eq!(b.len(), 27);
        // Bins [0, 2), [2, 5), …, [720, 952).
        assert_eq!((b[0], b[1], b[26]), (2.0, 3.0, 232.0));
    }

    #[test]
    fn mel_triangles_have_unit_sum() {
        let m = Bank::mel().apply(&[1.0; BINS]);
        assert_eq!(m.len(), 40);
        assert!(m.iter().all(|&v| (v - 1.0).abs() < 1e-5), "{m:?}");
    }

    #[test]
    fn erb_filters_match_essentia() {
        // `ERBBands(lowFrequencyBound=40, type="power")` of a flat unit spectrum, essentia
        // 2.1b6.dev1389: the sums of filters 0, 5, 10, 20, 30 and 39.
        let e = Bank::erb().apply(&[1.0; BINS]);
        assert_eq!(e.len(), 40);
        for (i, expected) in [
            (0, 109.329_26),
            (5, 17_949.178),
            (10, 119_766.54),
            (20, 857_097.56),
            (30, 1_753_854.4),
            (39, 3_415.926),
        ] {
            assert!(
                (e[i] / expected - 1.0).abs() < 1e-5,
                "band {i}: {} vs {expected}",
                e[i]
            );
        }
        // … and of a made-up spectrum of six bumps on a ripple: bands 0, 3, 8, 15, 25.
        let power: Vec<f32> = super::super::test_signals::bumps()
            .iter()
            .map(|m| m * m)
            .collect();
        let e = Bank::erb().apply(&power);
        for (i, expected) in [
            (0, 0.001_240_303_5),
            (3, 1.390_085_2),
            (8, 37.296_444),
            (15, 147.828_67),
            (25, 232.235_63),
        ] {
            assert!(
                (e[i] / expected - 1.0).abs() < 1e-5,
                "band {i}: {} vs {expected}",
                e[i]
            );
        }
    }
}
