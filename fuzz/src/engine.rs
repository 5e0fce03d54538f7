//! A seeded mutation fuzzer: it mutates a random input of its corpus (the target's seeds and
//! any inputs given) with a few stacked byte-level mutations, runs the target, and records
//! every distinct panic with its smallest input. In a build with edge coverage
//! ([`crate::coverage`], `scripts/fuzz`) an input that runs an edge no earlier one ran joins
//! the corpus; otherwise the engine is blind. A [`Journal`] hears of each input before it runs
//! and of each new corpus input when found, so a run that dies keeps its corpus and the input
//! it died on (the panics it caught are returned at the end of the run).

use crate::coverage;
use crate::targets::Target;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// How long to fuzz.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most executions.
    pub executions: u64,
    /// Most wall time.
    pub time: Duration,
}

/// An input that made the target panic.
#[derive(Clone, Debug)]
pub struct Crash {
    /// The panic's message.
    pub message: String,
    /// The smallest input seen with that message.
    pub input: Vec<u8>,
}

/// What a run found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// Executions run.
    pub executions: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Inputs mutated (seeds included, and those that found new edges).
    pub corpus: usize,
    /// Distinct edges run, in a build with coverage (else 0).
    pub edges: usize,
    /// Distinct panics, by message.
    pub crashes: Vec<Crash>,
}

/// What a run records as it goes (see [`crate::journal`]).
pub trait Journal {
    /// `input` is about to run.
    fn running(&mut self, input: &[u8]);
    /// `input` ran an edge no earlier input ran, and joins the corpus.
    fn discovered(&mut self, input: &[u8]);
}

/// Records nothing.
impl Journal for () {
    fn running(&mut self, _: &[u8]) {}
    fn discovered(&mut self, _: &[u8]) {}
}

/// Runs `input` through `target`; the panic's message if it panicked.
pub fn run_one(target: &Target, input: &[u8]) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input)))
        .err()
        .map(|p| trainer::panic_message(&*p))
}

/// Fuzzes `target` from its seeds and `corpus` (more inputs to mutate) within `budget`,
/// telling `journal` of each input.
pub fn fuzz(
    target: &Target,
    corpus: Vec<Vec<u8>>,
    budget: Budget,
    seed: u64,
    journal: &mut dyn Journal,
) -> Report {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut queue: Vec<Vec<u8>> = (target.seeds)();
    queue.extend(corpus);
    let mut crashes: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let t0 = Instant::now();
    let mut executions = 0;
    let guided = coverage::edges() > 0;
    let mut seen: HashSet<u32> = HashSet::new();
    coverage::take_hits();
    for input in &queue {
        journal.running(input);
        if let Some(m) = run_one(target, input) {
            crashes.entry(m).or_insert_with(|| input.clone());
        }
        seen.extend(coverage::take_hits());
        executions += 1;
    }
    while executions < budget.executions && t0.elapsed() < budget.time {
        let parent = &queue[rng.random_range(0..queue.len())];
        let other = &queue[rng.random_range(0..queue.len())];
        let mut input = parent.clone();
        for _ in 0..rng.random_range(1..=4) {
            mutate(&mut input, other, target.max_len, &mut rng);
        }
        executions += 1;
        journal.running(&input);
        let crash = run_one(target, &input);
        if guided {
            let hits = coverage::take_hits();
            let before = seen.len();
            seen.extend(hits);
            if seen.len() > before && crash.is_none() {
                journal.discovered(&input);
                queue.push(input.clone());
            }
        }
        if let Some(m) = crash {
            let kept = crashes.entry(m).or_insert_with(|| input.clone());
            if input.len() < kept.len() {
                *kept = input;
            }
        }
    }
    std::panic::set_hook(quiet);
    Report {
        target: target.name,
        executions,
        seconds: t0.elapsed().as_secs_f64(),
        corpus: queue.len(),
        edges: seen.len(),
        crashes: crashes
            .into_iter()
            .map(|(message, input)| Crash { message, input })
            .collect(),
    }
}

/// Values that break parsers more often than random ones: lengths and counts at their limits.
const INTERESTING: [u64; 10] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

/// One byte-level mutation of `input`, using `other` for splices; at most `max_len` bytes.
fn mutate(input: &mut Vec<u8>, other: &[u8], max_len: usize, rng: &mut ChaCha8Rng) {
    let n = input.len();
    let at = |rng: &mut ChaCha8Rng, n: usize| if n == 0 { 0 } else { rng.random_range(0..n) };
    match rng.random_range(0..8) {
        0 if n > 0 => {
            let i = at(rng, n);
            input[i] ^= 1 << rng.random_range(0..8);
        }
        1 if n > 0 => {
            let i = at(rng, n);
            input[i] = rng.random();
        }
        2 if n > 0 => {
            let width = [1, 2, 4, 8][rng.random_range(0..4)];
            let v = INTERESTING[rng.random_range(0..INTERESTING.len())].to_le_bytes();
            let i = at(rng, n);
            let end = (i + width).min(n);
            input[i..end].copy_from_slice(&v[..end - i]);
        }
        3 => {
            let i = at(rng, n + 1);
            let k = rng.random_range(1..=16);
            let bytes: Vec<u8> = (0..k).map(|_| rng.random()).collect();
            input.splice(i..i, bytes);
        }
        4 if n > 0 => {
            let i = at(rng, n);
            let k = rng.random_range(1..=(n - i).min(64));
            input.drain(i..i + k);
        }
        5 if n > 0 => input.truncate(at(rng, n)),
        6 if !other.is_empty() => {
            let i = at(rng, n + 1);
            let j = at(rng, other.len());
            let k = rng.random_range(1..=(other.len() - j).min(256));
            input.splice(i..i, other[j..j + k].iter().copied());
        }
        _ if n > 1 => {
            let i = at(rng, n);
            let j = at(rng, n);
            let k = rng.random_range(1..=(n - i.max(j)).min(32));
            let chunk = input[j..j + k].to_vec();
            input[i..i + k].copy_from_slice(&chunk);
        }
        _ => input.push(rng.random()),
    }
    input.truncate(max_len);
}
