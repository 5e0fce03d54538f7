//! Chi-squared feature scores and k-best selection, as scikit-learn's `chi2` and
//! `SelectKBest`.

/// The chi-squared statistic of each (non-negative) feature against the class labels: per
/// class, the feature's observed sum against the sum expected from the class's frequency.
/// A feature that is zero everywhere scores 0.
pub fn chi2(rows: &[Vec<f32>], labels: &[usize], classes: usize) -> Vec<f64> {
    let n = rows.len();
    let features = rows.first().map_or(0, Vec::len);
    let mut observed = vec![vec![0f64; features]; classes];
    let mut total = vec![0f64; features];
    let mut count = vec![0f64; classes];
    for (r, &y) in rows.iter().zip(labels) {
        count[y] += 1.0;
        for (j, &v) in r.iter().enumerate() {
            observed[y][j] += v as f64;
            total[j] += v as f64;
        }
    }
    (0..features)
        .map(|j| {
            (0..classes)
                .map(|c| {
                    let expected = count[c] / n as f64 * total[j];
                    if expected > 0.0 {
                        (observed[c][j] - expected).powi(2) / expected
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect()
}

/// Indices of the `k` highest scores, ascending. Ties go to the later feature, as a stable
/// ascending sort that keeps the last `k` gives them.
pub fn k_best(scores: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut best = order[scores.len().saturating_sub(k)..].to_vec();
    best.sort_unstable();
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2_matches_a_hand_computation() {
        // Feature 0 follows the class, feature 1 does not, feature 2 is zero.
        let rows = vec![
            vec![1.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.0],
        ];
        let labels = [0, 0, 1, 1];
        let s = chi2(&rows, &labels, 2);
        // Feature 0: observed (2, 0), expected (1, 1): 1 + 1 = 2.
        assert!((s[0] - 2.0).abs() < 1e-12);
        // Feature 1: observed (1, 1), expected (1, 1).
        assert_eq!(s[1], 0.0);
        assert_eq!(s[2], 0.0);
    }

    #[test]
    fn k_best_keeps_the_highest_and_breaks_ties_late() {
        assert_eq!(k_best(&[0.5, 3.0, 1.0, 3.0], 2), vec![1, 3]);
        assert_eq!(k_best(&[1.0, 1.0, 1.0], 1), vec![2]);
        assert_eq!(k_best(&[1.0, 2.0], 5), vec![0, 1]);
    }
}
