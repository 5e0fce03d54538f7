//! Classification metrics as the paper reports them: weighted precision, recall, F1 (each
//! class weighted by its support, scikit-learn's `average="weighted"`, 0 for a class never
//! predicted) and accuracy, from a confusion matrix; and, for a model that regresses valence
//! and arousal, their mean absolute error and Pearson correlation against the ratings.

use model_format::Quadrant;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Rows: true class; columns: predicted class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion(pub [[u64; 4]; 4]);

/// Weighted scores in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Support-weighted precision.
    pub precision: f64,
    /// Support-weighted recall.
    pub recall: f64,
    /// Support-weighted F1.
    pub f1: f64,
    /// Share of items classified correctly.
    pub accuracy: f64,
    /// Items scored.
    pub support: u64,
}

impl Confusion {
    /// Counts one item of class `truth` predicted as `predicted`.
    pub fn add(&mut self, truth: Quadrant, predicted: Quadrant) {
        self.0[truth.index()][predicted.index()] += 1;
    }

    /// Items counted.
    pub fn total(&self) -> u64 {
        self.0.iter().flatten().sum()
    }

    /// The weighted scores of the matrix.
    pub fn scores(&self) -> Scores {
        let m = &self.0;
        let total = self.total();
        let (mut p, mut r, mut f) = (0.0, 0.0, 0.0);
        let mut correct = 0;
        for (c, row) in m.iter().enumerate() {
            let tp = row[c] as f64;
            let support = row.iter().sum::<u64>() as f64;
            let predicted = (0..4).map(|t| m[t][c]).sum::<u64>() as f64;
            let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
            let recall = if support > 0.0 { tp / support } else { 0.0 };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            p += precision * support;
            r += recall * support;
            f += f1 * support;
            correct += row[c];
        }
        let n = total.max(1) as f64;
        Scores {
            precision: p / n,
            recall: r / n,
            f1: f / n,
            accuracy: correct as f64 / n,
            support: total,
        }
    }

    /// The matrix as a small table.
    pub fn render(&self) -> String {
        let mut s = String::from("true\\pred     Q1     Q2     Q3     Q4\n");
        for q in Quadrant::ALL {
            let row = &self.0[q.index()];
            let _ = writeln!(
                s,
                "{:<9} {:>6} {:>6} {:>6} {:>6}",
                q.name(),
                row[0],
                row[1],
                row[2],
                row[3]
            );
        }
        s
    }
}

impl Scores {
    /// `P/R/F/A` in percent, as the poster prints them.
    pub fn percent(&self) -> String {
        format!(
            "{:.0}/{:.0}/{:.0}/{:.0}",
            100.0 * self.precision,
            100.0 * self.recall,
            100.0 * self.f1,
            100.0 * self.accuracy
        )
    }
}

/// Confusion matrices and weighted scores per segment (the paper's unit) and per song.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Confusion over segments.
    pub segment: Confusion,
    /// Confusion over songs.
    pub song: Confusion,
    /// Scores of [`Evaluation::segment`].
    pub segment_scores: Scores,
    /// Scores of [`Evaluation::song`].
    pub song_scores: Scores,
    /// Song-level valence and arousal against the ratings, for a model that regresses them
    /// and songs that are rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub va: Option<VaScores>,
}

/// Regressed valence and arousal against ratings, in [−1, 1] units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaScores {
    /// Rated songs compared.
    pub songs: usize,
    /// Mean absolute error of valence.
    pub valence_mae: f64,
    /// Mean absolute error of arousal.
    pub arousal_mae: f64,
    /// Pearson correlation of valence (`None` where either side is constant).
    pub valence_r: Option<f64>,
    /// Pearson correlation of arousal.
    pub arousal_r: Option<f64>,
}

impl VaScores {
    /// Scores of `(predicted, rated)` `[valence, arousal]` pairs; `None` for no pairs.
    pub fn of(pairs: &[([f32; 2], [f32; 2])]) -> Option<VaScores> {
        if pairs.is_empty() {
            return None;
        }
        let axis = |k: usize| -> (Vec<f64>, Vec<f64>) {
            pairs
                .iter()
                .map(|(p, r)| (p[k] as f64, r[k] as f64))
                .unzip()
        };
        let mae = |(p, r): &(Vec<f64>, Vec<f64>)| {
            p.iter().zip(r).map(|(a, b)| (a - b).abs()).sum::<f64>() / p.len() as f64
        };
        let (v, a) = (axis(0), axis(1));
        Some(VaScores {
            songs: pairs.len(),
            valence_mae: mae(&v),
            arousal_mae: mae(&a),
            valence_r: pearson(&v.0, &v.1),
            arousal_r: pearson(&a.0, &a.1),
        })
    }
}

