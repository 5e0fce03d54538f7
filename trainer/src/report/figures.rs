//! The report's figures as SVG strings, drawn with plotters: heatmaps of accuracy matrices and
//! of confusion matrices, and training curves.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A failed drawing as an error message.
fn drawn<T, E: std::fmt::Debug>(r: Result<T, E>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("drawing a figure: {e:?}"))
}

/// White at 0 to deep blue at 1.
fn shade(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
    RGBColor(mix(255.0, 33.0), mix(255.0, 102.0), mix(255.0, 172.0))
}

/// A grid of cells, `values[row][col]` shaded by `values / max` and written as `labels`,
/// with row and column names; `None` cells are grey and marked `–`.
pub fn heatmap(
    title: &str,
    rows: &[&str],
    cols: &[&str],
    values: &[Vec<Option<f64>>],
    max: f64,
    labels: &dyn Fn(f64) -> String,
) -> anyhow::Result<String> {
    let cell = 46i32;
    let (left, top) = (58i32, 44i32);
    let w = left + cell * cols.len() as i32 + 12;
    let h = top + cell * rows.len() as i32 + 12;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w as u32, h as u32)).into_drawing_area();
        drawn(root.fill(&WHITE))?;
        let font = ("sans-serif", 13).into_font();
        let centre = |p: HPos| font.clone().color(&BLACK).pos(Pos::new(p, VPos::Center));
        drawn(root.draw(&Text::new(
            title.to_string(),
            (4, 12),
            font.clone().color(&BLACK),
        )))?;
        for (j, c) in cols.iter().enumerate() {
            let x = left + cell * j as i32 + cell / 2;
            drawn(root.draw(&Text::new(
                c.to_string(),
                (x, top - 10),
                centre(HPos::Center),
            )))?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = top + cell * i as i32 + cell / 2;
            drawn(root.draw(&Text::new(
                r.to_string(),
                (left - 6, y),
                centre(HPos::Right),
            )))?;
            for (j, v) in values[i].iter().enumerate() {
                let x0 = left + cell * j as i32;
                let y0 = top + cell * i as i32;
                let fill = match v {
                    Some(v) => shade(v / max.max(1e-9)),
                    None => RGBColor(230, 230, 230),
                };
                let rect = Rectangle::new([(x0, y0), (x0 + cell, y0 + cell)], fill.filled());
                drawn(root.draw(&rect))?;
                let dark = v.is_some_and(|v| v / max.max(1e-9) > 0.6);
                let text = v.map_or("–".to_string(), labels);
                let colour = if dark { WHITE } else { BLACK };
                let style = font
                    .clone()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let at = (x0 + cell / 2, y0 + cell / 2);
                drawn(root.draw(&Text::new(text, at, style)))?;
            }
        }
        drawn(root.present())?;
    }
    Ok(svg)
}

/// Lines over epochs: each series is a name, a colour index and its (epoch, value) points;
/// values are drawn on [0, `y_max`].
pub fn curves(
    title: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    y_max: f64,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (360, 220)).into_drawing_area();
        drawn(root.fill(&WHITE))?;
        let x_max = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
            .fold(1.0, f64::max);
        let mut chart = drawn(
            ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 13))
                .margin(6)
                .x_label_area_size(28)
                .y_label_area_size(40)
                .build_cartesian_2d(0.0..x_max, 0.0..y_max.max(1e-6)),
        )?;
        drawn(
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(y_label)
                .label_style(("sans-serif", 10))
                .light_line_style(RGBColor(240, 240, 240))
                .draw(),
        )?;
        for (k, (name, points)) in series.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let line = LineSeries::new(points.iter().copied(), colour.stroke_width(2));
            drawn(chart.draw_series(line))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], colour));
        }
        if series.len() > 1 {
            drawn(
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(RGBColor(200, 200, 200))
                    .label_font(("sans-serif", 10))
                    .draw(),
            )?;
        }
        drawn(root.present())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heatmap_writes_every_value_and_requests_nothing() {
        let svg = heatmap(
            "t",
            &["4Q", "CH"],
            &["4Q", "CH"],
            &[vec![Some(63.0), Some(19.0)], vec![None, Some(30.0)]],
            100.0,
            &|v| format!("{v:.0}"),
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for v in ["63", "19", "30", "–"] {
            assert!(
                svg.contains(&format!(">{v}<")) || svg.contains(&format!(">\n{v}")),
                "{v}"
            );
        }
        assert!(!svg.contains("href") && !svg.contains("url("));
    }

    #[test]
    fn curves_draw_a_line_per_series() {
        let s = |k: f64| (1..=5).map(|e| (e as f64, k / e as f64)).collect();
        let svg = curves(
            "loss",
            "loss",
            &[("a".into(), s(1.0)), ("b".into(), s(2.0))],
            2.0,
        )
        .unwrap();
        assert_eq!(
            svg.matches("stroke-width=\"2\" points=").count(),
            2,
            "{svg}"
        );
    }
}
