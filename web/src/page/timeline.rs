//! The song under the circumplex: a playable waveform with each segment's quadrant over it.

use crate::format::{clock, envelope};
use leptos::html::Audio;
use leptos::prelude::*;
use model_format::analysis::SongPrediction;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 90.0;
const COLUMNS: usize = 300;

/// What the timeline draws of a song.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// Object URL of the dropped file, for the player.
    pub url: String,
    /// Duration, seconds.
    pub seconds: f64,
    /// Peak envelope of the mono signal.
    pub envelope: Vec<(f32, f32)>,
}

impl Track {
    /// The track of the file at `url`, `seconds` long, with the envelope of its `mono` signal.
    pub fn new(url: String, seconds: f64, mono: &[f32]) -> Track {
        Track {
            url,
            seconds,
            envelope: envelope(mono, COLUMNS),
        }
    }
}

/// Waveform, segment quadrants and a player; clicking the waveform seeks.
#[component]
pub fn Timeline(
    /// The song to draw and play.
    track: Track,
    /// The song's prediction, for the segment quadrants.
    prediction: SongPrediction,
) -> impl IntoView {
    let player = NodeRef::<Audio>::new();
    let now = RwSignal::new(0.0f64);
    let seconds = track.seconds.max(1e-3);
    let x_of = move |t: f64| t / seconds * WIDTH;
    let bands = prediction
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (x0, x1) = (x_of(s.start_seconds), x_of(s.end_seconds));
            let q = s.quadrant;
            view! {
                <g class=format!("band {}", q.name().to_lowercase())>
                    <rect x=x0 y=0 width=(x1 - x0).max(1.0) height=HEIGHT>
                        <title>{format!("segment {}: {} – {}, {} ({})", i + 1,
                            clock(s.start_seconds), clock(s.end_seconds), q, q.emotions())}</title>
                    </rect>
                    <text x=(x0 + x1) / 2.0 y=14 text-anchor="middle" class="band-label">
                        {q.name()}
                    </text>
                </g>
            }
        })
        .collect_view();
    let column = WIDTH / track.envelope.len().max(1) as f64;
    let mid = HEIGHT / 2.0;
    let wave = track
        .envelope
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let x = (i as f64 + 0.5) * column;
            format!(
                "M{x:.1} {:.1}V{:.1}",
                mid - hi as f64 * mid * 0.8,
                mid - lo as f64 * mid * 0.8
            )
        })
        .collect::<String>();
    let seek = move |e: leptos::ev::MouseEvent| {
        if let (Some(audio), Some(target)) = (player.get(), e.current_target()) {
            use wasm_bindgen::JsCast;
            let el: web_sys::Element = target.unchecked_into();
            let rect = el.get_bounding_client_rect();
            let f = ((e.client_x() as f64 - rect.left()) / rect.width()).clamp(0.0, 1.0);
            audio.set_current_time(f * seconds);
        }
    };
    view! {
        <div class="timeline">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none"
                class="waveform" role="img" on:click=seek
                aria-label="Waveform with the quadrant of each segment; click to play from there">
                {bands}
                <path d=wave class="wave" />
                <line x1=move || x_of(now.get()) x2=move || x_of(now.get()) y1=0 y2=HEIGHT
                    class="playhead" />
            </svg>
            <audio node_ref=player controls src=track.url preload="metadata"
                on:timeupdate=move |_| {
                    if let Some(a) = player.get() {
                        now.set(a.current_time());
                    }
                }>
            </audio>
        </div>
    }
}
