//! The model's learned sinc filters: one bar per filter from its low to its high cut-off, on a
//! mel-scaled frequency axis.

use crate::format::mel_position;
use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const ROW: f64 = 3.0;

/// Pass bands `(low, high)` in Hz, drawn bottom-up in the order given.
#[component]
pub fn Filters(
    /// Each filter's pass band `(low, high)`, Hz.
    bands: Vec<(f32, f32)>,
    /// Top of the frequency axis, Hz.
    nyquist: f32,
) -> impl IntoView {
    let height = bands.len() as f64 * ROW + 24.0;
    let x = move |hz: f32| mel_position(hz, nyquist) as f64 * WIDTH;
    let rows = bands
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let y = height - 24.0 - (i as f64 + 1.0) * ROW;
            view! {
                <rect x=x(lo) y=y width=(x(hi) - x(lo)).max(1.0) height=ROW - 0.5 class="pass-band">
                    <title>{format!("{lo:.0}–{hi:.0} Hz")}</title>
                </rect>
            }
        })
        .collect_view();
    let ticks = [100.0, 500.0, 1000.0, 2000.0, 4000.0, nyquist]
        .into_iter()
        .filter(|&hz| hz <= nyquist)
        .map(|hz| {
            let label = if hz >= 1000.0 {
                format!("{} kHz", hz / 1000.0)
            } else {
                format!("{hz} Hz")
            };
            view! {
                <text x=x(hz) y=height - 6.0 text-anchor="middle" class="tick">{label}</text>
            }
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {height}") class="filters" role="img"
            aria-label="Pass bands of the learned sinc filters, low to high frequency">
            {rows}
            {ticks}
        </svg>
    }
}
