//! Songs as segments in memory, and the protocol's random training batches.

use crate::audio::DecodeCache;
use crate::dataset::{Issue, Song, prepare_songs};
use crate::models::Truth;
use indicatif::ProgressBar;
use model_format::{Quadrant, Segment};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A song ready for the model.
#[derive(Clone, Debug)]
pub struct SongSegments {
    /// The song's id in its dataset.
    pub id: String,
    /// The song's label.
    pub quadrant: Quadrant,
    /// The song's valence and arousal in [−1, 1], where it is rated.
    pub va: Option<[f32; 2]>,
    /// The front-end's segments of the song.
    pub segments: Vec<Segment>,
}

impl SongSegments {
    /// What the song is known to be.
    pub fn truth(&self) -> Truth {
        Truth {
            quadrant: self.quadrant,
            va: self.va,
        }
    }
}

/// Decodes (through the cache) and segments `songs` in parallel. Songs that cannot be read
/// are returned as issues; the others keep their order.
pub fn load(
    songs: &[Song],
    cache: &DecodeCache,
    progress: &ProgressBar,
) -> (Vec<SongSegments>, Vec<Issue>) {
    prepare_songs(songs, cache, progress, |s, _, segments| SongSegments {
        id: s.id.clone(),
        quadrant: s.quadrant,
        va: s.va(),
        segments,
    })
}

/// A training batch: `[batch · wlen]` samples, `[batch]` class indices and the rated windows'
/// valence and arousal.
pub struct Batch {
    /// The windows' samples, window after window: `[batch · wlen]`.
    pub samples: Vec<f32>,
    /// Each window's quadrant index: `[batch]`.
    pub labels: Vec<i64>,
    /// Each window's song's valence and arousal, 0 where unrated: `[batch · 2]`.
    pub va: Vec<f32>,
    /// 1 where the window's song is rated, else 0: `[batch]`.
    pub va_mask: Vec<f32>,
}

/// The protocol's sampling: `batch` segments drawn uniformly (with replacement), one random
/// window from each, scaled by a random amplitude in `amplitude`.
pub fn sample_batch(
    songs: &[SongSegments],
    batch: usize,
    wlen: usize,
    amplitude: (f32, f32),
    rng: &mut ChaCha8Rng,
) -> Batch {
    let n_segments: usize = songs.iter().map(|s| s.segments.len()).sum();
    let mut samples = Vec::with_capacity(batch * wlen);
    let mut labels = Vec::with_capacity(batch);
    let mut va = Vec::with_capacity(batch * 2);
    let mut va_mask = Vec::with_capacity(batch);
    for _ in 0..batch {
        let mut k = rng.random_range(0..n_segments);
        let (song, seg) = songs
            .iter()
            .find_map(|s| {
                if k < s.segments.len() {
                    Some((s, &s.segments[k]))
                } else {
                    k -= s.segments.len();
                    None
                }
            })
            .expect("index within the segments");
        let x = &seg.samples;
        let start = if x.len() > wlen {
            rng.random_range(0..=x.len() - wlen)
        } else {
            0
        };
        let gain = rng.random_range(amplitude.0..=amplitude.1);
        let end = (start + wlen).min(x.len());
        samples.extend(x[start..end].iter().map(|v| v * gain));
        samples.resize(samples.len() + wlen - (end - start), 0.0);
        labels.push(song.quadrant.index() as i64);
        va.extend(song.va.unwrap_or_default());
        va_mask.push(if song.va.is_some() { 1.0 } else { 0.0 });
    }
    Batch {
        samples,
        labels,
        va,
        va_mask,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn songs() -> Vec<SongSegments> {
        Quadrant::ALL
            .iter()
            .map(|&q| SongSegments {
                id: q.name().into(),
                quadrant: q,
                va: (q.index() % 2 == 0).then_some([q.index() as f32 / 4.0, 0.5]),
                segments: (0..4)
                    .map(|s| Segment {
                        start: s * 100,
                        samples: vec![q.index() as f32 + 1.0; 100],
                        gain: 1.0,
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn batches_match_labels_and_are_seeded() {
        let s = songs();
        let b = sample_batch(&s, 64, 30, (0.8, 1.2), &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!((b.samples.len(), b.labels.len()), (64 * 30, 64));
        for (w, &l) in b.samples.chunks(30).zip(&b.labels) {
            let level = l as f32 + 1.0;
            // One gain per window, within the range.
            let g = w[0] / level;
            assert!((0.8..=1.2).contains(&g));
            assert!(w.iter().all(|v| (v / level - g).abs() < 1e-6));
        }
        let again = sample_batch(&s, 64, 30, (0.8, 1.2), &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(again.samples, b.samples);
        assert_eq!((0..4).filter(|c| b.labels.contains(c)).count(), 4);
        // Rated songs' windows carry their ratings; the others are masked out.
        for (i, &l) in b.labels.iter().enumerate() {
            let rated = l % 2 == 0;
            assert_eq!(b.va_mask[i], if rated { 1.0 } else { 0.0 });
            let want = if rated {
                [l as f32 / 4.0, 0.5]
            } else {
                [0.0; 2]
            };
            assert_eq!(b.va[2 * i..2 * i + 2], want);
        }
    }
}
