//! Smoothing and delta regression of LLD contours (spec §7–§8), edges padded by repeating the
//! first and last frame. Smoothing emits one frame more than it gets, as openSMILE's does at
//! the end of the input (the last input frame again).

/// `x[t]` with the edges repeated.
fn at(x: &[f32], t: isize) -> f32 {
    x[t.clamp(0, x.len() as isize - 1) as usize]
}

/// 3-frame moving average, one frame longer than `x`.
pub fn smooth(x: &[f32]) -> Vec<f32> {
    (0..=x.len() as isize)
        .map(|t| (at(x, t - 1) + at(x, t) + at(x, t + 1)) / 3.0)
        .collect()
}

/// 3-frame moving average of the non-zero values, one frame longer than `x`; zero frames
/// stay zero.
pub fn smooth_nonzero(x: &[f32]) -> Vec<f32> {
    (0..=x.len() as isize)
        .map(|t| {
            if at(x, t) == 0.0 {
                return 0.0;
            }
            let v = [at(x, t - 1), at(x, t), at(x, t + 1)];
            let (sum, n) = v
                .iter()
                .filter(|&&v| v != 0.0)
                .fold((0.0, 0.0), |(s, n), &v| (s + v, n + 1.0));
            sum / n
        })
        .collect()
}

/// HTK delta regression over ±2 frames.
pub fn delta(x: &[f32]) -> Vec<f32> {
    (0..x.len() as isize)
        .map(|t| (at(x, t + 1) - at(x, t - 1) + 2.0 * (at(x, t + 2) - at(x, t - 2))) / 10.0)
        .collect()
}

/// Deltas of the F0 and voice-quality contours, as openSMILE's `onlyInSegments` regression
/// computes them: a ±i pair counts only when both ends are non-zero, and its `i²` adds to a
/// normaliser that starts at 10 and is shared by all the contours and never reset, so these
/// deltas shrink along the file (a bug in openSMILE, kept because the paper's features have it).
pub fn nonzero_deltas(contours: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let frames = contours.first().map_or(0, Vec::len);
    let mut out = vec![Vec::with_capacity(frames); contours.len()];
    let mut norm = 10.0f64;
    for t in 0..frames as isize {
        for (x, d) in contours.iter().zip(&mut out) {
            let mut num = 0.0f64;
            for i in 1..=2 {
                let (before, after) = (at(x, t - i), at(x, t + i));
                if before != 0.0 && after != 0.0 && !before.is_nan() && !after.is_nan() {
                    num += i as f64 * (after - before) as f64;
                    norm += (i * i) as f64;
                }
            }
            d.push((num / norm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_repeats_the_edges() {
        assert_eq!(smooth(&[3.0, 0.0, 6.0]), vec![2.0, 3.0, 4.0, 6.0]);
        assert_eq!(
            smooth_nonzero(&[3.0, 0.0, 6.0, 9.0]),
            vec![3.0, 0.0, 7.5, 8.0, 9.0]
        );
    }

    #[test]
    fn delta_of_a_ramp_is_its_slope_inside() {
        let d = delta(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(d[2..4], [1.0, 1.0]);
        assert_eq!(d[0], 0.5, "edge: (1 - 0 + 2·(2 - 0)) / 10");
    }

    #[test]
    fn nonzero_deltas_share_a_growing_normaliser() {
        let ramp: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let d = nonzero_deltas(&[ramp.clone(), ramp]);
        // Frame 0, first contour: num = 1·(2−1) + 2·(3−1) = 5, norm = 10 + 1 + 4.
        assert!((d[0][0] - 5.0 / 15.0).abs() < 1e-6);
        // The second contour sees the first's additions too.
        assert!((d[1][0] - 5.0 / 20.0).abs() < 1e-6);
        assert!(d[0][5] < d[0][2], "shrinks along the file: {:?}", d[0]);
    }
}
