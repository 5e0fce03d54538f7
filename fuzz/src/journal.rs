//! A run's files under `--out`: `corpus/<target>/` (inputs that found new edges, which the
//! next run mutates too; written when found), `crashes/<target>/` and `in-flight/<target>` (the
//! input running now, after its length as 8 bytes little-endian: one write per execution into
//! a file kept open). A process that dies on an input (an abort, a stack overflow, a hang the
//! [`watchdog`] ends, a kill) leaves that input in flight; the next run replays it in a child
//! process ([`recover`]) and keeps it as a crash if the child dies or hangs too.

use crate::engine::Journal;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When the execution running now started; `None` between targets.
pub type Started = Arc<Mutex<Option<Instant>>>;

/// The name an input is kept under: the first 16 hex digits of its BLAKE3 hash.
pub fn name(input: &[u8]) -> String {
    blake3::hash(input).to_hex()[..16].to_string()
}

/// Writes `input` under `out/crashes/<target>/`, named by [`name`]; its path.
pub fn save_crash(out: &Path, target: &str, input: &[u8]) -> Result<PathBuf> {
    let dir = out.join("crashes").join(target);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name(input));
    std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// One target's files during its run.
pub struct Files {
    corpus: PathBuf,
    in_flight: PathBuf,
    file: File,
    /// The length and the input, as written to `file`.
    record: Vec<u8>,
    started: Started,
    /// The first write that failed; the run goes on and [`Files::finish`] returns it.
    error: Option<anyhow::Error>,
}

impl Files {
    /// The files of `target` under `out`; `started` is the [`watchdog`]'s.
    pub fn new(out: &Path, target: &str, started: Started) -> Result<Self> {
        let corpus = out.join("corpus").join(target);
        let in_flight = out.join("in-flight").join(target);
        for dir in [&corpus, &out.join("in-flight")] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = File::create(&in_flight)
            .with_context(|| format!("creating {}", in_flight.display()))?;
        Ok(Files {
            corpus,
            in_flight,
            file,
            record: Vec::new(),
            started,
            error: None,
        })
    }

    /// The target's run ended: nothing is in flight. The first write that failed, if any.
    pub fn finish(self) -> Result<()> {
        *self.started.lock().unwrap_or_else(PoisonError::into_inner) = None;
        match std::fs::remove_file(&self.in_flight) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", self.in_flight.display()))
            }
            _ => self.error.map_or(Ok(()), Err),
        }
    }

    /// Keeps the first error of `written`, about `path` (made only for an error).
    fn keep(&mut self, written: std::io::Result<()>, path: impl FnOnce(&Self) -> PathBuf) {
        if let (None, Err(e)) = (&self.error, written) {
            let path = path(self);
            self.error = Some(anyhow::Error::new(e).context(format!("writing {}", path.display())));
        }
    }
}

impl Journal for Files {
    fn running(&mut self, input: &[u8]) {
        *self.started.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        self.record.clear();
        self.record.extend((input.len() as u64).to_le_bytes());
        self.record.extend(input);
        let written =
            (self.file.seek(SeekFrom::Start(0))).and_then(|_| self.file.write_all(&self.record));
        self.keep(written, |files| files.in_flight.clone());
    }

    fn discovered(&mut self, input: &[u8]) {
        let path = self.corpus.join(name(input));
        let written = std::fs::write(&path, input);
        self.keep(written, |_| path);
    }
}

/// The input an in-flight record holds; `None` for a record cut short.
fn in_flight_input(record: &[u8]) -> Option<&[u8]> {
    let (len, rest) = record.split_first_chunk::<8>()?;
    rest.get(..usize::try_from(u64::from_le_bytes(*len)).ok()?)
}

/// Ends the process (exit status 3) when one execution runs longer than `limit`, leaving its
/// input in flight for the next run.
pub fn watchdog(started: Started, limit: Duration) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let since = *started.lock().unwrap_or_else(PoisonError::into_inner);
            if since.is_some_and(|t| t.elapsed() > limit) {
                eprintln!(
                    "one execution ran over {:.0} s: stopping; the next run replays its input \
                     (in-flight/)",
                    limit.as_secs_f64()
                );
                std::process::exit(3);
            }
        }
    });
}

