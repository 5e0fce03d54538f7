//! Edge coverage for the engine, from LLVM's SanitizerCoverage. A build with
//! `-C passes=sancov-module -C llvm-args=-sanitizer-coverage-trace-pc-guard` (`scripts/fuzz`
//! makes one, instrumenting the parsing crates only) numbers every edge of the instrumented
//! code through [`__sanitizer_cov_trace_pc_guard_init`] and calls
//! [`__sanitizer_cov_trace_pc_guard`] each time one runs. In an ordinary build nothing calls
//! them, [`edges`] is 0, and the engine is blind.
//!
//! This module must not be instrumented itself (the callback would call itself): the
//! allowlist `fuzz/coverage.allowlist` leaves this crate out.

// The two callbacks are the C ABI LLVM's instrumentation calls, with raw pointers to its guard
// array: they cannot be written without `unsafe`.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize, Ordering::Relaxed};

/// Slots of the hit map; edge ids wrap around it.
const MAP: usize = 1 << 20;
/// 1 where an edge ran since the last [`take_hits`].
static HIT: [AtomicU8; MAP] = [const { AtomicU8::new(0) }; MAP];
/// The slots set since the last [`take_hits`], while they fit.
static TOUCHED: [AtomicU32; 1 << 16] = [const { AtomicU32::new(0) }; 1 << 16];
static TOUCHED_LEN: AtomicUsize = AtomicUsize::new(0);
/// Edges numbered so far.
static GUARDS: AtomicU32 = AtomicU32::new(0);

/// Numbers the guards of one instrumented module, `[start, stop)`, from 1 (once per module).
///
/// # Safety
/// LLVM calls it with the bounds of a guard array of its own.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard_init(start: *mut u32, stop: *mut u32) {
    if start == stop || unsafe { *start } != 0 {
        return;
    }
    let mut p = start;
    while p < stop {
        // SAFETY: `p` walks the guard array LLVM handed over, within its bounds.
        unsafe {
            *p = GUARDS.fetch_add(1, Relaxed) + 1;
            p = p.add(1);
        }
    }
}

/// Marks the edge of `guard` as run.
///
/// # Safety
/// LLVM calls it with a guard numbered by [`__sanitizer_cov_trace_pc_guard_init`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard(guard: *mut u32) {
    // SAFETY: a valid guard of LLVM's array.
    let slot = unsafe { *guard } as usize % MAP;
    if HIT[slot].swap(1, Relaxed) == 0 {
        let k = TOUCHED_LEN.fetch_add(1, Relaxed);
        if k < TOUCHED.len() {
            TOUCHED[k].store(slot as u32, Relaxed);
        }
    }
}

/// Edges instrumented in this binary: 0 in an ordinary build.
pub fn edges() -> u32 {
    GUARDS.load(Relaxed)
}

/// The edges (hit-map slots) run since the last call, which it clears.
pub fn take_hits() -> Vec<u32> {
    let n = TOUCHED_LEN.swap(0, Relaxed);
    let hits: Vec<u32> = if n <= TOUCHED.len() {
        TOUCHED[..n].iter().map(|s| s.load(Relaxed)).collect()
    } else {
        // More edges than the list holds: read the whole map.
        (0..MAP as u32)
            .filter(|&s| HIT[s as usize].load(Relaxed) != 0)
            .collect()
    };
    for &s in &hits {
        HIT[s as usize].store(0, Relaxed);
    }
    hits
}
