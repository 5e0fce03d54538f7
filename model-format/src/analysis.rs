//! From a song's segments to its prediction: which windows a model sees, and how window
//! log-posteriors add up to segment and song decisions (the paper's rule: a segment's class is
//! the argmax of its windows' summed log-softmax; a song's, of the sum over its segments).
//!
//! The forward pass itself is the caller's (synchronous natively, asynchronous in the browser).

use crate::{Quadrant, Segment};
use serde::{Deserialize, Serialize};

/// The windows cut from a song's segments: `wlen` samples every `shift` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowPlan {
    /// Window length, samples.
    pub wlen: usize,
    /// Hop between window starts, samples (at least 1).
    pub shift: usize,
    /// `(segment, start)` of every window, segment by segment.
    pub windows: Vec<(usize, usize)>,
}

impl WindowPlan {
    /// Every window that fits in each segment, starting at 0. A segment shorter than one
    /// window gets one window, zero-padded.
    pub fn new(segments: &[Segment], wlen: usize, shift: usize) -> WindowPlan {
        let shift = shift.max(1);
        let mut windows = Vec::new();
        for (s, seg) in segments.iter().enumerate() {
            let n = if seg.samples.len() < wlen {
                1
            } else {
                (seg.samples.len() - wlen) / shift + 1
            };
            windows.extend((0..n).map(|k| (s, k * shift)));
        }
        WindowPlan {
            wlen,
            shift,
            windows,
        }
    }

    /// Samples of windows `range`, concatenated: `[range.len() · wlen]`.
    pub fn gather(&self, segments: &[Segment], range: std::ops::Range<usize>) -> Vec<f32> {
        let mut out = Vec::with_capacity(range.len() * self.wlen);
        for &(s, start) in &self.windows[range] {
            let x = &segments[s].samples;
            let end = (start + self.wlen).min(x.len());
            out.extend_from_slice(&x[start..end]);
            out.resize(out.len() + self.wlen - (end - start), 0.0);
        }
        out
    }
}

/// One segment's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentPrediction {
    /// Where the segment starts in the song, seconds.
    pub start_seconds: f64,
    /// Where the segment ends in the song, seconds.
    pub end_seconds: f64,
    /// The predicted quadrant: the argmax of [`SegmentPrediction::log_prob_sum`].
    pub quadrant: Quadrant,
    /// Softmax of the mean window log-posterior.
    pub probabilities: [f32; 4],
    /// Sum of the windows' log-posteriors.
    pub log_prob_sum: [f64; 4],
    /// Windows the model saw (1 for a model that reads whole segments).
    pub windows: usize,
    /// The segment's valence, in the unit disc with [`SegmentPrediction::arousal`]: the
    /// mean of its windows' regressed values, or its probabilities' point ([`PointSource`]).
    pub valence: f32,
    /// The segment's arousal, like [`SegmentPrediction::valence`].
    pub arousal: f32,
}

/// Where a prediction's valence–arousal point comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PointSource {
    /// The model's valence–arousal regression head, averaged over the windows.
    Regression,
    /// The quadrant probabilities, weighting each quadrant's centre (a model without a
    /// regression head).
    Probabilities,
}

/// A song's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SongPrediction {
    /// The predicted quadrant: the argmax of the segments' summed log-posteriors.
    pub quadrant: Quadrant,
    /// Softmax of the mean window log-posterior over the whole song (a segment counting as one
    /// window for a model that reads whole segments).
    pub probabilities: [f32; 4],
    /// The song's valence; with [`SongPrediction::arousal`], a point in the unit disc (the
    /// drawn circumplex), from the source [`SongPrediction::point`] names.
    pub valence: f32,
    /// The song's arousal, like [`SongPrediction::valence`].
    pub arousal: f32,
    /// Where the valence–arousal point comes from.
    pub point: PointSource,
    /// Each segment's verdict, in song order.
    pub segments: Vec<SegmentPrediction>,
}

fn argmax(x: &[f64; 4]) -> Quadrant {
    let mut best = 0;
    for i in 1..4 {
        if x[i] > x[best] {
            best = i;
        }
    }
    Quadrant::from_index(best).expect("four classes")
}

fn softmax_of_mean(sum: &[f64; 4], n: usize) -> [f32; 4] {
    let mean = sum.map(|v| v / n.max(1) as f64);
    let max = mean.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e = mean.map(|v| (v - max).exp());
    let z: f64 = e.iter().sum();
    e.map(|v| (v / z) as f32)
}

/// The valence–arousal point of quadrant probabilities: each quadrant's centre, on the unit
/// circle's diagonal, weighted by its probability, so the point is always inside the disc.
pub fn valence_arousal(p: &[f32; 4]) -> (f32, f32) {
    let mut v = 0.0;
    let mut a = 0.0;
    for q in Quadrant::ALL {
        let w = p[q.index()] * std::f32::consts::FRAC_1_SQRT_2;
        v += if q.positive_valence() { w } else { -w };
        a += if q.high_arousal() { w } else { -w };
    }
    into_disc(v, a)
}

