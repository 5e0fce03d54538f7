//! Fitting the handcrafted-feature baseline: min-max scaling and chi-squared feature selection
//! fitted on the training rows only, then the MLP trained as scikit-learn trains
//! `MLPClassifier` (Adam, minibatches, L2 penalty, stopping on a loss plateau).

pub mod experiment;
pub mod select;
pub mod train;

use model_format::mlp::FeaturePipeline;

/// Min-max scaling to [0, 1] fitted on `rows`, as scikit-learn's `MinMaxScaler`: a constant
/// feature gets scale 1. Returns `(scale, offset)`.
pub fn fit_min_max(rows: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let n = rows.first().map_or(0, Vec::len);
    let mut lo = vec![f32::INFINITY; n];
    let mut hi = vec![f32::NEG_INFINITY; n];
    for r in rows {
        for (j, &v) in r.iter().enumerate() {
            lo[j] = lo[j].min(v);
            hi[j] = hi[j].max(v);
        }
    }
    let scale: Vec<f32> = lo
        .iter()
        .zip(&hi)
        .map(|(&l, &h)| if h > l { 1.0 / (h - l) } else { 1.0 })
        .collect();
    let offset = lo.iter().zip(&scale).map(|(&l, &s)| -l * s).collect();
    (scale, offset)
}

/// Fits the scaler on `all` training rows, then the `k` best features by chi-squared on the
/// (down-sampled) `rows` with their `labels`.
pub fn fit_pipeline(
    names: Vec<String>,
    all: &[Vec<f32>],
    rows: &[Vec<f32>],
    labels: &[usize],
    classes: usize,
    k: usize,
) -> FeaturePipeline {
    let (scale, offset) = fit_min_max(all);
    let scaled: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(scale.iter().zip(&offset))
                .map(|(&v, (&s, &o))| (v * s + o).max(0.0))
                .collect()
        })
        .collect();
    let scores = select::chi2(&scaled, labels, classes);
    FeaturePipeline {
        names,
        scale,
        offset,
        selected: select::k_best(&scores, k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_maps_the_training_range_to_the_unit_interval() {
        let rows = vec![vec![1.0, 5.0, -2.0], vec![3.0, 5.0, 2.0]];
        let (s, o) = fit_min_max(&rows);
        assert_eq!(s, vec![0.5, 1.0, 0.25]);
        let t = |r: &Vec<f32>| -> Vec<f32> {
            r.iter()
                .zip(s.iter().zip(&o))
                .map(|(v, (s, o))| v * s + o)
                .collect()
        };
        assert_eq!(t(&rows[0]), vec![0.0, 0.0, 0.0]);
        assert_eq!(t(&rows[1]), vec![1.0, 0.0, 1.0]);
    }
}
