//! The browser demo: a person drops a song and sees where it sits on Russell's circumplex.
//!
//! This is the shell: the page, its layout and the circumplex with the four quadrants. Audio
//! decoding and model inference arrive with the SincNet model bundle.

pub mod circumplex;

use leptos::prelude::*;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main class="page">
            <header>
                <h1>"Music emotion recognition"</h1>
                <p class="lede">
                    "Which quadrant of Russell's valence–arousal plane does a song sit in? "
                    "Everything runs in this page: the song never leaves your machine."
                </p>
            </header>
            <section class="drop" aria-label="Song input">
                <p>"Song analysis arrives with the first trained model bundle."</p>
            </section>
            <circumplex::Circumplex />
        </main>
    }
}
