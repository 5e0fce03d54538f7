//! `trainer report`: the results of `trainer reproduce` as `REPORT.md` and one self-contained
//! `report.html` (inline SVG figures, no script, nothing fetched): the poster's table with
//! ours beside it, the cross-dataset matrices, every confusion matrix and the training curves.

pub mod figures;

use crate::metrics::{Confusion, Evaluation, Scores};
use crate::reproduce::Results;
use crate::reproduce::grid::{Corpus, Net, Profile, Setup};
use crate::reproduce::paper::{self, Pfra};
use crate::run::write_atomically;
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Reads `dir/results.json` and writes the report beside it.
pub fn report_command(dir: &Path) -> Result<()> {
    let path = dir.join("results.json");
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (run `trainer reproduce --out {}` first)",
            path.display(),
            dir.display()
        )
    })?;
    let results: Results =
        serde_json::from_slice(&bytes).with_context(|| format!("{}: malformed", path.display()))?;
    write(&results, dir)
}

/// Writes `REPORT.md` and `report.html` of `results` into `dir`.
pub fn write(results: &Results, dir: &Path) -> Result<()> {
    let r = Report { results };
    for (name, text) in [("REPORT.md", r.markdown()), ("report.html", r.html()?)] {
        let path = dir.join(name);
        write_atomically(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Scores as the poster gives them: weighted P, R, F1 and accuracy, %.
fn pfra(s: &Scores) -> Pfra {
    [s.precision, s.recall, s.f1, s.accuracy].map(|v| 100.0 * v)
}

fn slash(v: &Pfra) -> String {
    let p: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
    p.join("/")
}

/// A difference in whole points, signed (`+3`, `−2`, `0`).
fn signed(v: f64) -> String {
    match v.round() {
        r if r > 0.0 => format!("+{r:.0}"),
        r if r < 0.0 => format!("−{:.0}", -r),
        _ => "0".into(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line of the main table: a poster row on one test set.
struct Line {
    label: &'static str,
    model: &'static str,
    test: Corpus,
    published: Option<Pfra>,
    /// Ours per segment and per song, or why there is none.
    ours: Result<(Pfra, Pfra), String>,
}

impl Line {
    /// The paper's numbers, ours per segment, the difference and ours per song, as text.
    fn cells(&self) -> [String; 4] {
        let paper = self.published.as_ref().map_or("–".into(), slash);
        match (&self.ours, &self.published) {
            (Ok((seg, song)), p) => [
                paper,
                slash(seg),
                p.map_or("–".into(), |p| {
                    let d: Vec<String> = (0..4).map(|k| signed(seg[k] - p[k])).collect();
                    d.join("/")
                }),
                slash(song),
            ],
            (Err(why), _) => [paper, why.clone(), "–".into(), "–".into()],
        }
    }
}

struct Report<'a> {
    results: &'a Results,
}

impl Report<'_> {
    /// The evaluation of cell `id` on `test`, or why there is none.
    fn eval(&self, id: &str, test: Corpus) -> Result<&Evaluation, String> {
        let cell = self
            .results
            .cells
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| "not run (--only)".to_string())?;
        if cell.status != "done" {
            return Err(cell.status.clone());
        }
        cell.evals
            .get(&test)
            .ok_or_else(|| "evaluation failed".to_string())
    }

    fn lines(&self) -> Vec<Line> {
        let mut out = Vec::new();
        for row in paper::rows() {
            for c in Corpus::ALL {
                let Some(id) = &row.cells[c.index()] else {
                    continue;
                };
                out.push(Line {
                    label: row.label,
                    model: row.net.name(),
                    test: c,
                    published: row.published[c.index()],
                    ours: self
                        .eval(id, c)
                        .map(|e| (pfra(&e.segment_scores), pfra(&e.song_scores))),
                });
            }
        }
        out
    }

    /// Our cross-dataset segment accuracy, %, of `net` (rows trained on, columns tested on).
    fn cross(&self, net: Net) -> Vec<Vec<Option<f64>>> {
        Corpus::ALL
            .iter()
            .map(|from| {
                Corpus::ALL
                    .iter()
                    .map(|to| {
                        self.eval(&format!("within/{}-{}", net.key(), from.key()), *to)
                            .ok()
                            .map(|e| 100.0 * e.segment_scores.accuracy)
                    })
                    .collect()
            })
            .collect()
    }

    fn header(&self) -> Vec<String> {
        let r = self.results;
        let mut h = Vec::new();
        let profile = match r.profile {
            Profile::Paper => "paper (the protocol exactly)",
            Profile::Quick => "quick (the same grid at reduced cost: not the paper's settings)",
            Profile::Tiny => "tiny (a test of the pipeline: the numbers mean nothing)",
        };
        h.push(format!("Profile: {profile}."));
        for c in &r.corpora {
            h.push(format!(
                "{}: {} {} ({} train / {} test songs).",
                c.corpus.name(),
                if c.synthetic {
                    "SYNTHETIC STAND-IN, not the real corpus, in"
                } else {
                    "the corpus in"
                },
                c.dir.display(),
                c.train_songs,
                c.test_songs
            ));
        }
        let done = r.cells.iter().filter(|c| c.status == "done").count();
        let training: f64 = r.cells.iter().map(|c| c.train_seconds).sum();
        h.push(format!(
            "{done} of {} cells done; this run of `trainer reproduce` took {} on {} CPU threads \
             (cells already done cost nothing); the cells' training took {} in all, over every \
             run that did it (data preparation and evaluation not counted).",
            r.cells.len(),
            duration(r.wall_seconds),
            r.threads,
            duration(training)
        ));
        for c in r.cells.iter().filter(|c| c.status != "done") {
            h.push(format!("{}: {}", c.id, c.status));
        }
        h
    }

    /// Mean within (diagonal) and cross (off-diagonal) accuracy of a matrix.
    fn within_vs_cross(m: &[Vec<Option<f64>>]) -> (Option<f64>, Option<f64>) {
        let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let mut diag = Vec::new();
        let mut off = Vec::new();
        for (i, row) in m.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                if let Some(v) = v {
                    if i == j { diag.push(*v) } else { off.push(*v) }
                }
            }
        }
        (mean(diag), mean(off))
    }

    fn markdown(&self) -> String {
        let mut s = String::from("# Cross-dataset music emotion recognition: our reproduction\n\n");
        for h in self.header() {
            let _ = writeln!(s, "- {h}");
        }
        s.push_str(
            "\n## The poster's table, ours beside it\n\nWeighted precision / recall / F1 / \
             accuracy, %. Ours per segment (as the poster) and per song (its four segments' \
             log-posteriors summed).\n\n| set-up | model | test set | paper | ours (segments) \
             | ours − paper | ours (songs) |\n|---|---|---|---|---|---|---|\n",
        );
        for l in self.lines() {
            let [paper, ours, diff, songs] = l.cells();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {paper} | {ours} | {diff} | {songs} |",
                l.label,
                l.model,
                l.test.name()
            );
        }
        s.push_str(
            "\n## Cross-dataset accuracy (%, per segment; rows trained on, columns tested on)\n",
        );
        for (net, published) in paper::CROSS {
            let ours = self.cross(net);
            let _ = writeln!(
                s,
                "\n### {}\n\n| trained on | 4Q | CH | TR |\n|---|---|---|---|",
                net.name()
            );
            for from in Corpus::ALL {
                let cells: Vec<String> = Corpus::ALL
                    .iter()
                    .map(|to| {
                        let o = ours[from.index()][to.index()]
                            .map_or("–".into(), |v| format!("{v:.0}"));
                        format!("{o} (paper {:.0})", published[from.index()][to.index()])
                    })
                    .collect();
                let _ = writeln!(s, "| {} | {} |", from.short(), cells.join(" | "));
            }
            let (w, c) = Self::within_vs_cross(&ours);
            let paper_m: Vec<Vec<Option<f64>>> = published
                .iter()
                .map(|r| r.iter().map(|v| Some(*v)).collect())
                .collect();
            let (pw, pc) = Self::within_vs_cross(&paper_m);
            let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}"));
            let _ = writeln!(
                s,
                "\nMean within-dataset accuracy {} %, cross-dataset {} % (paper: {} %, {} %).",
                f(w),
                f(c),
                f(pw),
                f(pc)
            );
        }
        s.push_str("\n## Confusion matrices (per segment, rows true Q1..Q4, columns predicted)\n");
        let published = paper::confusions();
        for cell in self.results.cells.iter().filter(|c| c.status == "done") {
            for (t, e) in &cell.evals {
                let _ = writeln!(s, "\n**{}** on {}\n", cell.id, t.name());
                s.push_str(&confusion_md(&e.segment));
                if let Some(m) = published_beside(&published, cell, *t) {
                    s.push_str("\nthe paper's:\n\n");
                    s.push_str(&confusion_md(m));
                }
            }
        }
        s.push_str("\n## Where the numbers cannot be compared\n\n");
        for c in paper::caveats() {
            let _ = writeln!(s, "- {c}");
        }
        if let Some(e) = &self.results.paper_estimate {
            let _ = writeln!(s, "\n## The `paper` profile's time\n\n{}", estimate_text(e));
        }
        s.push_str("\nThe figures (heatmaps, training curves) are in `report.html`.\n");
        s
    }

    fn html(&self) -> Result<String> {
        let mut s = String::from(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Music emotion recognition: our reproduction</title><style>\
             body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
             table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;\
             text-align:right}th{background:#f4f4f4}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}\
             .figs{display:flex;flex-wrap:wrap;gap:12px}.warn{color:#a00;font-weight:bold}\
             </style></head><body>\n<h1>Cross-dataset music emotion recognition: our reproduction</h1>\n<ul>\n",
        );
        for h in self.header() {
            let class = if h.contains("SYNTHETIC") || h.contains("tiny") {
                " class=\"warn\""
            } else {
                ""
            };
            let _ = writeln!(s, "<li{class}>{}</li>", html_escape(&h));
        }
        s.push_str(
            "</ul>\n<h2>The poster's table, ours beside it</h2>\n<p>Weighted precision / recall \
             / F1 / accuracy, %. Ours per segment (as the poster) and per song.</p>\n<table><tr>\
             <th>set-up</th><th>model</th><th>test set</th><th>paper</th><th>ours (segments)</th>\
             <th>ours − paper</th><th>ours (songs)</th></tr>\n",
        );
        for l in self.lines() {
            let [paper, ours, diff, songs] = l.cells();
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{paper}</td><td>{}</td><td>{diff}</td><td>{songs}</td></tr>",
                html_escape(l.label),
                l.model,
                l.test.name(),
                html_escape(&ours)
            );
        }
        s.push_str("</table>\n<h2>Cross-dataset accuracy</h2>\n<p>Per segment, %; rows trained on, columns tested on.</p>\n<div class=\"figs\">\n");
        let names = ["4Q", "CH", "TR"];
        for (net, published) in paper::CROSS {
            let ours = self.cross(net);
            let paper_m: Vec<Vec<Option<f64>>> = published
                .iter()
                .map(|r| r.iter().map(|v| Some(*v)).collect())
                .collect();
            let pct = |v: f64| format!("{v:.0}");
            s.push_str(&figures::heatmap(
                &format!("{}: ours", net.name()),
                &names,
                &names,
                &ours,
                100.0,
                &pct,
            )?);
            s.push_str(&figures::heatmap(
                &format!("{}: paper", net.name()),
                &names,
                &names,
                &paper_m,
                100.0,
                &pct,
            )?);
        }
        s.push_str("</div>\n<h2>Confusion matrices</h2>\n<p>Per segment, rows true Q1..Q4, columns predicted; the paper's beside ours where it published one.</p>\n<div class=\"figs\">\n");
        let published = paper::confusions();
        let q = ["Q1", "Q2", "Q3", "Q4"];
        for cell in self.results.cells.iter().filter(|c| c.status == "done") {
            for (t, e) in &cell.evals {
                s.push_str(&confusion_svg(
                    &format!("{} on {}", cell.id, t.short()),
                    &e.segment,
                    &q,
                )?);
                if let Some(m) = published_beside(&published, cell, *t) {
                    s.push_str(&confusion_svg(
                        &format!("paper: {} on {}", cell.net.name(), t.short()),
                        m,
                        &q,
                    )?);
                }
            }
        }
        s.push_str("</div>\n<h2>Training curves</h2>\n<div class=\"figs\">\n");
        for cell in self.results.cells.iter().filter(|c| c.status == "done") {
            if !cell.history.is_empty() {
                let pts = |f: &dyn Fn(&crate::sincnet::checkpoint::EpochLog) -> Option<f64>| {
                    cell.history
                        .iter()
                        .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
                        .collect::<Vec<_>>()
                };
                s.push_str(&loss_svg(&cell.id, "NLL", pts(&|e| Some(e.loss)))?);
                let series = vec![
                    (
                        "train windows".to_string(),
                        pts(&|e| Some(e.train_accuracy)),
                    ),
                    (
                        "test segments".to_string(),
                        pts(&|e| e.eval.as_ref().map(|v| v.segment_scores.accuracy)),
                    ),
                ];
                s.push_str(&figures::curves(
                    &format!("{}: accuracy", cell.id),
                    "accuracy",
                    &series,
                    1.0,
                )?);
            } else if !cell.mlp_loss.is_empty() {
                let loss: Vec<(f64, f64)> = cell
                    .mlp_loss
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect();
                s.push_str(&loss_svg(&cell.id, "loss", loss)?);
            }
        }
        s.push_str("</div>\n<h2>Where the numbers cannot be compared</h2>\n<ul>\n");
        for c in paper::caveats() {
            let _ = writeln!(s, "<li>{}</li>", html_escape(&c));
        }
        s.push_str("</ul>\n");
        if let Some(e) = &self.results.paper_estimate {
            let _ = writeln!(
                s,
                "<h2>The paper profile's time</h2>\n<p>{}</p>",
                html_escape(&estimate_text(e))
            );
        }
        s.push_str("</body></html>\n");
        Ok(s)
    }
}

