//! Statistics of a spectrum or a band vector, as Essentia defines them.

/// Spread (the second central moment, not its root), skewness and excess kurtosis of `v` as
/// a distribution over positions `i · step`; `(0, 0, −3)` for a zero or single-point mass.
pub fn distribution_shape(v: &[f32], step: f64) -> (f64, f64, f64) {
    let total: f64 = v.iter().map(|&x| x as f64).sum();
    if total == 0.0 {
        return (0.0, 0.0, -3.0);
    }
    let centre = v
        .iter()
        .enumerate()
        .map(|(i, &x)| i as f64 * x as f64)
        .sum::<f64>()
        / total;
    let moment = |p: i32| {
        v.iter()
            .enumerate()
            .map(|(i, &x)| (i as f64 - centre).powi(p) * x as f64)
            .sum::<f64>()
            / total
    };
    let (m2, m3, m4) = (moment(2), moment(3), moment(4));
    if m2 == 0.0 {
        return (0.0, 0.0, -3.0);
    }
    (m2 * step * step, m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0)
}

/// Maximum over mean; 0 when all zero.
pub fn crest(v: &[f32]) -> f64 {
    let max = v.iter().fold(0f32, |m, &x| m.max(x)) as f64;
    if max == 0.0 {
        return 0.0;
    }
    max / (v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64)
}

/// Flatness (geometric over arithmetic mean) in dB, mapped to [0, 1] by ÷ −60 and capped:
/// 1 means peaky, and is also the value when a band is zero.
pub fn flatness_db(v: &[f32]) -> f64 {
    if v.iter().any(|&x| x <= 0.0) {
        return 1.0;
    }
    let n = v.len() as f64;
    let geo = (v.iter().map(|&x| (x as f64).ln()).sum::<f64>() / n).exp();
    let arith = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let flat = geo / arith;
    if flat <= 0.0 {
        return 1.0;
    }
    let db = if flat >= 1e-10 {
        10.0 * flat.log10()
    } else {
        -100.0
    };
    (db / -60.0).min(1.0)
}

/// Shannon entropy in bits of `v` normalised to sum 1; 0 for a zero vector.
pub fn entropy(v: &[f32]) -> f64 {
    let total: f64 = v.iter().map(|&x| x as f64).sum();
    if total == 0.0 {
        return 0.0;
    }
    -v.iter()
        .map(|&x| x as f64 / total)
        .filter(|&p| p > 0.0)
        .map(|p| p * p.log2())
        .sum::<f64>()
}

/// Peaks of `a` between bins `from` and the bin of `max_pos` (positions in bins, parabolic
/// interpolation on linear values, plateaus at their middle), above `threshold`: Essentia's
/// `PeakDetection`. Returns `(position in bins, value)` in position order.
pub fn peaks(a: &[f32], from: usize, max_pos: f64, threshold: f32) -> Vec<(f64, f32)> {
    let n = a.len();
    let mut out = Vec::new();
    if n < 3 || from + 1 >= n {
        return out;
    }
    let mut i = from;
    if a[i] > a[i + 1] && a[i] > threshold {
        out.push((i as f64, a[i]));
    }
    while i + 1 < n - 1 {
        while i + 1 < n - 1 && a[i] >= a[i + 1] {
            i += 1;
        }
        while i + 1 < n - 1 && a[i] < a[i + 1] {
            i += 1;
        }
        let mut j = i;
        while j + 1 < n - 1 && a[j] == a[j + 1] {
            j += 1;
        }
        if j + 1 < n && a[j + 1] < a[j] && a[j] > threshold {
            let (pos, val) = if j != i {
                ((i + j) as f64 / 2.0, a[i])
            } else if j > 0 {
                let (l, c, r) = (a[j - 1] as f64, a[j] as f64, a[j + 1] as f64);
                let d = 0.5 * (l - r) / (l - 2.0 * c + r);
                (j as f64 + d, (c - 0.25 * (l - r) * d) as f32)
            } else {
                (j as f64, a[j])
            };
            if pos > max_pos {
                break;
            }
            out.push((pos, val));
        }
        if j == i && i + 1 >= n - 1 {
            break;
        }
        i = j.max(i + 1).min(n - 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_simple_masses() {
        // Two equal masses at 0 and 2: centre 1, variance 1, symmetric, kurtosis 1 − 3.
        let (s, k, e) = distribution_shape(&[1.0, 0.0, 1.0], 1.0);
        assert_eq!((s, k, e), (1.0, 0.0, -2.0));
        assert_eq!(distribution_shape(&[0.0, 3.0, 0.0], 1.0), (0.0, 0.0, -3.0));
        // Positions scale the spread quadratically.
        assert_eq!(distribution_shape(&[1.0, 0.0, 1.0], 10.0).0, 100.0);
        // Mass to the right of the centre's tail is positive skew.
        assert!(distribution_shape(&[4.0, 1.0, 0.0, 0.0, 1.0], 1.0).1 > 0.0);
    }

    #[test]
    fn crest_flatness_and_entropy() {
        assert_eq!(crest(&[1.0, 1.0, 4.0, 2.0]), 2.0);
        assert_eq!(crest(&[0.0; 3]), 0.0);
        assert!(flatness_db(&[1.0; 8]).abs() < 1e-12, "flat spectrum: 0 dB");
        assert_eq!(flatness_db(&[1.0, 0.0]), 1.0);
        let peaky = flatness_db(&[1e-4, 1e-4, 1e-4, 1.0]);
        assert!(peaky > 0.1 && peaky < 1.0, "{peaky}");
        assert!((entropy(&[1.0; 8]) - 3.0).abs() < 1e-12);
        assert_eq!(entropy(&[0.0, 5.0]), 0.0);
    }

    #[test]
    fn peaks_are_interpolated_and_bounded() {
        let a = [0.0, 1.0, 3.0, 1.0, 0.0, 2.0, 2.0, 0.0, 0.5, 4.0, 0.5, 0.0];
        let p = peaks(&a, 0, 100.0, 0.1);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0], (2.0, 3.0), "symmetric peak sits on its bin");
        assert_eq!(p[1], (5.5, 2.0), "a plateau peaks at its middle");
        assert_eq!(p[2].0, 9.0);
        // Above the threshold only, and not past max_pos.
        assert_eq!(peaks(&a, 0, 100.0, 2.5).len(), 2);
        assert_eq!(peaks(&a, 0, 6.0, 0.1).len(), 2);
        let skew = peaks(&[0.0, 2.0, 3.0, 0.0, 0.0], 0, 10.0, 0.0);
        assert!(
            skew[0].0 > 1.5 && skew[0].0 < 2.0 && skew[0].1 > 3.0,
            "{skew:?}"
        );
    }
}
