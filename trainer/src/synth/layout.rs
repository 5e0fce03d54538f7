//! Writes a synthetic dataset in one of the real corpora's layouts.
//!
//! Songs are written atomically and skipped when already present, so a killed run is resumed
//! by running it again with the same options (the same seed renders the same songs).

use super::music::{self, SAMPLE_RATE};
use crate::dataset::Layout;
use crate::dataset::{ch818, fourq, tr_music};
use crate::run::write_atomically_with;
use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use model_format::Quadrant;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// What to synthesise.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// The corpus layout to write.
    pub layout: Layout,
    /// Songs in all.
    pub songs: usize,
    /// Length of each song.
    pub seconds: f64,
    /// Seed of every random choice: the same seed renders the same songs.
    pub seed: u64,
}

/// One synthetic song: where it goes and what it is.
struct Planned {
    index: usize,
    quadrant: Quadrant,
    /// Path relative to the dataset folder.
    rel: PathBuf,
    /// The name the annotation files use.
    name: String,
}

/// Songs per quadrant: equal for 4Q-EMOTION and TR-MUSIC; unequal for CH-818, whose real
/// classes are unbalanced (the paper balances them down to the smallest).
pub fn class_sizes(layout: Layout, songs: usize) -> [usize; 4] {
    let weights: [f64; 4] = match layout {
        Layout::Ch818 => [0.31, 0.19, 0.27, 0.23],
        _ => [0.25; 4],
    };
    let mut sizes = weights.map(|w| (w * songs as f64).floor() as usize);
    let mut k = 0;
    while sizes.iter().sum::<usize>() < songs {
        sizes[k % 4] += 1;
        k += 1;
    }
    sizes
}

fn plan(opts: &SynthOptions) -> Result<Vec<Planned>> {
    let sizes = class_sizes(opts.layout, opts.songs);
    let mut out = Vec::new();
    for q in Quadrant::ALL {
        for i in 0..sizes[q.index()] {
            let index = out.len();
            let (rel, name) = match opts.layout {
                Layout::FourQ => {
                    let id = format!("MT{:010}", 40_632 + 9_973 * index);
                    (PathBuf::from(q.name()).join(format!("{id}.wav")), id)
                }
                Layout::Ch818 => {
                    let n = index + 1;
                    (
                        PathBuf::from("clips").join(format!("{n:03}.wav")),
                        n.to_string(),
                    )
                }
                Layout::TrMusic => {
                    let folder = tr_music::FOLDERS[q.index()].0;
                    let name = format!("{folder}_{:03}", i + 1);
                    (PathBuf::from(folder).join(format!("{name}.wav")), name)
                }
                Layout::Manifest => {
                    bail!("synthetic datasets come in the 4q, ch818 and tr layouts")
                }
            };
            out.push(Planned {
                index,
                quadrant: q,
                rel,
                name,
            });
        }
    }
    Ok(out)
}

/// Writes the dataset under `out` and returns the songs per quadrant.
pub fn write_dataset(
    out: &Path,
    opts: &SynthOptions,
    progress: &ProgressBar,
) -> Result<[usize; 4]> {
    if opts.songs < 4 {
        bail!("need at least 4 songs, one per quadrant");
    }
    if opts.seconds.is_nan() || opts.seconds < 2.0 {
        bail!("songs must be at least 2 s long");
    }
    let songs = plan(opts)?;
    progress.set_length(songs.len() as u64);
    songs.par_iter().try_for_each(|s| -> Result<()> {
        let path = out.join(&s.rel);
        if !path.is_file() {
            let mut rng = ChaCha8Rng::seed_from_u64(
                opts.seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add(s.index as u64),
            );
            let culture = music::Culture::of(opts.layout);
            let audio = music::render(s.quadrant, culture, opts.seconds, &mut rng);
            write_wav(&path, &audio).with_context(|| format!("writing {}", path.display()))?;
        }
        progress.inc(1);
        Ok(())
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0xa11_0ca7e);
    match opts.layout {
        Layout::FourQ => write_fourq_annotations(out, &songs)?,
        Layout::Ch818 => write_ch818_workbook(out, &songs, &mut rng)?,
        _ => {}
    }
    Ok(class_sizes(opts.layout, opts.songs))
}

/// 16-bit stereo WAV, written to a temporary name and renamed into place.
fn write_wav(path: &Path, interleaved: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_atomically_with(path, |file| {
        let mut w = hound::WavWriter::new(file, spec).map_err(std::io::Error::other)?;
        for &v in interleaved {
            w.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .map_err(std::io::Error::other)?;
        }
        w.finalize().map_err(std::io::Error::other)
    })?;
    Ok(())
}

fn write_fourq_annotations(out: &Path, songs: &[Planned]) -> Result<()> {
    let mut ann = csv::Writer::from_path(out.join(fourq::ANNOTATIONS))?;
    ann.write_record(["Song", "Quadrant"])?;
    let mut meta = csv::Writer::from_path(out.join(fourq::METADATA))?;
    meta.write_record(["Song", "Artist", "Title", "Quadrant", "Genres"])?;
    for s in songs {
        ann.write_record([s.name.as_str(), s.quadrant.name()])?;
        let title = format!("Synthetic {} {}", s.quadrant.emotions(), s.index);
        meta.write_record([
            s.name.as_str(),
            "mer synth",
            &title,
            s.quadrant.name(),
            "Synthetic",
        ])?;
    }
    ann.flush()?;
    meta.flush()?;
    Ok(())
}

/// `CH818.xlsx` with expert-style ratings in [-10, 10] whose signs agree with `Quads`; rows
/// are shuffled, so only matching by name finds the right clip.
fn write_ch818_workbook(out: &Path, songs: &[Planned], rng: &mut ChaCha8Rng) -> Result<()> {
    let mut order: Vec<&Planned> = songs.iter().collect();
    order.shuffle(rng);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["Song", "Title", "Artist", "Valence", "Arousal", "Quads"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h)?;
    }
    for (r, s) in order.iter().enumerate() {
        let row = r as u32 + 1;
        let sign = |positive: bool| if positive { 1.0 } else { -1.0 };
        let v = sign(s.quadrant.positive_valence()) * rng.random_range(1.0..10.0f64);
        let a = sign(s.quadrant.high_arousal()) * rng.random_range(1.0..10.0f64);
        ws.write_number(row, 0, s.name.parse::<f64>()?)?;
        ws.write_string(row, 1, format!("Synthetic {}", s.index))?;
        ws.write_string(row, 2, "mer synth")?;
        ws.write_number(row, 3, (v * 100.0).round() / 100.0)?;
        ws.write_number(row, 4, (a * 100.0).round() / 100.0)?;
        ws.write_string(row, 5, s.quadrant.name())?;
    }
    wb.save(out.join(ch818::ANNOTATIONS))?;
    Ok(())
}
