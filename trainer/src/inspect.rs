//! `trainer data inspect`: songs per quadrant, durations, sample rates, every unreadable
//! file with its reason, and a check for global statistics that give the labels away.

use crate::audio::DecodeCache;
use crate::dataset::{Dataset, Issue, prepare_songs};
use indicatif::ProgressBar;
use model_format::Quadrant;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Facts about one readable song.
#[derive(Clone, Debug, Serialize)]
pub struct SongFacts {
    /// The song's id in its dataset.
    pub id: String,
    /// The song's label.
    pub quadrant: Quadrant,
    /// Duration, seconds.
    pub seconds: f64,
    /// The file's sample rate, Hz.
    pub sample_rate: u32,
    /// The file's channel count.
    pub channels: u32,
    /// RMS level of the mono signal, dBFS.
    pub rms_dbfs: f64,
    /// Zero crossings per second of the mono signal (a brightness proxy).
    pub zero_crossings: f64,
}

/// Duration summary of one quadrant.
#[derive(Clone, Debug, Serialize)]
pub struct QuadrantSummary {
    /// The quadrant summarised.
    pub quadrant: Quadrant,
    /// Readable songs in it.
    pub songs: usize,
    /// Their total duration, seconds.
    pub total_seconds: f64,
    /// The shortest song, seconds (0 when there are none).
    pub min_seconds: f64,
    /// The mean duration, seconds (0 when there are none).
    pub mean_seconds: f64,
    /// The longest song, seconds (0 when there are none).
    pub max_seconds: f64,
}

/// How well one global statistic alone separates an axis: the best accuracy of a single
/// threshold (either direction). 0.5 is chance on a balanced axis.
#[derive(Clone, Debug, Serialize)]
pub struct Confound {
    /// The [`SongFacts`] field tested.
    pub statistic: &'static str,
    /// Best single-threshold accuracy at telling positive from negative valence.
    pub valence_accuracy: f64,
    /// Best single-threshold accuracy at telling high from low arousal.
    pub arousal_accuracy: f64,
}

/// Everything `inspect` found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The dataset's layout name.
    pub layout: &'static str,
    /// The folder (or manifest file) it was read from.
    pub root: PathBuf,
    /// Songs the layout lists, per quadrant.
    pub listed: [usize; 4],
    /// Durations of the readable songs, one summary per quadrant.
    pub quadrants: Vec<QuadrantSummary>,
    /// Readable songs by their files' sample rate.
    pub sample_rates: BTreeMap<u32, usize>,
    /// Readable songs by channel count.
    pub channels: BTreeMap<u32, usize>,
    /// Listed songs that cannot be decoded or prepared, with the reason.
    pub unreadable: Vec<Issue>,
    /// Problems found while reading the layout and annotations.
    pub issues: Vec<Issue>,
    /// How well each global statistic alone predicts valence and arousal.
    pub confounds: Vec<Confound>,
    /// Facts about every readable song.
    pub songs: Vec<SongFacts>,
}

impl Report {
    /// Files or rows left out: unreadable songs and those the layout skipped.
    pub fn skipped(&self) -> usize {
        self.unreadable.len() + self.issues.iter().filter(|i| i.skipped).count()
    }

    /// Readable songs per quadrant.
    pub fn readable(&self) -> [usize; 4] {
        let mut c = [0; 4];
        for s in &self.songs {
            c[s.quadrant.index()] += 1;
        }
        c
    }
}

/// Decodes every song of `ds` through `cache` (filling it), in parallel.
pub fn inspect(ds: &Dataset, cache: &DecodeCache, progress: &ProgressBar) -> Report {
    let (songs, unreadable) = prepare_songs(&ds.songs, cache, progress, |song, d, _| SongFacts {
        id: song.id.clone(),
        quadrant: song.quadrant,
        seconds: d.seconds(),
        sample_rate: d.source_rate,
        channels: d.source_channels,
        rms_dbfs: rms_dbfs(&d.mono),
        zero_crossings: zero_crossings(&d.mono) * d.rate as f64,
    });
    let mut sample_rates = BTreeMap::new();
    let mut channels = BTreeMap::new();
    for s in &songs {
        *sample_rates.entry(s.sample_rate).or_insert(0) += 1;
        *channels.entry(s.channels).or_insert(0) += 1;
    }
    Report {
        layout: ds.layout.name(),
        root: ds.root.clone(),
        listed: ds.counts(),
        quadrants: Quadrant::ALL
            .iter()
            .map(|&q| summarise(q, &songs))
            .collect(),
        sample_rates,
        channels,
        unreadable,
        issues: ds.issues.clone(),
        confounds: confounds(&songs),
        songs,
    }
}

fn summarise(q: Quadrant, songs: &[SongFacts]) -> QuadrantSummary {
    let d: Vec<f64> = songs
        .iter()
        .filter(|s| s.quadrant == q)
        .map(|s| s.seconds)
        .collect();
    let total: f64 = d.iter().sum();
    QuadrantSummary {
        quadrant: q,
        songs: d.len(),
        total_seconds: total,
        min_seconds: d.iter().copied().fold(f64::INFINITY, f64::min).min(total),
        mean_seconds: if d.is_empty() {
            0.0
        } else {
            total / d.len() as f64
        },
        max_seconds: d.iter().copied().fold(0.0, f64::max),
    }
}

