//! The paper's MLP baseline on songs: fit (scaling, per-class down-sampling, chi-squared
//! selection, the network) on the training songs' segments. `model_format::inference` runs
//! it, segment by segment, a song being the sum of its segments' log-posteriors.

use super::fit_pipeline;
use super::train::{MlpTrainConfig, train};
use crate::dataset::Song;
use crate::features::SongFeatures;
use anyhow::{Result, bail, ensure};
use burn::prelude::*;
use model_format::features::FeatureSet;
use model_format::mlp::{FeaturePipeline, Mlp};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// An MLP run's settings (saved as `mlp.json` in its run folder).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpRunConfig {
    /// The handcrafted feature set the network learns from.
    pub features: FeatureSet,
    /// Features kept by chi-squared selection.
    pub k: usize,
    /// Seed of the per-class down-sampling of the training segments (42 as in the paper; our
    /// generator is ChaCha8, not numpy's, so the segments kept are not the paper's).
    pub balance_seed: u64,
    /// How the network is trained.
    pub train: MlpTrainConfig,
}

impl MlpRunConfig {
    /// The paper's pipeline on `features`.
    pub fn paper(features: FeatureSet) -> Self {
        MlpRunConfig {
            features,
            k: 50,
            balance_seed: 42,
            train: MlpTrainConfig::default(),
        }
    }
}

/// A fitted baseline and how fitting went.
pub struct Fitted {
    /// The trained network, in inference mode.
    pub model: Mlp,
    /// The scaling and selection fitted on the training segments.
    pub pipeline: FeaturePipeline,
    /// How fitting went.
    pub report: FitReport,
}

/// What fitting did, for the run folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Training segments before and after down-sampling.
    pub segments: usize,
    /// Training segments left after down-sampling.
    pub balanced_segments: usize,
    /// Names of the features chi-squared selection kept.
    pub selected: Vec<String>,
    /// Epochs trained.
    pub epochs: usize,
    /// Whether training stopped on a plateau rather than at the epoch limit.
    pub converged: bool,
    /// Mean loss (with the penalty) of the last epoch (NaN when none ran).
    pub final_loss: f64,
    /// Mean loss of every epoch.
    #[serde(default)]
    pub loss_curve: Vec<f64>,
}

/// Indices of `labels` down-sampled (seeded) so every class of every group (a dataset of a
/// mixed training set) has as many as the smallest class of any group.
pub fn balance_groups(labels: &[usize], groups: &[usize], classes: usize, seed: u64) -> Vec<usize> {
    let n_groups = groups.iter().max().map_or(0, |g| g + 1);
    let mut cells = vec![Vec::new(); n_groups * classes];
    for (i, (&y, &g)) in labels.iter().zip(groups).enumerate() {
        cells[g * classes + y].push(i);
    }
    let keep = cells.iter().map(Vec::len).min().unwrap_or(0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<usize> = cells
        .into_iter()
        .flat_map(|mut idx| {
            idx.shuffle(&mut rng);
            idx.truncate(keep);
            idx
        })
        .collect();
    out.sort_unstable();
    out
}

/// Every segment of `songs` as a feature row, with its song's quadrant, rating and group.
struct SegmentRows {
    rows: Vec<Vec<f32>>,
    labels: Vec<usize>,
    va: Vec<Option<[f32; 2]>>,
    groups: Vec<usize>,
}

fn segment_rows(songs: &[(Song, SongFeatures)], groups: &[usize]) -> SegmentRows {
    let mut out = SegmentRows {
        rows: Vec::new(),
        labels: Vec::new(),
        va: Vec::new(),
        groups: Vec::new(),
    };
    for ((s, f), &g) in songs.iter().zip(groups) {
        for r in &f.rows {
            out.rows.push(r.clone());
            out.labels.push(s.quadrant.index());
            out.va.push(s.va());
            out.groups.push(g);
        }
    }
    out
}

/// Fits the baseline on the training songs' segments; `groups` gives each song's dataset
/// (all 0 for one), whose classes are balanced alike (see [`balance_groups`]).
pub fn fit(
    config: &MlpRunConfig,
    songs: &[(Song, SongFeatures)],
    groups: &[usize],
    device: &Device,
) -> Result<Fitted> {
    ensure!(groups.len() == songs.len(), "one group per song");
    let Some((_, first)) = songs.first() else {
        bail!("no training songs");
    };
    if let Some((s, _)) = songs.iter().find(|(_, f)| f.names != first.names) {
        bail!("{}: other features than the first song's", s.path.display());
    }
    let SegmentRows {
        rows,
        labels,
        va,
        groups: row_groups,
    } = segment_rows(songs, groups);
    if config.train.va_head && va.iter().all(Option::is_none) {
        bail!("--va-head needs training songs with valence and arousal ratings; these have none");
    }
    let kept = balance_groups(&labels, &row_groups, 4, config.balance_seed);
    ensure!(
        !kept.is_empty(),
        "a quadrant has no training segments, so down-sampling leaves nothing"
    );
    let x: Vec<Vec<f32>> = kept.iter().map(|&i| rows[i].clone()).collect();
    let y: Vec<usize> = kept.iter().map(|&i| labels[i]).collect();
    let va: Vec<Option<[f32; 2]>> = kept.iter().map(|&i| va[i]).collect();
    let k = config.k.min(first.names.len());
    let pipeline = fit_pipeline(first.names.clone(), &rows, &x, &y, 4, k);
    let inputs: Vec<Vec<f32>> = x
        .iter()
        .map(|r| pipeline.transform(r).expect("rows of the pipeline's width"))
        .collect();
    let f = train(&config.train, &inputs, &y, &va, 4, device);
    Ok(Fitted {
        report: FitReport {
            segments: rows.len(),
            balanced_segments: x.len(),
            selected: pipeline
                .selected_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            epochs: f.loss_curve.len(),
            converged: f.converged,
            final_loss: f.loss_curve.last().copied().unwrap_or(f64::NAN),
            loss_curve: f.loss_curve,
        },
        model: f.model,
        pipeline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancing_keeps_the_smallest_class_count_of_each() {
        let labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3];
        let balance = |labels: &[usize], classes, seed| {
            balance_groups(labels, &vec![0; labels.len()], classes, seed)
        };
        let kept = balance(&labels, 4, 42);
        let mut counts = [0; 4];
        for &i in &kept {
            counts[labels[i]] += 1;
        }
        assert_eq!(counts, [2; 4]);
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(kept, balance(&labels, 4, 42), "seeded");
        assert_ne!(
            (0..20)
                .map(|s| balance(&labels, 4, s))
                .collect::<std::collections::HashSet<_>>()
                .len(),
            1,
            "the seed matters"
        );
    }

    #[test]
    fn grouped_balancing_keeps_the_smallest_cell_of_every_dataset_and_class() {
        // Dataset 0 has one segment a class, dataset 1 two or three.
        let labels = [0, 1, 2, 3, 0, 0, 1, 1, 2, 2, 2, 3, 3];
        let groups = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        let kept = balance_groups(&labels, &groups, 4, 7);
        let mut counts = [[0; 4]; 2];
        for &i in &kept {
            counts[groups[i]][labels[i]] += 1;
        }
        assert_eq!(counts, [[1; 4]; 2]);
    }
}
