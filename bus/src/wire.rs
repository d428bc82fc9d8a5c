//! The compile-time link between a derived payload struct and the nested
//! structs and enums it holds.
//!
//! A derive sees one item's tokens, so `#[derive(Payload)]` cannot look
//! inside `Bar` when it checks `bars: Vec<Bar>` against the registry. The
//! nested type is derived too (`#[derive(ampy_bus::WireShape)]` with
//! `#[ampy(registry = "…", message = "ampy.bars.v1.Bar")]`), which checks
//! its own fields and implements [`WireShape`]; the outer derive then
//! emits a `const` assertion, spanned at its field, that the type it holds
//! is the one checked for the message the registry expects there.

/// A Rust type checked at compile time against one protobuf definition: a
/// message (a struct), a oneof (an enum deriving `prost::Oneof`) or an enum
/// (an enum deriving `prost::Enumeration`).
///
/// Implemented by `#[derive(ampy_bus::WireShape)]` and
/// `#[derive(ampy_bus::Payload)]`; writing it by hand defeats the check.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not checked against the registry, so a derived payload cannot hold it",
    label = "`{Self}` does not implement `ampy_bus::WireShape`",
    note = "derive it: `#[derive(ampy_bus::WireShape)]` with `#[ampy(registry = \"…\", message = \"pkg.Message\")]` \
            on a struct, `oneof = \"pkg.Message.oneof_name\"` on a `prost::Oneof` enum, or \
            `enumeration = \"pkg.Enum\"` on a `prost::Enumeration` enum"
)]
pub trait WireShape {
    /// The protobuf full name: `ampy.bars.v1.Bar`, `pkg.Msg.kind` for a
    /// oneof.
    const PROTO: &'static str;
    /// A digest of the definition the type was checked against (for a
    /// message, its canonical schema hash): two derives agree on a nested
    /// type only if they read the same definition.
    const SHAPE: &'static str;
}

/// What derived code calls in its `const` assertions; not an API.
#[doc(hidden)]
pub mod __derive {
    /// `a == b`, in a `const` context.
    pub const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Whether `a` and `b` hold the same names, in any order (neither has
    /// duplicates: registry envs are unique).
    pub const fn same_names(a: &[&str], b: &[&str]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            let mut found = false;
            let mut j = 0;
            while j < b.len() {
                if str_eq(a[i], b[j]) {
                    found = true;
                }
                j += 1;
            }
            if !found {
                return false;
            }
            i += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::__derive::{same_names, str_eq};

    #[test]
    fn const_comparisons() {
        assert!(str_eq("ampy.bars.v1.Bar", "ampy.bars.v1.Bar"));
        assert!(!str_eq("ampy.bars.v1.Bar", "ampy.bars.v1.Baz"));
        assert!(!str_eq("a", "ab"));
        assert!(same_names(&["dev", "paper", "prod"], &["prod", "dev", "paper"]));
        assert!(!same_names(&["dev", "prod"], &["dev", "paper", "prod"]));
        assert!(!same_names(&["dev", "prod"], &["dev", "Prod"]));
        // Usable where derives use them: in `const` items.
        const { assert!(str_eq("x", "x") && same_names(&["a"], &["a"])) };
    }
}
