//! What the native trainer and the browser demo share.
//!
//! - [`quadrant`]: the four classes of Russell's valence–arousal plane.
//! - [`frontend`]: the audio front-end (mono, 16 kHz, the paper's segmentation), run
//!   unchanged by the trainer and, compiled to wasm, by the browser.
//! - [`sincnet`]: the SincNet model, runnable on any burn device;
//! - [`features`]: handcrafted features (Essentia-style so far) for the MLP baselines;
//! - [`mlp`]: the handcrafted-feature baseline's feature pipeline and network;
//! - [`bundle`]: the self-describing model file;
//! - [`analysis`]: from window posteriors to segment and song predictions.

pub mod analysis;
pub mod bundle;
pub mod features;
pub mod frontend;
pub mod mlp;
pub mod quadrant;
pub mod sincnet;

pub use frontend::{FrontEnd, FrontEndError, Segment};
pub use quadrant::Quadrant;