/// The paper's confusion matrix of a within cell on its own test set, where it published one.
fn published_beside<'a>(
    published: &'a [(Net, Corpus, Confusion)],
    cell: &crate::reproduce::CellResult,
    test: Corpus,
) -> Option<&'a Confusion> {
    let own = cell.setup == Setup::Within && cell.corpora == [test];
    published
        .iter()
        .find(|(n, c, _)| own && *n == cell.net && *c == test)
        .map(|(_, _, m)| m)
}

/// A cell's loss per epoch, on a scale a tenth above its highest point.
fn loss_svg(id: &str, y_label: &str, loss: Vec<(f64, f64)>) -> Result<String> {
    let top = loss.iter().map(|p| p.1).fold(0.0, f64::max);
    figures::curves(
        &format!("{id}: loss"),
        y_label,
        &[("loss".into(), loss)],
        top * 1.1,
    )
}

fn confusion_md(m: &Confusion) -> String {
    let mut s = String::from("| true \\ predicted | Q1 | Q2 | Q3 | Q4 |\n|---|---|---|---|---|\n");
    for (i, row) in m.0.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "| Q{} | {} |", i + 1, cells.join(" | "));
    }
    s
}

fn confusion_svg(title: &str, m: &Confusion, q: &[&str]) -> Result<String> {
    let values: Vec<Vec<Option<f64>>> =
        m.0.iter()
            .map(|r| r.iter().map(|v| Some(*v as f64)).collect())
            .collect();
    let max = m.0.iter().flatten().copied().max().unwrap_or(1) as f64;
    figures::heatmap(title, q, q, &values, max, &|v| format!("{v:.0}"))
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn estimate_text(e: &paper::Estimate) -> String {
    format!(
        "On {} ({} ms windows: {:.1} training chunks/s, {:.1} inference windows/s; 500 ms: \
         {:.1}, {:.1}), the grid's SincNet cells at the paper's settings are {:.0} training \
         chunks and {:.0} evaluation windows: about {} (the MLP cells cost what they cost here; \
         the paper fits them as every profile does).",
        e.device,
        200,
        e.train_chunks_per_second[0],
        e.infer_windows_per_second[0],
        e.train_chunks_per_second[1],
        e.infer_windows_per_second[1],
        e.train_chunks[0] + e.train_chunks[1],
        e.eval_windows[0] + e.eval_windows[1],
        duration(e.sincnet_seconds)
    )
}
