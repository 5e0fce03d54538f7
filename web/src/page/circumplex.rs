//! Russell's circumplex as SVG: valence across, arousal up, the quadrants named, and a song's
//! point, quadrant and segment trajectory.

use crate::geometry::{R, SIZE, label_position, sector_path, to_svg, trajectory};
use leptos::prelude::*;
use model_format::Quadrant;
use model_format::analysis::SongPrediction;

/// The circumplex, with the prediction drawn on it when there is one.
#[component]
pub fn Circumplex(
    /// The song's prediction, once there is one.
    #[prop(into)]
    prediction: Signal<Option<SongPrediction>>,
) -> impl IntoView {
    let (cx, cy) = to_svg(0.0, 0.0);
    let quadrants = Quadrant::ALL
        .iter()
        .map(|&q| {
            let (x, y) = label_position(q);
            let active = move || prediction.with(|p| p.as_ref().is_some_and(|p| p.quadrant == q));
            view! {
                <path d=sector_path(q) class=format!("sector {}", q.name().to_lowercase())
                    class:active=active />
                <text x=x y=y text-anchor="middle" class="quadrant-name">{q.name()}</text>
                <text x=x y=y + 18.0 text-anchor="middle" class="quadrant-words">{q.emotions()}</text>
            }
        })
        .collect_view();
    let song = move || {
        prediction.get().map(|p| {
            let path = trajectory(&p);
            let line = path
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect::<Vec<_>>()
                .join(" ");
            let (x, y) = to_svg(p.valence as f64, p.arousal as f64);
            let dots = path
                .into_iter()
                .enumerate()
                .map(|(i, (sx, sy))| {
                    view! {
                        <circle cx=sx cy=sy r=4 class="segment-dot" />
                        <text x=sx + 6.0 y=sy - 6.0 class="segment-label">{i + 1}</text>
                    }
                })
                .collect_view();
            view! {
                <polyline points=line class="trajectory" />
                {dots}
                <circle cx=x cy=y r=9 class="song-point">
                    <title>{format!("valence {:+.2}, arousal {:+.2}", p.valence, p.arousal)}</title>
                </circle>
            }
        })
    };
    view! {
        <svg class="circumplex" viewBox=format!("0 0 {SIZE} {SIZE}") role="img"
            aria-label="Russell's circumplex: valence across, arousal up">
            {quadrants}
            <circle cx=cx cy=cy r=R class="rim" />
            <line x1=cx - R y1=cy x2=cx + R y2=cy class="axis" />
            <line x1=cx y1=cy - R x2=cx y2=cy + R class="axis" />
            <text x=cx + R y=cy - 6.0 text-anchor="end" class="axis-name">"valence →"</text>
            <text x=cx + 6.0 y=cy - R + 14.0 class="axis-name">"↑ arousal"</text>
            {song}
        </svg>
    }
}
