//! Reading songs: decoding any supported file, and the on-disk cache of decoded audio.

pub mod cache;
pub mod decode;

pub use cache::{CacheStats, DecodeCache, Decoded};
pub use decode::{AudioError, DecodedPcm, decode_bytes, decode_file, is_audio_path};
