//! On-disk cache of decoded, resampled songs, keyed by the content of the file.
//!
//! An entry holds a song's mono signal at the model rate. Its name is a hash of the file's
//! bytes and of the front-end settings, so a changed file or front-end never reads a stale
//! entry; entries carry a checksum, so a damaged one is detected, decoded afresh and replaced.
//! Entries are written atomically (temporary file, then rename): the cache survives killed
//! runs and is safe to delete at any time.

use super::decode::{AudioError, decode_bytes, read_file};
use crate::run::write_atomically;
use model_format::{FrontEnd, Segment};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped whenever decoding or resampling changes what an entry would hold.
pub(crate) const PIPELINE_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"MERPCM\0\x01";
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 8 + 8 + 32;

/// A song at the model rate, with facts about its source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Mono samples at the front-end's rate, not normalised.
    pub mono: Vec<f32>,
    /// The front-end's rate, in Hz.
    pub rate: u32,
    /// The file's own sample rate, in Hz.
    pub source_rate: u32,
    /// The file's channel count.
    pub source_channels: u32,
    /// The file's length in frames.
    pub source_frames: u64,
}

impl Decoded {
    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.source_frames as f64 / self.source_rate as f64
    }
}

/// What the cache did since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries read back.
    pub hits: u64,
    /// Files decoded (and stored, when the cache has a folder).
    pub misses: u64,
    /// Damaged entries found, decoded afresh and replaced.
    pub repaired: u64,
}

/// Decodes songs through an optional on-disk cache. Safe to share between threads.
pub struct DecodeCache {
    dir: Option<PathBuf>,
    front_end: FrontEnd,
    hits: AtomicU64,
    misses: AtomicU64,
    repaired: AtomicU64,
}

impl DecodeCache {
    /// A cache storing entries under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>, front_end: FrontEnd) -> Self {
        Self::with_dir(Some(dir.into()), front_end)
    }

    /// No cache: every load decodes.
    pub fn disabled(front_end: FrontEnd) -> Self {
        Self::with_dir(None, front_end)
    }

    fn with_dir(dir: Option<PathBuf>, front_end: FrontEnd) -> Self {
        DecodeCache {
            dir,
            front_end,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            repaired: AtomicU64::new(0),
        }
    }

    /// `$MER_CACHE_DIR`, else `$XDG_CACHE_HOME/mer/decoded`, else `~/.cache/mer/decoded`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("MER_CACHE_DIR") {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        base.join("mer").join("decoded")
    }

    /// The cache's folder, if it has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The front-end whose rate the entries are at.
    pub fn front_end(&self) -> &FrontEnd {
        &self.front_end
    }

    /// Counters since the cache was opened.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            repaired: self.repaired.load(Ordering::Relaxed),
        }
    }

    /// The song at `path`, mono at the model rate: from the cache when an intact entry for
    /// these bytes exists, else decoded, resampled and stored.
    pub fn load(&self, path: &Path) -> Result<Decoded, AudioError> {
        let bytes = read_file(path)?;
        let entry = self.dir.as_ref().map(|d| self.entry_path(d, &bytes));
        if let Some(entry) = &entry {
            match read_entry(entry, self.front_end.sample_rate) {
                Ok(Some(d)) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(d);
                }
                Ok(None) => {}
                Err(()) => {
                    self.repaired.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let pcm = decode_bytes(path, bytes)?;
        let mono = self
            .front_end
            .to_model_rate(pcm.as_pcm())
            .map_err(|e| AudioError::front_end(path, e))?;
        let decoded = Decoded {
            mono,
            rate: self.front_end.sample_rate,
            source_rate: pcm.sample_rate,
            source_channels: pcm.channels as u32,
            source_frames: pcm.frames() as u64,
        };
        self.misses.fetch_add(1, Ordering::Relaxed);
        if let Some(entry) = &entry {
            // A cache that cannot be written only costs speed.
            let _ = write_entry(entry, &decoded);
        }
        Ok(decoded)
    }

    /// [`DecodeCache::load`], then the front-end's segmentation (which rejects silent and
    /// too short songs).
    pub fn load_segments(&self, path: &Path) -> Result<(Decoded, Vec<Segment>), AudioError> {
        let d = self.load(path)?;
        let segments = self
            .front_end
            .segment(&d.mono)
            .map_err(|e| AudioError::front_end(path, e))?;
        Ok((d, segments))
    }

    /// The same cache folder for another front-end (another model rate keys other entries).
    pub fn with_front_end(&self, front_end: FrontEnd) -> DecodeCache {
        Self::with_dir(self.dir.clone(), front_end)
    }

    fn entry_path(&self, dir: &Path, bytes: &[u8]) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(&PIPELINE_VERSION.to_le_bytes());
        h.update(&self.front_end.sample_rate.to_le_bytes());
        h.update(bytes);
        let key = h.finalize().to_hex();
        dir.join(&key[..2]).join(format!("{key}.pcm"))
    }
}

