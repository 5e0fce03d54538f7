//! Sliding-window evaluation at segment and song level.

use super::data::SongSegments;
use super::infer;
use crate::metrics::{Confusion, Evaluation};
use burn::prelude::*;
use indicatif::ProgressBar;
use model_format::analysis::{WindowPlan, aggregate};
use model_format::sincnet::SincNet;

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
    Evaluation::new(segment, song)
}
