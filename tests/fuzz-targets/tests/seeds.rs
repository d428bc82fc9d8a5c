//! Every fuzz target over its whole seed corpus, on stable: the bodies
//! libFuzzer runs in fuzz/ are exercised by every `cargo test`, and an
//! input that once crashed a target stays fixed (see `regressions`).

use ampy_fuzz_targets::{seeds, target, TARGETS};

#[test]
fn every_target_runs_over_its_seeds() {
    let all = seeds::all();
    for t in TARGETS {
        let mine: Vec<_> = all.iter().filter(|s| s.target == t.name).collect();
        // A corpus that silently shrinks to nothing would make this test
        // pass while checking nothing.
        assert!(mine.len() >= 5, "target {} has only {} seeds", t.name, mine.len());
        for s in mine {
            let r = std::panic::catch_unwind(|| (t.run)(&s.data));
            assert!(r.is_ok(), "target {} failed on seed {}", t.name, s.name);
        }
    }
}

#[test]
fn truncated_seeds_are_handled() {
    // Every prefix length of a few seeds per target: cheap, and it reaches
    // the "input ends here" paths that whole seeds never take.
    for t in TARGETS {
        for s in seeds::of(t.name).iter().take(3) {
            let step = (s.data.len() / 64).max(1);
            for n in (0..s.data.len()).step_by(step) {
                (t.run)(&s.data[..n]);
            }
        }
    }
    assert!(target("envelope").is_some());
}