/// If a previous run died with an input of `target` in flight under `out`, replays it with
/// `replay` (a command given the input's path, under `crashes/<target>/`) for at most `limit`.
/// The input stays there, and its path is returned, when the replay dies or hangs; it is
/// dropped when the replay ends cleanly (the run was stopped from outside).
pub fn recover(
    out: &Path,
    target: &str,
    limit: Duration,
    replay: impl FnOnce(&Path) -> Command,
) -> Result<Option<PathBuf>> {
    let in_flight = out.join("in-flight").join(target);
    let Ok(record) = std::fs::read(&in_flight) else {
        return Ok(None);
    };
    std::fs::remove_file(&in_flight)?;
    let Some(input) = in_flight_input(&record) else {
        return Ok(None);
    };
    let path = save_crash(out, target, input)?;
    let mut child = (replay(&path).stdout(Stdio::null()).stderr(Stdio::null()))
        .spawn()
        .context("starting the replay")?;
    let t0 = Instant::now();
    let died = loop {
        if let Some(status) = child.try_wait()? {
            break !status.success();
        }
        if t0.elapsed() > limit {
            child.kill()?;
            child.wait()?;
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if died {
        return Ok(Some(path));
    }
    std::fs::remove_file(&path)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> impl FnOnce(&Path) -> Command {
        let script = script.to_string();
        move |_| {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        }
    }

    /// A run that dies leaves its input in flight; the next keeps it as a crash when the
    /// replay aborts or hangs, and drops it when the replay runs cleanly.
    #[test]
    fn an_input_a_run_died_on_is_replayed_and_kept() {
        let out = tempfile::tempdir().unwrap();
        let started = Started::default();
        let mut files = Files::new(out.path(), "t", started.clone()).unwrap();
        files.discovered(b"new edge");
        files.running(b"fatal");
        assert!(started.lock().unwrap().is_some());
        drop(files); // the process died: no `finish`
        let in_flight = out.path().join("in-flight/t");
        let record = std::fs::read(&in_flight).unwrap();
        assert_eq!(in_flight_input(&record), Some(&b"fatal"[..]));
        let corpus = out.path().join("corpus/t").join(name(b"new edge"));
        assert_eq!(std::fs::read(corpus).unwrap(), b"new edge");

        let second = Duration::from_secs(1);
        let kept = recover(out.path(), "t", second, shell("kill -ABRT $$")).unwrap();
        assert_eq!(std::fs::read(kept.unwrap()).unwrap(), b"fatal");
        assert!(!in_flight.exists());
        assert_eq!(
            recover(out.path(), "t", second, shell("true")).unwrap(),
            None
        );

        let put = |input: &[u8]| {
            let record = [&(input.len() as u64).to_le_bytes()[..], input, b"stale"].concat();
            std::fs::write(&in_flight, record).unwrap();
        };
        put(b"slow");
        let kept = recover(
            out.path(),
            "t",
            Duration::from_millis(200),
            shell("sleep 5"),
        );
        assert_eq!(std::fs::read(kept.unwrap().unwrap()).unwrap(), b"slow");

        put(b"panics");
        let kept = recover(out.path(), "t", second, shell("exit 1"));
        assert_eq!(std::fs::read(kept.unwrap().unwrap()).unwrap(), b"panics");

        put(b"killed from outside");
        assert_eq!(
            recover(out.path(), "t", second, shell("true")).unwrap(),
            None
        );
        assert!(!in_flight.exists());
        let crashes = std::fs::read_dir(out.path().join("crashes/t")).unwrap();
        assert_eq!(crashes.count(), 3);
    }

    /// A record cut short is dropped.
    #[test]
    fn a_record_cut_short_is_dropped() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("in-flight")).unwrap();
        let record = [&9u64.to_le_bytes()[..], b"short"].concat();
        std::fs::write(out.path().join("in-flight/t"), record).unwrap();
        let kept = recover(out.path(), "t", Duration::from_secs(1), shell("exit 1"));
        assert_eq!(kept.unwrap(), None);
        assert!(!out.path().join("in-flight/t").exists());
    }

    /// A target's run that ends leaves nothing in flight.
    #[test]
    fn a_finished_run_leaves_nothing_in_flight() {
        let out = tempfile::tempdir().unwrap();
        let started = Started::default();
        let mut files = Files::new(out.path(), "t", started.clone()).unwrap();
        files.running(b"fine");
        files.finish().unwrap();
        assert!(!out.path().join("in-flight/t").exists());
        assert!(started.lock().unwrap().is_none());
    }
}
