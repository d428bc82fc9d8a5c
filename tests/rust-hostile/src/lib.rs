//! Bindings for hostile registries, compiled under `deny(warnings)`.
#![deny(warnings)]

pub mod hostile {
    ampy_bus::include_generated!();
}

/// tests/hostile/hostile.yaml, the registry shared with the Go and Python
/// backends.
pub mod polyglot {
    ampy_bus::include_generated!("polyglot/ampygen.rs");
}
