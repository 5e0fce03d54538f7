//! Reading songs: decoding any supported file, the on-disk cache of decoded audio, and
//! excerpts of recordings.

pub mod cache;
pub mod decode;
pub mod excerpt;

pub use cache::{CacheStats, DecodeCache, Decoded};
pub use decode::{AudioError, DecodedPcm, decode_bytes, decode_file, is_audio_path, read_file};

use std::path::{Path, PathBuf};

/// `path` itself if it is a file, else every audio file under it (recursively), sorted.
pub fn audio_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_audio_path(&p) {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}
