//! Pitch as `IS13_ComParE` tracks it (spec §6.1–§6.3): the 60 ms Gaussian frame's magnitude
//! spectrum on an octave axis, sub-harmonic summation giving six `(F0, voicing)` candidates,
//! and openSMILE's Viterbi smoother choosing one or "unvoiced" per frame.

/// Candidates per frame.
pub const CANDIDATES: usize = 6;
const HARMONICS: usize = 15;
const COMPRESSION: f64 = 0.85;
const MIN_F: f64 = 25.0;
const MIN_PITCH: f64 = 52.0;
const MAX_PITCH: f64 = 620.0;
const VOICING_CUTOFF: f64 = 0.70;

/// One frame's candidates: `(F0 Hz, voicing)`, 0 for an empty slot.
pub type Candidates = [(f64, f64); CANDIDATES];

/// Sub-harmonic summation on an octave-scale spectrum, for frames at one rate and FFT size.
pub struct Shs {
    /// log2 Hz of each target point, evenly spaced from 25 Hz to Nyquist.
    x: Vec<f64>,
    /// Auditory weight of each target point.
    weight: Vec<f64>,
    /// Target-point shift and weight `0.85^(h−1) / 15` of harmonic h = 1..=15.
    harmonics: Vec<(usize, f64)>,
    spline: SplineGrid,
}

impl Shs {
    /// The octave axis, auditory weights and harmonic shifts for frames at `fs` Hz, FFT size
    /// `nfft`.
    pub fn new(fs: f64, nfft: usize) -> Self {
        let k = nfft / 2 + 1;
        let df = fs / nfft as f64;
        let mut u: Vec<f64> = (0..k).map(|i| (i as f64 * df).log2()).collect();
        u[0] = 2.0 * u[1] - u[2];
        let (lo, hi) = (MIN_F.log2(), (fs / 2.0).log2());
        let dx = (hi - lo) / (k - 1) as f64;
        let x: Vec<f64> = (0..k).map(|j| lo + j as f64 * dx).collect();
        let ppo = k as f64 / (fs / 2.0 / MIN_F).log2();
        let s = ppo * (65f64 / 50.0).log2() - 1.0;
        let weight = (0..k)
            .map(|j| 0.5 + (3.0 * (j as f64 + 1.0 - s) / ppo).atan() / std::f64::consts::PI)
            .collect();
        let harmonics = (1..=HARMONICS)
            .map(|h| {
                let shift = (ppo * (h as f64).log2()).floor() as usize;
                (shift, COMPRESSION.powi(h as i32 - 1) / HARMONICS as f64)
            })
            .collect();
        let spline = SplineGrid::new(&u, &x);
        Shs {
            x,
            weight,
            harmonics,
            spline,
        }
    }

    /// The octave-scale spectrum: peaks enhanced, smoothed, splined onto the log axis, weighted.
    fn octave_spectrum(&self, magnitude: &[f32]) -> Vec<f64> {
        let mut m: Vec<f64> = magnitude.iter().map(|&v| v as f64).collect();
        enhance_peaks(&mut m);
        let k = m.len();
        let mut smooth = m.clone();
        for i in 0..k - 1 {
            let left = if i == 0 { 0.0 } else { m[i - 1] };
            smooth[i] = (left + 2.0 * m[i] + m[i + 1]) / 4.0;
        }
        self.spline
            .eval(&smooth)
            .into_iter()
            .zip(&self.weight)
            .map(|(v, &w)| v.max(0.0) * w)
            .collect()
    }

