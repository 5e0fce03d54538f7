//! Russell's circumplex as SVG: valence across, arousal up, the quadrants named.

use leptos::prelude::*;
use model_format::Quadrant;

/// Side of the square drawing, in SVG user units.
pub const SIZE: f64 = 400.0;

/// SVG coordinates of a valence–arousal point in [-1, 1]²: valence to the right, arousal up.
pub fn to_svg(valence: f64, arousal: f64) -> (f64, f64) {
    let half = SIZE / 2.0;
    let r = half * 0.9;
    (
        half + valence.clamp(-1.0, 1.0) * r,
        half - arousal.clamp(-1.0, 1.0) * r,
    )
}

/// Where a quadrant's label goes: the centre of its quarter of the circle.
pub fn label_position(q: Quadrant) -> (f64, f64) {
    let v = if q.positive_valence() { 0.5 } else { -0.5 };
    let a = if q.high_arousal() { 0.5 } else { -0.5 };
    to_svg(v, a)
}

/// The circumplex with its axes and quadrant names.
#[component]
pub fn Circumplex() -> impl IntoView {
    let (cx, cy) = to_svg(0.0, 0.0);
    let r = SIZE / 2.0 * 0.9;
    let labels = Quadrant::ALL
        .iter()
        .map(|&q| {
            let (x, y) = label_position(q);
            view! {
                <text x=x y=y text-anchor="middle" class="quadrant-name">{q.name()}</text>
                <text x=x y=y + 18.0 text-anchor="middle" class="quadrant-words">{q.emotions()}</text>
            }
        })
        .collect_view();
    view! {
        <svg class="circumplex" viewBox=format!("0 0 {SIZE} {SIZE}") role="img"
            aria-label="Russell's circumplex: valence across, arousal up">
            <circle cx=cx cy=cy r=r class="rim" />
            <line x1=cx - r y1=cy x2=cx + r y2=cy class="axis" />
            <line x1=cx y1=cy - r x2=cx y2=cy + r class="axis" />
            <text x=cx + r y=cy - 6.0 text-anchor="end" class="axis-name">"valence →"</text>
            <text x=cx + 6.0 y=cy - r + 14.0 class="axis-name">"↑ arousal"</text>
            {labels}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_point_the_right_way() {
        let (x0, y0) = to_svg(0.0, 0.0);
        assert_eq!((x0, y0), (SIZE / 2.0, SIZE / 2.0));
        let (x, y) = to_svg(1.0, 1.0);
        assert!(
            x > x0 && y < y0,
            "positive valence is right, high arousal is up"
        );
        assert_eq!(to_svg(5.0, -5.0), to_svg(1.0, -1.0));
    }

    #[test]
    fn labels_sit_in_their_quadrants() {
        let (cx, cy) = to_svg(0.0, 0.0);
        for q in Quadrant::ALL {
            let (x, y) = label_position(q);
            assert_eq!(x > cx, q.positive_valence(), "{q}");
            assert_eq!(y < cy, q.high_arousal(), "{q}");
        }
    }
}
