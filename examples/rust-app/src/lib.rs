//! The generated contract, included the one way the README shows.
#![deny(warnings)]

pub mod contract {
    ampy_bus::include_generated!();
}

/// A one-bar batch of `symbol` on XNAS, the payload the examples publish.
pub fn sample_bars(symbol: &str) -> contract::ampy::bars::v1::BarBatch {
    use contract::ampy::bars::v1::{Bar, BarBatch};
    use contract::ampy::common::v1::SecurityId;
    BarBatch {
        bars: vec![Bar {
            security: Some(SecurityId { symbol: symbol.into(), mic: "XNAS".into(), ..Default::default() }),
            ..Default::default()
        }],
        ..Default::default()
    }
}
