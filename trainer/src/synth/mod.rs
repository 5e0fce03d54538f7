//! Synthetic datasets in the real layouts, so every test and demo runs without the corpora.
//!
//! [`music`] composes and renders a song for a quadrant in one of three musical cultures;
//! [`layout`] writes a whole dataset (audio and annotation files) as 4Q-EMOTION, CH-818 or
//! TR-MUSIC lays it out, in that corpus's culture (Western, Chinese, Turkish).

pub mod layout;
pub mod music;

pub use layout::{SynthOptions, write_dataset};
