//! Bindings for the key-rules fixture, compiled under `deny(warnings)`.
#![deny(warnings)]

pub mod rt {
    ampy_bus::include_generated!();
}
