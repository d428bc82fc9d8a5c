//! The generated contract, included the one way the README shows.
#![deny(warnings)]

pub mod contract {
    ampy_bus::include_generated!();
}
