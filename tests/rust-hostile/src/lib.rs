//! Bindings for a hostile registry, compiled under `deny(warnings)`.
#![deny(warnings)]

pub mod hostile {
    ampy_bus::include_generated!();
}
