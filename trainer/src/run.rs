//! Run folders and safe writes: what a run folder holds and under which names, the split of
//! a run, and writes that a kill never leaves half done.

use crate::dataset::split::Split;
use crate::dataset::{Dataset, Layout, Song};
use anyhow::{Context, Result};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A run folder: one trained model (SincNet or an MLP baseline) with its settings, split,
/// checkpoints and results.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

/// Which model a run folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// SincNet on raw audio windows.
    SincNet,
    /// The MLP baseline on handcrafted features.
    Mlp,
}

impl RunDir {
    /// The run folder at `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> RunDir {
        RunDir { root: root.into() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// SincNet's training settings; written first, so it marks a SincNet run.
    pub fn sincnet_config(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// An MLP run's settings; written last, so it marks a finished MLP run.
    pub fn mlp_config(&self) -> PathBuf {
        self.root.join("mlp.json")
    }

    /// An MLP run's model, as a bundle.
    pub fn mlp_model(&self) -> PathBuf {
        self.root.join("model.mermodel")
    }

    /// The split manifest the run trains and evaluates on.
    pub fn split(&self) -> PathBuf {
        self.root.join("split.json")
    }

    /// The evaluation on the split's test songs.
    pub fn eval(&self) -> PathBuf {
        self.root.join("eval.json")
    }

    /// An MLP's fit report.
    pub fn fit(&self) -> PathBuf {
        self.root.join("fit.json")
    }

    /// SincNet's latest checkpoint.
    pub fn checkpoint(&self) -> PathBuf {
        self.root.join("checkpoint")
    }

    /// The checkpoint before the latest, kept while the latest is swapped in.
    pub fn previous_checkpoint(&self) -> PathBuf {
        self.root.join("checkpoint.old")
    }

    /// The model the folder holds, if any.
    pub fn kind(&self) -> Option<RunKind> {
        if self.mlp_config().is_file() {
            Some(RunKind::Mlp)
        } else if self.sincnet_config().is_file() {
            Some(RunKind::SincNet)
        } else {
            None
        }
    }

    /// The split manifest and its content hash.
    pub fn load_split(&self) -> Result<(Split, String)> {
        Ok(Split::load_hashed(&self.split())?)
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomically(path, &serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Temporary names unique within the process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary name beside `path`, unique to this process and call.
fn temporary(path: &Path) -> std::io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    Ok(dir.join(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    )))
}

/// Writes `bytes` to `path` through a temporary file in the same folder (created if needed)
/// and a rename, so a reader sees the old file, the new one, or none: never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |w| w.write_all(bytes))
}

/// [`write_atomically`] for a writer: `write` fills the temporary file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temporary(path)?;
    let result = (|| {
        let mut w = BufWriter::new(fs::File::create(&tmp)?);
        write(&mut w)?;
        w.flush()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces the folder `dir` with one that `fill` writes, through a temporary folder and two
/// renames; `previous` keeps the old folder between them. A kill at any moment leaves `dir`
/// or `previous` complete: read `dir` first, then `previous`.
pub fn replace_dir_atomically(
    dir: &Path,
    previous: &Path,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let tmp = temporary(dir)?;
    fs::create_dir_all(&tmp)?;
    fill(&tmp).inspect_err(|_| {
        let _ = fs::remove_dir_all(&tmp);
    })?;
    if dir.exists() {
        if previous.exists() {
            fs::remove_dir_all(previous)?;
        }
        fs::rename(dir, previous)?;
    }
    fs::rename(&tmp, dir)?;
    if previous.exists() {
        fs::remove_dir_all(previous)?;
    }
    Ok(())
}

/// Where the songs of an experiment come from.
pub struct DataSpec {
    /// The dataset's folder (or manifest file).
    pub dir: PathBuf,
    /// Its layout; `None` to detect it.
    pub layout: Option<Layout>,
    /// An existing split manifest; otherwise one is made.
    pub split: Option<PathBuf>,
    /// Seed of a new split.
    pub split_seed: u64,
    /// Share of each quadrant's songs a new split holds out for testing.
    pub test_fraction: f64,
    /// Whether a new split balances the quadrants first.
    pub balance: bool,
}

/// The dataset's songs on either side of a split.
pub struct SplitSongs {
    /// Songs to train on.
    pub train: Vec<Song>,
    /// Songs held out for testing.
    pub test: Vec<Song>,
    /// The split they come from.
    pub split: Split,
}

impl DataSpec {
    /// The train and test songs of the split: `self.split`, else the run's saved split, else
    /// a new one. With a run folder, the split is saved there.
    pub fn split_songs(&self, run: Option<&RunDir>) -> Result<SplitSongs> {
        let ds = Dataset::load(&self.dir, self.layout)?;
        for i in &ds.issues {
            eprintln!("warning: {i}");
        }
        let saved = run.map(RunDir::split);
        let split = match (&self.split, saved.as_deref().filter(|p| p.is_file())) {
            (Some(path), _) => Split::load(path)?,
            (None, Some(path)) => Split::load(path)?,
            (None, None) => {
                Split::of_dataset(&ds, self.test_fraction, self.split_seed, self.balance)
            }
        };
        if let Some(saved) = &saved {
            split
                .save(saved)
                .with_context(|| format!("writing {}", saved.display()))?;
        }
        let (train, test) = split
            .resolve(&ds.songs)
            .map_err(|e| anyhow::anyhow!("split: {e}"))?;
        Ok(SplitSongs { train, test, split })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_whole_or_not_at_all() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("deep/a.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let failed = write_atomically_with(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("killed"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"two", "the old file stays");
        let left: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_replaced_folder_is_the_new_one_and_a_failed_fill_keeps_the_old() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, old) = (
            tmp.path().join("checkpoint"),
            tmp.path().join("checkpoint.old"),
        );
        let fill = |text: &'static str| {
            move |d: &Path| -> Result<()> { Ok(fs::write(d.join("state.json"), text)?) }
        };
        replace_dir_atomically(&dir, &old, fill("1")).unwrap();
        replace_dir_atomically(&dir, &old, fill("2")).unwrap();
        assert_eq!(fs::read_to_string(dir.join("state.json")).unwrap(), "2");
        assert!(!old.exists());
        let failed = replace_dir_atomically(&dir, &old, |_| anyhow::bail!("killed"));
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(dir.join("state.json")).unwrap(), "2");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
