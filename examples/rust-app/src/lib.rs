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

/// A one-trade batch of `symbol` on XNAS.
pub fn sample_trades(symbol: &str) -> contract::ampy::ticks::v1::TradeBatch {
    use contract::ampy::ticks::v1::{Trade, TradeBatch};
    TradeBatch { trades: vec![Trade { security: xnas(symbol), size: 100, ..Default::default() }], ..Default::default() }
}

/// A one-quote batch of `symbol` on XNAS.
pub fn sample_quotes(symbol: &str) -> contract::ampy::ticks::v1::QuoteBatch {
    use contract::ampy::ticks::v1::{Quote, QuoteBatch};
    QuoteBatch {
        quotes: vec![Quote { security: xnas(symbol), bid_size: 7, ..Default::default() }],
        ..Default::default()
    }
}

fn xnas(symbol: &str) -> Option<contract::ampy::common::v1::SecurityId> {
    Some(contract::ampy::common::v1::SecurityId { symbol: symbol.into(), mic: "XNAS".into(), ..Default::default() })
}