    /// The frame's six candidates, the best-scoring first, from its magnitude spectrum.
    pub fn candidates(&mut self, magnitude: &[f32]) -> Candidates {
        let o = self.octave_spectrum(magnitude);
        let k = o.len();
        let mut ss = vec![0.0; k];
        for &(shift, w) in &self.harmonics {
            for (s, &v) in ss.iter_mut().zip(&o[shift.min(k)..]) {
                *s += w * v;
            }
        }
        // The highest strict local maxima, by value, ties in bin order.
        let mut peaks: Vec<usize> = Vec::with_capacity(CANDIDATES);
        for i in 1..k - 1 {
            if ss[i - 1] < ss[i] && ss[i] > ss[i + 1] {
                let at = peaks
                    .iter()
                    .position(|&p| ss[p] < ss[i])
                    .unwrap_or(peaks.len());
                if at < CANDIDATES {
                    peaks.insert(at, i);
                    peaks.truncate(CANDIDATES);
                }
            }
        }
        let mean = ss.iter().sum::<f64>() / k as f64;
        let dx = self.x[1] - self.x[0];
        let mut found: Vec<(f64, f64, f64)> = peaks
            .iter()
            .map(|&j| {
                let (a, b, c) = (ss[j - 1], ss[j], ss[j + 1]);
                let curve = a - 2.0 * b + c;
                let (x, score) = if curve != 0.0 {
                    let d = (a - c) / (2.0 * curve);
                    (self.x[j] + d * dx, b - (a - c) * d / 4.0)
                } else {
                    let best = [(j - 1, a), (j, b), (j + 1, c)]
                        .into_iter()
                        .fold((j, f64::MIN), |m, p| if p.1 > m.1 { p } else { m });
                    (self.x[best.0], best.1)
                };
                let voicing = if score > 0.0 && score > mean {
                    1.0 - mean / score
                } else {
                    0.0
                };
                (x.exp2(), voicing, score)
            })
            .filter(|&(f0, _, _)| (MIN_PITCH..=MAX_PITCH).contains(&f0))
            .collect();
        if let Some(best) =
            (0..found.len()).reduce(|b, i| if found[i].2 > found[b].2 { i } else { b })
        {
            found.swap(0, best);
        }
        let mut out = [(0.0, 0.0); CANDIDATES];
        for (slot, &(f0, v, _)) in out.iter_mut().zip(&found) {
            *slot = (f0, v);
        }
        out
    }
}

/// Zeroes everything between consecutive local maxima except 2 bins on each side of them
/// (with a single maximum, everything from bin 3 on: openSMILE's behaviour).
fn enhance_peaks(m: &mut [f64]) {
    let k = m.len();
    let mut maxima = Vec::new();
    if m[0] > m[1] {
        maxima.push(0);
    }
    maxima.extend((1..k - 1).filter(|&i| m[i] > m[i - 1] && m[i] >= m[i + 1]));
    if m[k - 1] > m[k - 2] {
        maxima.push(k - 1);
    }
    match maxima.len() {
        0 => {}
        1 => m[3.min(k)..].fill(0.0),
        _ => {
            for pair in maxima.windows(2) {
                let (from, to) = (pair[0] + 3, pair[1].saturating_sub(3));
                if from <= to {
                    m[from..=to].fill(0.0);
                }
            }
        }
    }
}

/// A natural cubic spline (zero second derivative at both ends) through fixed, increasing
/// knots `u`, evaluated at fixed points `x`: everything that depends only on the abscissae is
/// computed once.
struct SplineGrid {
    /// Knot spacing ratio `(u[i] − u[i−1]) / (u[i+1] − u[i−1])` over the elimination's pivot.
    sig_over_pivot: Vec<f64>,
    /// `6 / ((u[i+1] − u[i−1]) · pivot)`.
    scale: Vec<f64>,
    /// `1 / (u[i+1] − u[i])`.
    inv_step: Vec<f64>,
    /// The second-derivative recursion's coefficient on the next knot.
    d2_next: Vec<f64>,
    /// Per target point: interval start `lo` and the weights on `y[lo]`, `y[lo+1]`,
    /// `d2[lo]`, `d2[lo+1]`.
    points: Vec<(usize, [f64; 4])>,
}

impl SplineGrid {
    fn new(u: &[f64], x: &[f64]) -> Self {
        let n = u.len();
        let (mut sig_over_pivot, mut scale, mut d2_next) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for i in 1..n - 1 {
            let sig = (u[i] - u[i - 1]) / (u[i + 1] - u[i - 1]);
            let pivot = sig * d2_next[i - 1] + 2.0;
            d2_next[i] = (sig - 1.0) / pivot;
            sig_over_pivot[i] = sig / pivot;
            scale[i] = 6.0 / ((u[i + 1] - u[i - 1]) * pivot);
        }
        let inv_step = u.windows(2).map(|w| 1.0 / (w[1] - w[0])).collect();
        let points = x
            .iter()
            .map(|&v| {
                let hi = u.partition_point(|&k| k < v).clamp(1, n - 1);
                let lo = hi - 1;
                let h = u[hi] - u[lo];
                let a = (u[hi] - v) / h;
                let b = (v - u[lo]) / h;
                let c = h * h / 6.0;
                (lo, [a, b, (a * a * a - a) * c, (b * b * b - b) * c])
            })
            .collect();
        SplineGrid {
            sig_over_pivot,
            scale,
            inv_step,
            d2_next,
            points,
        }
    }

