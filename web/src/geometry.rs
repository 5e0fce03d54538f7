//! Russell's plane in the circumplex's SVG coordinates: where a valence–arousal point, a
//! quadrant's label and its quarter disc are drawn. Free of the DOM, so native tests cover it.

use model_format::Quadrant;
use model_format::analysis::{SongPrediction, into_disc};

/// Side of the square drawing, in SVG user units.
pub const SIZE: f64 = 400.0;
/// Radius of the circle.
pub const R: f64 = SIZE / 2.0 * 0.9;

/// SVG coordinates of a valence–arousal point: valence to the right, arousal up, the unit
/// circle on the drawn one (a point outside it is drawn on it).
pub fn to_svg(valence: f64, arousal: f64) -> (f64, f64) {
    let half = SIZE / 2.0;
    let (v, a) = into_disc(valence as f32, arousal as f32);
    (half + v as f64 * R, half - a as f64 * R)
}

/// Where a quadrant's label goes: the centre of its quarter of the circle.
pub fn label_position(q: Quadrant) -> (f64, f64) {
    let v = if q.positive_valence() { 0.5 } else { -0.5 };
    let a = if q.high_arousal() { 0.5 } else { -0.5 };
    to_svg(v, a)
}

/// SVG path of a quadrant's quarter disc.
pub fn sector_path(q: Quadrant) -> String {
    let (cx, cy) = to_svg(0.0, 0.0);
    let h = if q.positive_valence() { 1.0 } else { -1.0 };
    let v = if q.high_arousal() { 1.0 } else { -1.0 };
    let (x1, y1) = to_svg(h, 0.0);
    let (x2, y2) = to_svg(0.0, v);
    // Sweep clockwise on screen from the horizontal radius to the vertical one when the
    // quadrant is Q2 or Q4 (where that is the short way round).
    let sweep = u8::from(q.positive_valence() != q.high_arousal());
    format!("M {cx} {cy} L {x1} {y1} A {R} {R} 0 0 {sweep} {x2} {y2} Z")
}

/// The points of a song's segments, in order: `(x, y)` in SVG units.
pub fn trajectory(p: &SongPrediction) -> Vec<(f64, f64)> {
    p.segments
        .iter()
        .map(|s| to_svg(s.valence as f64, s.arousal as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model_format::analysis::{PointSource, SegmentPrediction};

    #[test]
    fn axes_point_the_right_way() {
        let (x0, y0) = to_svg(0.0, 0.0);
        assert_eq!((x0, y0), (SIZE / 2.0, SIZE / 2.0));
        let (x, y) = to_svg(1.0, 1.0);
        assert!(
            x > x0 && y < y0,
            "positive valence is right, high arousal is up"
        );
        // Outside the circle is drawn on it, on the same ray.
        let (x, y) = to_svg(5.0, -5.0);
        let r = (x - x0).hypot(y - y0);
        assert!(
            (r - R).abs() < 1e-3 && (x - x0 + (y0 - y)).abs() < 1e-3,
            "{x} {y}"
        );
        assert_eq!(to_svg(0.5, 0.0), (x0 + 0.5 * R, y0));
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

    #[test]
    fn sectors_run_through_their_own_quarter() {
        let (cx, cy) = to_svg(0.0, 0.0);
        for q in Quadrant::ALL {
            let d = sector_path(q);
            let n: Vec<f64> = d.split(' ').filter_map(|t| t.parse().ok()).collect();
            // M cx cy L x1 y1 A r r 0 0 sweep x2 y2
            let (x1, y1, x2, y2) = (n[2], n[3], n[n.len() - 2], n[n.len() - 1]);
            assert_eq!(y1, cy, "{q}: first edge is horizontal");
            assert_eq!(x1 > cx, q.positive_valence(), "{q}");
            assert_eq!(x2, cx, "{q}: second edge is vertical");
            assert_eq!(y2 < cy, q.high_arousal(), "{q}");
            // Going from the horizontal edge to the vertical one through the quadrant is a
            // screen-clockwise sweep exactly when the quadrant is Q2 or Q4.
            let cross = (x1 - cx) * (y2 - cy) - (y1 - cy) * (x2 - cx);
            assert_eq!(n[8] == 1.0, cross > 0.0, "{q}: {d}");
        }
    }

    #[test]
    fn trajectory_follows_the_segments() {
        let seg = |(valence, arousal)| SegmentPrediction {
            start_seconds: 0.0,
            end_seconds: 1.0,
            quadrant: Quadrant::Q1,
            probabilities: [0.25; 4],
            log_prob_sum: [0.0; 4],
            windows: 1,
            valence,
            arousal,
        };
        let p = SongPrediction {
            quadrant: Quadrant::Q1,
            probabilities: [0.25; 4],
            valence: 0.0,
            arousal: 0.0,
            point: PointSource::Regression,
            segments: vec![seg((0.5, 0.5)), seg((-0.3, -0.6))],
        };
        let t = trajectory(&p);
        assert_eq!(t, vec![to_svg(0.5, 0.5), to_svg(-0.3, -0.6)]);
    }
}
