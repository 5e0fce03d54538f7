//! Seeded class balancing and the song-level, stratified train/test split.
//!
//! The split is over songs, before segmentation, so no song has segments on both sides. It is
//! written to a split manifest (JSON) that later runs read to repeat an experiment exactly.

use super::{DatasetError, Song, count};
use model_format::Quadrant;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Version of the split manifest's format.
pub const SPLIT_FORMAT: u32 = 1;

/// Between the datasets' names of a [`Split::mixed`] split.
pub const MIXED_SEPARATOR: &str = " + ";

/// Songs of one quadrant, shuffled by a generator derived from `seed` and the quadrant, so
/// the order of one class does not depend on the others.
fn shuffled_class(songs: &[Song], q: Quadrant, seed: u64) -> Vec<Song> {
    let mut class: Vec<Song> = songs.iter().filter(|s| s.quadrant == q).cloned().collect();
    class.sort_by(|a, b| a.id.cmp(&b.id));
    let stream = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(q.index() as u64 + 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ stream);
    class.shuffle(&mut rng);
    class
}

/// Down-samples every quadrant to the size of the smallest one (the paper balances CH-818
/// this way), choosing songs at random with `seed`. Sorted by id.
pub fn balance(songs: &[Song], seed: u64) -> Vec<Song> {
    let smallest = count(songs).into_iter().min().unwrap_or(0);
    let mut out: Vec<Song> = Quadrant::ALL
        .iter()
        .flat_map(|&q| shuffled_class(songs, q, seed).into_iter().take(smallest))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// A song in a split manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitSong {
    /// The song's [`Song::id`].
    pub id: String,
    /// The song's label.
    pub quadrant: Quadrant,
}

/// A song-level train/test split, as written to and read from a split manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// The manifest's format version ([`SPLIT_FORMAT`]).
    pub format: u32,
    /// The dataset's layout and folder, for the record.
    pub dataset: String,
    /// Seed of the shuffles (and of the balancing).
    pub seed: u64,
    /// Share of each quadrant's songs held out for testing.
    pub test_fraction: f64,
    /// Whether the classes were balanced (see [`balance`]) before splitting.
    pub balanced: bool,
    /// Training songs, sorted by id.
    pub train: Vec<SplitSong>,
    /// Test songs, sorted by id.
    pub test: Vec<SplitSong>,
}

impl Split {
    /// Splits `songs` so that each quadrant has `round(n · test_fraction)` test songs (at least
    /// one and at most `n − 1` when the class has two songs or more).
    pub fn stratified(
        dataset: &str,
        songs: &[Song],
        test_fraction: f64,
        seed: u64,
        balanced: bool,
    ) -> Split {
        let mut train = Vec::new();
        let mut test = Vec::new();
        for q in Quadrant::ALL {
            let class = shuffled_class(songs, q, seed.wrapping_add(1));
            let n = class.len();
            let mut n_test = (n as f64 * test_fraction).round() as usize;
            if n >= 2 {
                n_test = n_test.clamp(1, n - 1);
            }
            for (i, s) in class.into_iter().enumerate() {
                let entry = SplitSong {
                    id: s.id,
                    quadrant: s.quadrant,
                };
                if i < n_test {
                    test.push(entry)
                } else {
                    train.push(entry)
                }
            }
        }
        train.sort_by(|a, b| a.id.cmp(&b.id));
        test.sort_by(|a, b| a.id.cmp(&b.id));
        Split {
            format: SPLIT_FORMAT,
            dataset: dataset.to_string(),
            seed,
            test_fraction,
            balanced,
            train,
            test,
        }
    }

    /// A new split of a whole dataset, optionally balanced first (see [`balance`]).
    pub fn of_dataset(ds: &super::Dataset, test_fraction: f64, seed: u64, balanced: bool) -> Split {
        let songs = if balanced {
            balance(&ds.songs, seed)
        } else {
            ds.songs.clone()
        };
        let name = format!("{} {}", ds.layout.name(), ds.root.display());
        Split::stratified(&name, &songs, test_fraction, seed, balanced)
    }