    /// The spline through `(u[i], y[i])` at every target point.
    fn eval(&self, y: &[f64]) -> Vec<f64> {
        let n = y.len();
        let mut r = vec![0.0; n];
        for i in 1..n - 1 {
            let slope =
                (y[i + 1] - y[i]) * self.inv_step[i] - (y[i] - y[i - 1]) * self.inv_step[i - 1];
            r[i] = slope * self.scale[i] - self.sig_over_pivot[i] * r[i - 1];
        }
        let mut d2 = vec![0.0; n];
        for i in (1..n - 1).rev() {
            d2[i] = self.d2_next[i] * d2[i + 1] + r[i];
        }
        self.points
            .iter()
            .map(|&(lo, w)| w[0] * y[lo] + w[1] * y[lo + 1] + w[2] * d2[lo] + w[3] * d2[lo + 1])
            .collect()
    }
}

/// Local cost of the F0 value: prefers 100–350 Hz.
fn f0_cost(f: f64) -> f64 {
    match f {
        f if f <= 0.0 => 2.0,
        f if f < 100.0 => 1.0 - f / 100.0,
        f if f < 350.0 => 0.0,
        f if f < 600.0 => (f - 350.0) / 250.0,
        _ => 1.2,
    }
}

/// The 7 states' local costs: the candidates, then unvoiced.
fn local_costs(c: &Candidates) -> [f64; CANDIDATES + 1] {
    let mut out = [0.0; CANDIDATES + 1];
    for (o, &(f0, v)) in out.iter_mut().zip(c) {
        let p = v.clamp(0.01, 1.0);
        let threshold = if p < VOICING_CUTOFF { 4.0 } else { 0.0 };
        *o = 2.0 * (-p.ln() + threshold) + f0_cost(f0);
    }
    out[CANDIDATES] = if c.iter().any(|&(_, v)| v >= VOICING_CUTOFF) {
        8.0
    } else {
        0.0
    };
    out
}

/// Frames a path may stay undecided before the cheapest path decides the oldest.
const BUFFER: usize = 30;
const UNVOICED: usize = CANDIDATES;

