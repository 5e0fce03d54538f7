//! Every target survives its regression inputs (each one a panic once found and fixed) and a
//! short blind run from its seeds.

use mer_fuzz::engine::{Budget, fuzz, run_one};
use mer_fuzz::targets;
use std::path::Path;
use std::time::Duration;

#[test]
fn the_regression_inputs_no_longer_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    for t in targets::all() {
        let Ok(entries) = std::fs::read_dir(root.join(t.name)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            assert_eq!(run_one(&t, &input), None, "{}", path.display());
        }
    }
}

#[test]
fn a_short_run_of_every_target_finds_no_panic() {
    let budget = Budget {
        executions: 1500,
        time: Duration::from_secs(20),
    };
    for t in targets::all() {
        for seed in (t.seeds)() {
            assert_eq!(run_one(&t, &seed), None, "{}: a seed panics", t.name);
        }
        let r = fuzz(&t, Vec::new(), budget, 7, &mut ());
        assert!(r.executions > 50, "{}: {} executions", t.name, r.executions);
        let found: Vec<&str> = r.crashes.iter().map(|c| c.message.as_str()).collect();
        assert!(found.is_empty(), "{}: {found:?}", t.name);
    }
}