    /// The splits of several datasets as one, for a model trained on all of them (mixed
    /// training): each song's id is prefixed with its part's key and `/`, and the datasets'
    /// names are joined by [`MIXED_SEPARATOR`].
    pub fn mixed(parts: &[(&str, &Split)]) -> Split {
        let prefixed = |key: &str, side: &[SplitSong]| -> Vec<SplitSong> {
            side.iter()
                .map(|s| SplitSong {
                    id: format!("{key}/{}", s.id),
                    quadrant: s.quadrant,
                })
                .collect()
        };
        let names: Vec<&str> = parts.iter().map(|(_, s)| s.dataset.as_str()).collect();
        Split {
            format: SPLIT_FORMAT,
            dataset: names.join(MIXED_SEPARATOR),
            seed: parts.first().map_or(0, |(_, s)| s.seed),
            test_fraction: parts.first().map_or(0.0, |(_, s)| s.test_fraction),
            balanced: parts.iter().any(|(_, s)| s.balanced),
            train: parts
                .iter()
                .flat_map(|(k, s)| prefixed(k, &s.train))
                .collect(),
            test: parts
                .iter()
                .flat_map(|(k, s)| prefixed(k, &s.test))
                .collect(),
        }
    }

    /// The datasets the split is over: one, or several for a [`Split::mixed`] one.
    pub fn datasets(&self) -> Vec<String> {
        self.dataset
            .split(MIXED_SEPARATOR)
            .map(str::to_string)
            .collect()
    }

