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

#[test]
fn regression_canonical_unknown_syntax() {
    // Found by `cargo fuzz run canonical`: a descriptor set whose file says
    // `syntax = "proto4"` made prost-reflect panic inside
    // `DescriptorPool::decode` (see `ampy_fuzz_targets::targets::pool_of`).
    // Field 1 (file) holding a FileDescriptorProto with name (1) and
    // syntax (12).
    let file = [&[0x0a, 5][..], b"a.pro", &[0x62, 6], b"proto4"].concat();
    let set = [&[0x0a, u8::try_from(file.len()).unwrap()][..], &file].concat();
    (target("canonical").unwrap().run)(&set);
    assert!(ampy_fuzz_targets::targets::pool_of(&set).is_none());
    // The same file with a known syntax decodes: the guard is that narrow.
    let ok = [&[0x0a, 5][..], b"a.pro", &[0x62, 6], b"proto3"].concat();
    let ok = [&[0x0a, u8::try_from(ok.len()).unwrap()][..], &ok].concat();
    assert!(ampy_fuzz_targets::targets::pool_of(&ok).is_some());
}
