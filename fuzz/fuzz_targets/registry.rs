//! See ampy_fuzz_targets and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (ampy_fuzz_targets::TARGETS.iter().find(|t| t.name == "registry").expect("target").run)(data);
});
