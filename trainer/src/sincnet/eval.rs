//! Sliding-window evaluation at segment and song level.

use super::data::SongSegments;
use super::infer;
use crate::metrics::{Confusion, Scores};
use burn::prelude::*;
use indicatif::ProgressBar;
use model_format::analysis::{WindowPlan, aggregate};
use model_format::sincnet::SincNet;
use serde::{Deserialize, Serialize};

/// Confusion matrices and weighted scores per segment (the paper's unit) and per song.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub segment: Confusion,
    pub song: Confusion,
    pub segment_scores: Scores,
    pub song_scores: Scores,
}

/// Evaluates `model` (in inference mode) on `songs` with windows of `wlen` every `shift`
/// samples, `batch` windows per forward pass.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    model: &SincNet,
    songs: &[SongSegments],
    wlen: usize,
    shift: usize,
    batch: usize,
    sample_rate: u32,
    device: &Device,
    progress: &ProgressBar,
) -> Evaluation {
    let mut segment = Confusion::default();
    let mut song = Confusion::default();
    progress.set_length(songs.len() as u64);
    for s in songs {
        let plan = WindowPlan::new(&s.segments, wlen, shift);
        let lp = infer(model, &plan, &s.segments, batch, device);
        let p = aggregate(&plan, &s.segments, &lp, sample_rate);
        for seg in &p.segments {
            segment.add(s.quadrant, seg.quadrant);
        }
        song.add(s.quadrant, p.quadrant);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Evaluation {
        segment_scores: segment.scores(),
        song_scores: song.scores(),
        segment,
        song,
    }
}

impl Evaluation {
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
