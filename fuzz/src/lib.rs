//! Fuzzing every parser that reads untrusted bytes: model bundles, the decode and feature
//! cache entries, split manifests, CH-818 annotation files, and audio files through decoding,
//! the front-end and both feature extractors.
//!
//! - [`targets`]: one function per parser, with valid seed inputs; none may panic;
//! - [`engine`]: a seeded mutation fuzzer over a target, guided by edge coverage in a build
//!   that has it ([`coverage`]; `scripts/fuzz`, for long runs), blind otherwise (the tests'
//!   short runs);
//! - [`journal`]: a run's files, written as it goes, and the replay of an input a run died on;
//! - `regressions/<target>/`: every input that once crashed a target, replayed by the tests.

pub mod coverage;
pub mod engine;
pub mod journal;
pub mod targets;