/// Pearson's r; `None` where either series is constant.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

impl Evaluation {
    /// Both matrices with their scores, and the valence–arousal scores if any.
    pub fn new(segment: Confusion, song: Confusion, va: Option<VaScores>) -> Self {
        Evaluation {
            segment_scores: segment.scores(),
            song_scores: song.scores(),
            segment,
            song,
            va,
        }
    }

    /// Scores and both matrices as text.
    pub fn render(&self) -> String {
        let line = |name: &str, s: &Scores| {
            format!(
                "{name:<8} precision {:.3}  recall {:.3}  F1 {:.3}  accuracy {:.3}  (n = {})\n",
                s.precision, s.recall, s.f1, s.accuracy, s.support
            )
        };
        let r = |r: Option<f64>| r.map_or("n/a".into(), |r| format!("{r:.3}"));
        let va = self.va.map_or(String::new(), |v| {
            format!(
                "valence  MAE {:.3}  r {}   arousal  MAE {:.3}  r {}  (n = {} rated songs)\n",
                v.valence_mae,
                r(v.valence_r),
                v.arousal_mae,
                r(v.arousal_r),
                v.songs
            )
        });
        format!(
            "{}{}{va}\nsegments:\n{}\nsongs:\n{}",
            line("segment", &self.segment_scores),
            line("song", &self.song_scores),
            self.segment.render(),
            self.song.render()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published confusion matrices of protocol.md give back the published scores.
    #[test]
    fn published_matrices_give_published_scores() {
        let cases: [([[u64; 4]; 4], &str); 6] = [
            // MLP IS13 within-dataset.
            (
                [
                    [111, 37, 7, 29],
                    [29, 153, 1, 9],
                    [28, 5, 71, 80],
                    [16, 6, 19, 119],
                ],
                "65/63/62/63",
            ),
            (
                [
                    [18, 1, 28, 5],
                    [13, 3, 46, 10],
                    [11, 10, 61, 10],
                    [25, 6, 38, 3],
                ],
                "23/30/23/30",
            ),
            (
                [
                    [54, 1, 16, 1],
                    [8, 73, 11, 12],
                    [9, 1, 45, 17],
                    [4, 0, 14, 54],
                ],
                "74/71/71/71",
            ),
            // SincNet 200 ms within-dataset.
            (
                [
                    [113, 23, 4, 44],
                    [28, 154, 1, 9],
                    [24, 8, 12, 140],
                    [14, 8, 7, 131],
                ],
                "59/57/52/57",
            ),
            (
                [
                    [25, 27, 0, 0],
                    [20, 52, 0, 0],
                    [29, 63, 0, 0],
                    [36, 36, 0, 0],
                ],
                "11/27/16/27",
            ),
            (
                [
                    [68, 1, 3, 0],
                    [9, 89, 5, 1],
                    [28, 11, 33, 0],
                    [13, 28, 20, 11],
                ],
                "68/63/58/63",
            ),
        ];
        for (m, want) in cases {
            assert_eq!(Confusion(m).scores().percent(), want, "{m:?}");
        }
    }

    #[test]
    fn valence_arousal_scores() {
        let pairs = [
            ([0.5, 0.0], [0.4, 0.2]),
            ([-0.5, 0.0], [-0.2, 0.2]),
            ([0.1, 0.0], [0.0, -0.2]),
        ];
        let s = VaScores::of(&pairs).unwrap();
        assert_eq!(s.songs, 3);
        assert!((s.valence_mae - 0.5 / 3.0).abs() < 1e-6, "{s:?}");
        assert!((s.arousal_mae - 0.2).abs() < 1e-6);
        assert!(s.valence_r.unwrap() > 0.9);
        assert_eq!(
            s.arousal_r, None,
            "a constant prediction has no correlation"
        );
        assert_eq!(VaScores::of(&[]), None);
    }

    #[test]
    fn perfect_and_empty() {
        let mut c = Confusion::default();
        for q in Quadrant::ALL {
            c.add(q, q);
        }
        let s = c.scores();
        assert_eq!(
            (s.precision, s.recall, s.f1, s.accuracy, s.support),
            (1.0, 1.0, 1.0, 1.0, 4)
        );
        assert_eq!(Confusion::default().scores().accuracy, 0.0);
    }
}