/// `(valence, arousal)` moved onto the unit circle along its radius when outside it (a
/// regression head's tanh outputs fill the square).
pub fn into_disc(valence: f32, arousal: f32) -> (f32, f32) {
    let r = valence.hypot(arousal);
    if r > 1.0 {
        (valence / r, arousal / r)
    } else {
        (valence, arousal)
    }
}

/// The mean of `[n · 2]` valence–arousal rows, into the disc.
fn mean_point(rows: &[[f32; 2]]) -> (f32, f32) {
    let n = rows.len().max(1) as f32;
    let (v, a) = rows
        .iter()
        .fold((0.0, 0.0), |(v, a), r| (v + r[0], a + r[1]));
    into_disc(v / n, a / n)
}

/// A segment's or song's point: the mean of `va`'s rows when the model regresses them, else
/// the point of `probabilities`.
fn point(va: Option<&[[f32; 2]]>, probabilities: &[f32; 4]) -> (f32, f32) {
    match va {
        Some(rows) => mean_point(rows),
        None => valence_arousal(probabilities),
    }
}

/// Combines the window log-posteriors (`[windows · 4]`, in plan order) and, from a model
/// with a regression head, the windows' valence and arousal (`[windows]`, in plan order) into
/// segment and song predictions.
pub fn aggregate(
    plan: &WindowPlan,
    segments: &[Segment],
    log_probs: &[f32],
    va: Option<&[[f32; 2]]>,
    sample_rate: u32,
) -> SongPrediction {
    assert_eq!(
        log_probs.len(),
        plan.windows.len() * 4,
        "one row of 4 per window"
    );
    assert!(
        va.is_none_or(|v| v.len() == plan.windows.len()),
        "one valence-arousal row per window"
    );
    let mut sums = vec![[0f64; 4]; segments.len()];
    let mut counts = vec![0usize; segments.len()];
    for (&(s, _), row) in plan.windows.iter().zip(log_probs.chunks_exact(4)) {
        for c in 0..4 {
            sums[s][c] += row[c] as f64;
        }
        counts[s] += 1;
    }
    // Windows are in segment order: segment s's are first[s]..first[s] + counts[s].
    let mut first = 0;
    let segs: Vec<SegmentPrediction> = segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let (start_seconds, end_seconds) = seg.span(sample_rate);
            let probabilities = softmax_of_mean(&sums[i], counts[i]);
            let rows = va.map(|v| &v[first..first + counts[i]]);
            first += counts[i];
            let (valence, arousal) = point(rows, &probabilities);
            SegmentPrediction {
                start_seconds,
                end_seconds,
                quadrant: argmax(&sums[i]),
                probabilities,
                log_prob_sum: sums[i],
                windows: counts[i],
                valence,
                arousal,
            }
        })
        .collect();
    song_verdict(segs, plan.windows.len(), va)
}

/// The song's verdict from its segments' verdicts: the argmax of their summed log-posteriors,
/// the softmax of the mean over its `windows`, and the mean of the windows' `va` rows.
fn song_verdict(
    segments: Vec<SegmentPrediction>,
    windows: usize,
    va: Option<&[[f32; 2]]>,
) -> SongPrediction {
    let mut total = [0f64; 4];
    for s in &segments {
        for (t, v) in total.iter_mut().zip(s.log_prob_sum) {
            *t += v;
        }
    }
    let probabilities = softmax_of_mean(&total, windows);
    let (valence, arousal) = point(va, &probabilities);
    SongPrediction {
        quadrant: argmax(&total),
        probabilities,
        valence,
        arousal,
        point: match va {
            Some(_) => PointSource::Regression,
            None => PointSource::Probabilities,
        },
        segments,
    }
}