/// `Ok(None)` when there is no entry, `Err(())` when it exists but is damaged.
fn read_entry(path: &Path, rate: u32) -> Result<Option<Decoded>, ()> {
    match fs::read(path) {
        Ok(bytes) => parse_entry(&bytes, rate).map(Some).ok_or(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(()),
    }
}

/// The decoded song an entry's bytes hold, or `None` when they are not a whole entry at
/// `rate`: a wrong magic, rate, length or checksum.
pub fn parse_entry(bytes: &[u8], rate: u32) -> Option<Decoded> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
    let (entry_rate, source_rate, source_channels) = (u32_at(8), u32_at(12), u32_at(16));
    let (source_frames, n) = (u64_at(20), u64_at(28));
    let data = &bytes[HEADER_LEN..];
    if entry_rate != rate
        || data.len() as u64 != n.checked_mul(4)?
        || blake3::hash(data).as_bytes() != &bytes[36..HEADER_LEN]
    {
        return None;
    }
    let mono = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    Some(Decoded {
        mono,
        rate,
        source_rate,
        source_channels,
        source_frames,
    })
}

/// An entry's bytes for `d` (what [`parse_entry`] reads back).
pub fn entry_bytes(d: &Decoded) -> Vec<u8> {
    let data: Vec<u8> = d.mono.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut out = Vec::with_capacity(HEADER_LEN + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&d.rate.to_le_bytes());
    out.extend_from_slice(&d.source_rate.to_le_bytes());
    out.extend_from_slice(&d.source_channels.to_le_bytes());
    out.extend_from_slice(&d.source_frames.to_le_bytes());
    out.extend_from_slice(&(d.mono.len() as u64).to_le_bytes());
    out.extend_from_slice(blake3::hash(&data).as_bytes());
    out.extend_from_slice(&data);
    out
}

fn write_entry(path: &Path, d: &Decoded) -> std::io::Result<()> {
    write_atomically(path, &entry_bytes(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_tone(path: &Path, freq: f32, seconds: f32) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(44_100.0 * seconds) as usize {
            let v =
                (0.5 * (std::f32::consts::TAU * freq * i as f32 / 44_100.0).sin() * 32767.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for sub in fs::read_dir(dir).unwrap() {
            for e in fs::read_dir(sub.unwrap().path()).unwrap() {
                v.push(e.unwrap().path());
            }
        }
        v
    }

    #[test]
    fn second_load_hits_and_matches() {
        let tmp = tempfile::tempdir().unwrap();
        let song = tmp.path().join("a.wav");
        write_tone(&song, 440.0, 1.0);
        let cache = DecodeCache::new(tmp.path().join("cache"), FrontEnd::default());
        let first = cache.load(&song).unwrap();
        let second = cache.load(&song).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.mono.len(), 16_000);
        assert_eq!((first.source_rate, first.source_channels), (44_100, 2));
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 1,
                misses: 1,
                repaired: 0
            }
        );
        // A new cache over the same folder (a restart) reads the entry back.
        let reopened = DecodeCache::new(tmp.path().join("cache"), FrontEnd::default());
        assert_eq!(reopened.load(&song).unwrap(), first);
        assert_eq!(reopened.stats().hits, 1);
    }

    #[test]
    fn changed_file_is_never_served_stale() {
        let tmp = tempfile::tempdir().unwrap();
        let song = tmp.path().join("a.wav");
        let cache = DecodeCache::new(tmp.path().join("cache"), FrontEnd::default());
        write_tone(&song, 440.0, 1.0);
        let before = cache.load(&song).unwrap();
        write_tone(&song, 880.0, 1.0);
        let after = cache.load(&song).unwrap();
        assert_ne!(before.mono, after.mono);
        assert_eq!(cache.stats().misses, 2);
        // Another front-end rate keys other entries.
        let other = FrontEnd {
            sample_rate: 8_000,
            ..FrontEnd::default()
        };
        let cache8 = DecodeCache::new(tmp.path().join("cache"), other);
        assert_eq!(cache8.load(&song).unwrap().mono.len(), 8_000);
        assert_eq!(cache8.stats().misses, 1);
    }

    #[test]
    fn damaged_entry_is_detected_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let song = tmp.path().join("a.wav");
        write_tone(&song, 440.0, 1.0);
        let dir = tmp.path().join("cache");
        let cache = DecodeCache::new(&dir, FrontEnd::default());
        let good = cache.load(&song).unwrap();
        let entry = entries(&dir).pop().unwrap();
        // Flip one sample's bytes, then truncate: both are caught.
        let mut bytes = fs::read(&entry).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        fs::write(&entry, &bytes).unwrap();
        assert_eq!(cache.load(&song).unwrap(), good);
        fs::write(&entry, &bytes[..100]).unwrap();
        assert_eq!(cache.load(&song).unwrap(), good);
        assert_eq!(cache.stats().repaired, 2);
        // The replacement is intact again.
        assert_eq!(cache.load(&song).unwrap(), good);
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn errors_are_not_cached_and_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = tmp.path().join("notes.mp3");
        fs::write(&bad, b"these are not the samples you are looking for").unwrap();
        let cache = DecodeCache::new(tmp.path().join("cache"), FrontEnd::default());
        let err = cache.load(&bad).unwrap_err();
        assert!(
            err.to_string().starts_with(&bad.display().to_string()),
            "{err}"
        );
        assert!(!tmp.path().join("cache").exists());
    }
}
