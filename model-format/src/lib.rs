//! What the native trainer and the browser demo share.
//!
//! - [`quadrant`]: the four classes of Russell's valence–arousal plane.
//! - [`frontend`]: the audio front-end (mono, 16 kHz, the paper's segmentation), run
//!   unchanged by the trainer and, compiled to wasm, by the browser.
//! - [`sincnet`]: the SincNet model, runnable on any burn device;
//! - [`dsp`]: the mel scale and the frame constants the others share;
//! - [`features`]: handcrafted features (IS13 ComParE and Essentia-style) for the MLP
//!   baselines;
//! - [`mlp`]: the handcrafted-feature baseline's feature pipeline and network;
//! - [`bundle`]: the self-describing model file;
//! - [`inference`]: a bundle's network on a device, a song's input batches and its
//!   prediction;
//! - [`analysis`]: from window posteriors to segment and song predictions.

pub mod analysis;
pub mod bundle;
pub mod dsp;
pub mod features;
pub mod frontend;
pub mod inference;
pub mod mlp;
pub mod quadrant;
pub mod sincnet;

pub use frontend::{FrontEnd, FrontEndError, Segment};
pub use quadrant::Quadrant;
