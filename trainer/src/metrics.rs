//! Classification metrics as the paper reports them: weighted precision, recall, F1 (each
//! class weighted by its support, scikit-learn's `average="weighted"`, 0 for a class never
//! predicted) and accuracy, from a confusion matrix.

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
}

impl Evaluation {
    /// Both matrices with their scores.
    pub fn new(segment: Confusion, song: Confusion) -> Self {
        Evaluation {
            segment_scores: segment.scores(),
            song_scores: song.scores(),
            segment,
            song,
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
        format!(
            "{}{}\nsegments:\n{}\nsongs:\n{}",
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
