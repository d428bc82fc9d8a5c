//! Keeps a docs page's example and the test that runs it identical.

/// Asserts that the first `rust` block after `## {section}` in
/// docs/rust.md is the text of `this` between `// docs:start` and
/// `// docs:end`.
pub fn assert_docs_show(section: &str, this: &str, file: &str) {
    let start = this.find("// docs:start\n").unwrap() + "// docs:start\n".len();
    let end = this.find("// docs:end").unwrap();
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rust.md")).unwrap();
    let block = docs
        .split(&format!("## {section}"))
        .nth(1)
        .and_then(|s| s.split("```rust\n").nth(1))
        .and_then(|s| s.split("```").next());
    assert_eq!(block, Some(&this[start..end]), "docs/rust.md's {section} example differs from tests/{file}");
}
