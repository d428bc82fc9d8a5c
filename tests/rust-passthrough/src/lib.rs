//! Bindings generated with prost-build's options passed through
//! `ampygen::configure()` (see build.rs), compiled under `deny(warnings)`.
#![deny(warnings)]

pub mod contract {
    ampy_bus::include_generated!();
}
