//! The browser demo: a person drops a song and sees where it sits on Russell's circumplex.
//! Nothing leaves the page: the song is decoded by the browser, prepared by the shared
//! front-end and classified by the bundled model, on WebGPU where there is one.
//!
//! - `page` (WebAssembly only): the Leptos app, its engine and its views;
//! - [`format`], [`geometry`]: the text and the drawing coordinates the views show, free of
//!   the DOM so that native tests cover them without building the app.

pub mod format;
pub mod geometry;
#[cfg(target_arch = "wasm32")]
pub mod page;

#[cfg(target_arch = "wasm32")]
pub use page::App;