fn rms_dbfs(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * ms.max(1e-20).log10()
}

/// Zero crossings per sample.
fn zero_crossings(x: &[f32]) -> f64 {
    let n = x
        .windows(2)
        .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
        .count();
    n as f64 / x.len().max(1) as f64
}

/// A named per-song statistic.
type Statistic = (&'static str, fn(&SongFacts) -> f64);

fn confounds(songs: &[SongFacts]) -> Vec<Confound> {
    let stats: [Statistic; 3] = [
        ("rms_dbfs", |s| s.rms_dbfs),
        ("zero_crossings", |s| s.zero_crossings),
        ("seconds", |s| s.seconds),
    ];
    stats
        .iter()
        .map(|(name, f)| {
            let values: Vec<f64> = songs.iter().map(f).collect();
            let valence: Vec<bool> = songs
                .iter()
                .map(|s| s.quadrant.positive_valence())
                .collect();
            let arousal: Vec<bool> = songs.iter().map(|s| s.quadrant.high_arousal()).collect();
            Confound {
                statistic: name,
                valence_accuracy: best_threshold_accuracy(&values, &valence),
                arousal_accuracy: best_threshold_accuracy(&values, &arousal),
            }
        })
        .collect()
}

/// The best accuracy any single threshold on `values` reaches in predicting `labels`, with
/// either side of the threshold taken as positive.
pub fn best_threshold_accuracy(values: &[f64], labels: &[bool]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let positives = labels.iter().filter(|&&l| l).count();
    // Threshold below everything: all predicted positive.
    let mut correct_if_above = positives;
    let mut best = correct_if_above.max(n - correct_if_above);
    for (k, &i) in order.iter().enumerate() {
        // Move item i below the threshold (predicted negative).
        if labels[i] {
            correct_if_above -= 1;
        } else {
            correct_if_above += 1;
        }
        let tie = k + 1 < n && values[order[k + 1]] == values[i];
        if !tie {
            best = best.max(correct_if_above).max(n - correct_if_above);
        }
    }
    best as f64 / n as f64
}

/// The report as a terminal table.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} dataset at {}", r.layout, r.root.display());
    let _ = writeln!(
        s,
        "\n{:<9} {:>7} {:>9} {:>10} {:>9} {:>9} {:>9}",
        "quadrant", "listed", "readable", "total min", "min s", "mean s", "max s"
    );
    for (q, sum) in Quadrant::ALL.iter().zip(&r.quadrants) {
        let _ = writeln!(
            s,
            "{:<9} {:>7} {:>9} {:>10.1} {:>9.1} {:>9.1} {:>9.1}",
            format!(
                "{} {}",
                q.name(),
                q.emotions().split(',').next().unwrap_or("")
            ),
            r.listed[q.index()],
            sum.songs,
            sum.total_seconds / 60.0,
            if sum.songs == 0 { 0.0 } else { sum.min_seconds },
            sum.mean_seconds,
            sum.max_seconds
        );
    }
    let fmt_map = |m: &BTreeMap<u32, usize>, unit: &str| {
        m.iter()
            .map(|(k, v)| format!("{k}{unit} × {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "\nsample rates: {}", fmt_map(&r.sample_rates, " Hz"));
    let _ = writeln!(s, "channels:     {}", fmt_map(&r.channels, " ch"));
    let _ = writeln!(
        s,
        "\nconfound check (best single-threshold accuracy; 0.50 is chance on a balanced axis):"
    );
    for c in &r.confounds {
        let _ = writeln!(
            s,
            "  {:<15} valence {:.2}   arousal {:.2}",
            c.statistic, c.valence_accuracy, c.arousal_accuracy
        );
    }
    if !r.unreadable.is_empty() {
        let _ = writeln!(s, "\nunreadable ({}):", r.unreadable.len());
        for i in &r.unreadable {
            let _ = writeln!(s, "  {i}");
        }
    }
    if !r.issues.is_empty() {
        let _ = writeln!(s, "\nlayout and annotation issues ({}):", r.issues.len());
        for i in &r.issues {
            let _ = writeln!(s, "  {i}");
        }
    }
    let _ = writeln!(
        s,
        "\n{} songs readable; {} skipped ({} unreadable, {} left out by the layout); {} issues in all",
        r.songs.len(),
        r.skipped(),
        r.unreadable.len(),
        r.skipped() - r.unreadable.len(),
        r.unreadable.len() + r.issues.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::best_threshold_accuracy;

    #[test]
    fn threshold_accuracy_finds_the_best_cut() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            best_threshold_accuracy(&v, &[false, false, true, true]),
            1.0
        );
        assert_eq!(
            best_threshold_accuracy(&v, &[true, true, false, false]),
            1.0
        );
        assert_eq!(
            best_threshold_accuracy(&v, &[true, false, true, false]),
            0.75
        );
        // Tied values cannot be cut apart.
        assert_eq!(best_threshold_accuracy(&[1.0, 1.0], &[true, false]), 0.5);
    }
}