    /// Writes the manifest as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a split serialises");
        crate::run::write_atomically(path, json.as_bytes())
    }

    /// Reads a manifest, checking its version and that no song is on both sides.
    pub fn load(path: &Path) -> Result<Split, DatasetError> {
        Self::load_hashed(path).map(|(split, _)| split)
    }

    /// [`Split::load`], with the BLAKE3 hash of the file: how a bundle's provenance names
    /// its split.
    pub fn load_hashed(path: &Path) -> Result<(Split, String), DatasetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DatasetError::new(path, format!("cannot read: {e}")))?;
        let hash = blake3::hash(text.as_bytes()).to_hex().to_string();
        let split = Split::parse(&text).map_err(|e| DatasetError::new(path, e))?;
        Ok((split, hash))
    }

    /// Reads a manifest's text, checking its version and that no song is on both sides.
    pub fn parse(text: &str) -> Result<Split, String> {
        let split: Split =
            serde_json::from_str(text).map_err(|e| format!("not a split manifest: {e}"))?;
        if split.format != SPLIT_FORMAT {
            return Err(format!(
                "split manifest format {} (this trainer reads {SPLIT_FORMAT})",
                split.format
            ));
        }
        let train: BTreeSet<&str> = split.train.iter().map(|s| s.id.as_str()).collect();
        if let Some(s) = split.test.iter().find(|s| train.contains(s.id.as_str())) {
            return Err(format!("song {} is in both train and test", s.id));
        }
        Ok(split)
    }

    /// The dataset's songs on each side, checking that every listed song is still there
    /// with the same label.
    pub fn resolve(&self, songs: &[Song]) -> Result<(Vec<Song>, Vec<Song>), String> {
        let by_id: BTreeMap<&str, &Song> = songs.iter().map(|s| (s.id.as_str(), s)).collect();
        let pick = |side: &[SplitSong]| -> Result<Vec<Song>, String> {
            side.iter()
                .map(|e| match by_id.get(e.id.as_str()) {
                    Some(s) if s.quadrant == e.quadrant => Ok((*s).clone()),
                    Some(s) => Err(format!(
                        "song {} is {} in the split but {} in the dataset",
                        e.id, e.quadrant, s.quadrant
                    )),
                    None => Err(format!("song {} of the split is not in the dataset", e.id)),
                })
                .collect()
        };
        Ok((pick(&self.train)?, pick(&self.test)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn songs(per_class: [usize; 4]) -> Vec<Song> {
        let mut v = Vec::new();
        for q in Quadrant::ALL {
            for i in 0..per_class[q.index()] {
                v.push(Song {
                    id: format!("{q}-{i:03}"),
                    path: PathBuf::from(format!("{q}/{i}.wav")),
                    quadrant: q,
                    valence_arousal: None,
                });
            }
        }
        v
    }

    #[test]
    fn balance_downsamples_to_smallest_class_reproducibly() {
        let all = songs([30, 12, 20, 9]);
        let b = balance(&all, 42);
        assert_eq!(count(&b), [9, 9, 9, 9]);
        assert_eq!(b, balance(&all, 42));
        assert_ne!(b, balance(&all, 43));
        // Q4 is the smallest class: all of it is kept.
        assert_eq!(b.iter().filter(|s| s.quadrant == Quadrant::Q4).count(), 9);
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let all = songs([225, 225, 225, 225]);
        let s = Split::stratified("x", &all, 0.2, 7, false);
        assert_eq!(s.test.len(), 180);
        assert_eq!(s.train.len(), 720);
        for q in Quadrant::ALL {
            assert_eq!(s.test.iter().filter(|e| e.quadrant == q).count(), 45);
        }
        let train: BTreeSet<_> = s.train.iter().map(|e| &e.id).collect();
        assert!(s.test.iter().all(|e| !train.contains(&e.id)));
        assert_eq!(s, Split::stratified("x", &all, 0.2, 7, false));
        assert_ne!(s.test, Split::stratified("x", &all, 0.2, 8, false).test);
    }

    #[test]
    fn small_classes_keep_a_song_on_each_side() {
        let s = Split::stratified("x", &songs([2, 3, 4, 1]), 0.2, 1, false);
        let test_counts = Quadrant::ALL.map(|q| s.test.iter().filter(|e| e.quadrant == q).count());
        assert_eq!(test_counts, [1, 1, 1, 0]);
    }

    #[test]
    fn manifest_round_trips_and_rejects_overlap() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("split.json");
        let all = songs([10, 10, 10, 10]);
        let s = Split::stratified("x", &all, 0.25, 3, false);
        s.save(&path).unwrap();
        let back = Split::load(&path).unwrap();
        assert_eq!(back, s);
        let (train, test) = back.resolve(&all).unwrap();
        assert_eq!((train.len(), test.len()), (28, 12));

        let mut bad = s.clone();
        bad.test.push(bad.train[0].clone());
        bad.save(&path).unwrap();
        let err = Split::load(&path).unwrap_err();
        assert!(err.to_string().contains("in both train and test"), "{err}");

        let mut newer = s.clone();
        newer.format = SPLIT_FORMAT + 1;
        newer.save(&path).unwrap();
        assert!(
            Split::load(&path)
                .unwrap_err()
                .to_string()
                .contains("format")
        );
    }

    #[test]
    fn resolve_reports_missing_or_relabelled_songs() {
        let all = songs([4, 4, 4, 4]);
        let s = Split::stratified("x", &all, 0.25, 3, false);
        let mut changed = all.clone();
        changed.retain(|x| x.id != s.test[0].id);
        assert!(
            s.resolve(&changed)
                .unwrap_err()
                .contains("not in the dataset")
        );
        let moved = s.train.iter().find(|e| e.quadrant != Quadrant::Q4).unwrap();
        let mut relabelled = all.clone();
        relabelled
            .iter_mut()
            .find(|x| x.id == moved.id)
            .unwrap()
            .quadrant = Quadrant::Q4;
        let err = s.resolve(&relabelled).unwrap_err();
        assert!(err.contains("in the split but Q4 in the dataset"), "{err}");
    }
}