/// A song's verdict from one log-posterior per segment (a model that sees whole segments, like
/// the MLP), and one valence–arousal row per segment from a model with a regression head:
/// `spans` are the segments' `(start, end)` in seconds. Panics unless there is one row per
/// span, and at least one.
pub fn from_segments(
    spans: &[(f64, f64)],
    log_probs: &[[f32; 4]],
    va: Option<&[[f32; 2]]>,
) -> SongPrediction {
    assert!(
        !spans.is_empty()
            && spans.len() == log_probs.len()
            && va.is_none_or(|v| v.len() == spans.len()),
        "one row per segment"
    );
    let segments = spans
        .iter()
        .zip(log_probs)
        .enumerate()
        .map(|(i, (&(start_seconds, end_seconds), row))| {
            let sum = row.map(f64::from);
            let probabilities = softmax_of_mean(&sum, 1);
            let (valence, arousal) = point(va.map(|v| &v[i..i + 1]), &probabilities);
            SegmentPrediction {
                start_seconds,
                end_seconds,
                quadrant: argmax(&sum),
                probabilities,
                log_prob_sum: sum,
                windows: 1,
                valence,
                arousal,
            }
        })
        .collect();
    song_verdict(segments, spans.len(), va)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: usize, len: usize) -> Segment {
        Segment {
            start,
            samples: (0..len).map(|i| (start + i) as f32).collect(),
            gain: 1.0,
        }
    }

    #[test]
    fn windows_cover_each_segment() {
        let segs = [seg(0, 10), seg(10, 12), seg(22, 3)];
        let plan = WindowPlan::new(&segs, 4, 3);
        assert_eq!(
            plan.windows,
            vec![(0, 0), (0, 3), (0, 6), (1, 0), (1, 3), (1, 6), (2, 0)]
        );
        assert_eq!(plan.gather(&segs, 1..2), vec![3.0, 4.0, 5.0, 6.0]);
        assert_eq!(plan.gather(&segs, 6..7), vec![22.0, 23.0, 24.0, 0.0]);
    }

    #[test]
    fn segments_and_song_follow_summed_log_posteriors() {
        let segs = [seg(0, 16_000), seg(16_000, 16_000)];
        let plan = WindowPlan {
            wlen: 1,
            shift: 1,
            windows: vec![(0, 0), (0, 1), (1, 0)],
        };
        let lp = |p: [f32; 4]| p.map(f32::ln);
        let rows = [
            lp([0.7, 0.1, 0.1, 0.1]),
            lp([0.4, 0.5, 0.05, 0.05]),
            lp([0.1, 0.1, 0.1, 0.7]),
        ];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let p = aggregate(&plan, &segs, &flat, None, 16_000);
        assert_eq!(p.segments[0].quadrant, Quadrant::Q1);
        assert_eq!(p.segments[1].quadrant, Quadrant::Q4);
        assert_eq!(
            (p.segments[1].start_seconds, p.segments[1].end_seconds),
            (1.0, 2.0)
        );
        // Song: sum over all windows: Q1 ln .7+ln .4+ln .1 vs Q4 ln .1+ln .05+ln .7.
        assert_eq!(p.quadrant, Quadrant::Q1);
        assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p.valence > 0.0);
        assert_eq!(p.point, PointSource::Probabilities);
        // With a regression head, each segment's point is the mean of its windows', and the
        // song's the mean of all windows'.
        let va = [[0.2, 0.4], [0.4, 0.0], [-0.9, -0.3]];
        let p = aggregate(&plan, &segs, &flat, Some(&va), 16_000);
        let close = |x: f32, y: f32| (x - y).abs() < 1e-6;
        assert!(close(p.segments[0].valence, 0.3) && close(p.segments[0].arousal, 0.2));
        assert!(close(p.segments[1].valence, -0.9) && close(p.segments[1].arousal, -0.3));
        assert!(close(p.valence, -0.1) && close(p.arousal, 0.1 / 3.0));
        assert_eq!(p.point, PointSource::Regression);
    }

    #[test]
    fn points_stay_inside_the_circle() {
        let d = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(valence_arousal(&[1.0, 0.0, 0.0, 0.0]), (d, d));
        assert_eq!(valence_arousal(&[0.0, 0.0, 1.0, 0.0]), (-d, -d));
        assert_eq!(valence_arousal(&[0.0, 1.0, 0.0, 0.0]), (-d, d));
        assert_eq!(valence_arousal(&[0.25; 4]), (0.0, 0.0));
        // A regression head's corner lands on the circle, on its own diagonal.
        let (v, a) = into_disc(0.99, -0.99);
        assert!((v.hypot(a) - 1.0).abs() < 1e-6 && v > 0.0 && (v + a).abs() < 1e-6);
        assert_eq!(into_disc(0.3, -0.4), (0.3, -0.4));
        let (v, a) = mean_point(&[[1.0, 1.0], [1.0, 0.9]]);
        assert!(v.hypot(a) <= 1.0 + 1e-6);
    }

    #[test]
    fn segment_level_models_sum_their_segments() {
        let lp = |p: [f32; 4]| p.map(f32::ln);
        let p = from_segments(
            &[(0.0, 7.5), (7.5, 15.0)],
            &[lp([0.6, 0.2, 0.1, 0.1]), lp([0.1, 0.5, 0.1, 0.3])],
            None,
        );
        assert_eq!(p.segments[0].quadrant, Quadrant::Q1);
        assert_eq!(p.segments[1].quadrant, Quadrant::Q2);
        assert!((p.segments[1].probabilities[1] - 0.5).abs() < 1e-6);
        // ln .6 + ln .1 < ln .2 + ln .5: the song is Q2.
        assert_eq!(p.quadrant, Quadrant::Q2);
        assert_eq!(p.segments[1].end_seconds, 15.0);
    }
}