/// openSMILE's Viterbi pitch smoother (`cPitchSmootherViterbi`), with its global octave-jump
/// memory `λ`, its U→U cost of 1 and its incremental decisions. Returns `(F0final,
/// voicingFinalUnclipped)` per frame: the chosen candidate's values, or 0 and candidate 0's
/// voicing when unvoiced.
pub fn viterbi(frames: &[Candidates]) -> (Vec<f32>, Vec<f32>) {
    const STATES: usize = CANDIDATES + 1;
    let n = frames.len();
    let mut back: Vec<[usize; STATES]> = Vec::with_capacity(n);
    let mut cost = [0.0; STATES];
    let mut lambda = 1.0f64;
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    // The state frame `d` takes on the path ending in `state` at frame `t`.
    let trace = |back: &[[usize; STATES]], mut state: usize, t: usize, d: usize| {
        for f in (d + 1..=t).rev() {
            state = back[f][state];
        }
        state
    };
    let cheapest =
        |cost: &[f64; STATES]| (0..STATES).fold(0, |b, i| if cost[i] < cost[b] { i } else { b });
    for (t, c) in frames.iter().enumerate() {
        let local = local_costs(c);
        if t == 0 {
            cost = local;
            back.push([0; STATES]);
        } else {
            let prev = &frames[t - 1];
            let mut next = [0.0; STATES];
            let mut from = [0; STATES];
            for i in 0..STATES {
                let mut best = (f64::INFINITY, 0);
                for j in 0..STATES {
                    let trans = match (i == UNVOICED, j == UNVOICED) {
                        (false, false) => {
                            let (fi, fj) = (c[i].0, prev[j].0);
                            if fi == 0.0 || fj == 0.0 {
                                999.0
                            } else {
                                let r = (fi / fj).ln();
                                let cost = 10.0 * r.abs() + 10.0 * (r - lambda).abs();
                                lambda = r;
                                cost
                            }
                        }
                        (true, true) => 1.0,
                        _ => {
                            lambda = 0.0;
                            10.0
                        }
                    };
                    if trans + cost[j] < best.0 {
                        best = (trans + cost[j], j);
                    }
                }
                next[i] = best.0 + local[i];
                from[i] = best.1;
            }
            cost = next;
            back.push(from);
        }
        let added = t + 1;
        if added - (chosen.len() + 1) >= BUFFER {
            let d = chosen.len();
            chosen.push(trace(&back, cheapest(&cost), t, d));
        } else {
            while chosen.len() <= t {
                let d = chosen.len();
                let first = trace(&back, 0, t, d);
                if (1..STATES).all(|s| trace(&back, s, t, d) == first) {
                    chosen.push(first);
                } else {
                    break;
                }
            }
        }
    }
    if n > 0 {
        let end = cheapest(&cost);
        while chosen.len() < n {
            let d = chosen.len();
            chosen.push(trace(&back, end, n - 1, d));
        }
    }
    chosen
        .iter()
        .zip(frames)
        .map(|(&s, c)| {
            if s == UNVOICED {
                (0.0, c[0].1 as f32)
            } else {
                (c[s].0 as f32, c[s].1 as f32)
            }
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spline_interpolates_a_line_exactly_and_a_curve_closely() {
        let u = [0.0, 1.0, 2.5, 4.0, 5.0];
        let grid = SplineGrid::new(&u, &[0.5, 2.5, 3.25, 5.0]);
        let line = grid.eval(&u.map(|v| 2.0 * v + 1.0));
        for (got, want) in line.iter().zip([2.0, 6.0, 7.5, 11.0]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        let curve = grid.eval(&u.map(|v| v * v));
        assert!((curve[2] - 3.25f64.powi(2)).abs() < 0.3, "{curve:?}");
        assert_eq!(curve[1], 6.25, "knots are hit exactly");
    }

    #[test]
    fn peak_enhancement_keeps_two_bins_around_maxima() {
        let mut m = vec![1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0];
        enhance_peaks(&mut m);
        assert_eq!(m, vec![1.0, 2.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 3.0, 1.0]);
    }

    fn harmonic(f0: f64, fs: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                (1..=8)
                    .map(|h| {
                        (2.0 * std::f64::consts::PI * f0 * h as f64 * n as f64 / fs).sin()
                            / h as f64
                    })
                    .sum::<f64>() as f32
                    * 0.3
            })
            .collect()
    }

    #[test]
    fn a_harmonic_tone_gives_its_f0_first_and_voiced() {
        let fs = 16_000.0;
        let mag = super::super::Magnitude::new(super::super::gaussian(960));
        let mut shs = Shs::new(fs, mag.nfft());
        let c = shs.candidates(&mag.of(&harmonic(220.0, fs, 960)));
        assert!((c[0].0 - 220.0).abs() < 6.0, "{c:?}");
        assert!(c[0].1 > VOICING_CUTOFF, "{c:?}");
    }

    #[test]
    fn viterbi_follows_a_steady_voice_and_leaves_silence_unvoiced() {
        let voiced: Candidates = [
            (200.0, 0.9),
            (400.0, 0.5),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
        ];
        let silent: Candidates = [
            (300.0, 0.1),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
        ];
        let mut frames = vec![voiced; 50];
        frames.extend(vec![silent; 50]);
        let (f0, v) = viterbi(&frames);
        assert_eq!(f0.len(), 100);
        assert!(f0[..48].iter().all(|&f| f == 200.0), "{f0:?}");
        assert!(f0[52..].iter().all(|&f| f == 0.0), "{f0:?}");
        assert_eq!(v[99], 0.1, "unvoiced frames carry candidate 0's voicing");
    }
}
