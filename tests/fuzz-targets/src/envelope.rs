//! The runtime-side target: envelope decoding in ampy-bus, into the
//! generated types of the default registry.
//!
//! An input is one record in a text-friendly form, so that seeds are
//! readable and mutations reach headers as well as bodies:
//!
//! ```text
//! bars.v1.bars              <- topic id
//! message_id: 0199...       <- headers, one per line, in wire order
//! ...
//! \0                        <- a NUL byte, then the body bytes
//! ```

use ampy_bus::linked::Linked;
use ampy_bus::prost::Message;
use ampy_bus::{Envelope, Schema};
use ampy_example::contract::ampy::{
    bars, control, corporate_actions, fills, fundamentals, fx, metrics, news, orders, positions, signals, ticks,
    universe,
};

/// Writes a record in the target's input form.
pub fn encode_input(topic: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{topic}\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\n").as_bytes());
    }
    out.push(0);
    out.extend_from_slice(body);
    out
}

/// An input split into topic, headers (in order) and body.
pub type Input<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u8]);

/// Splits an input into topic, headers and body; `None` when the head is
/// not UTF-8 or has no NUL.
pub fn decode_input(data: &[u8]) -> Option<Input<'_>> {
    let nul = data.iter().position(|&b| b == 0)?;
    let head = std::str::from_utf8(&data[..nul]).ok()?;
    let mut lines = head.split('\n');
    let topic = lines.next()?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((k, v)) => (k, v.strip_prefix(' ').unwrap_or(v)),
            None => (l, ""),
        })
        .collect();
    Some((topic, headers, &data[nul + 1..]))
}

/// Envelope decoding (`ampy_bus::Envelope::decode`) of one record.
///
/// Asserts: no panic; an error has a kind and a DLQ reason; an accepted
/// payload re-encodes to bytes that decode again and re-encode to the
/// same length (what a consumer forwards is what it read; map entries
/// may be reordered).
pub fn envelope(data: &[u8]) {
    let Some((topic, headers, body)) = decode_input(data) else { return };
    let f: fn(&[(&str, &str)], &[u8]) = match topic {
        "bars.v1.bars" => decode::<bars::v1::BarBatch>,
        "ticks.v1.trade" => decode::<ticks::v1::TradeBatch>,
        "ticks.v1.quote" => decode::<ticks::v1::QuoteBatch>,
        "news.v1.raw" => decode::<news::v1::NewsItem>,
        "news.v1.nlp" => decode::<news::v1::NewsAnalysis>,
        "fx.v1.rates" | "fx.v1.pair" => decode::<fx::v1::FxRate>,
        "fundamentals.v1.snapshots" => decode::<fundamentals::v1::FundamentalsSnapshot>,
        "corporate_actions.v1.events" => decode::<corporate_actions::v1::CorporateAction>,
        "universe.v1.snapshots" => decode::<universe::v1::UniverseSnapshot>,
        "signals.v1.signals" => decode::<signals::v1::Signal>,
        "orders.v1.requests" => decode::<orders::v1::OrderRequest>,
        "fills.v1.events" => decode::<fills::v1::Fill>,
        "positions.v1.snapshots" => decode::<positions::v1::PositionSnapshot>,
        "metrics.v1.metrics" => decode::<metrics::v1::Metric>,
        "control.v1.replay_requests" => decode::<control::v1::ReplayRequest>,
        _ => return,
    };
    f(&headers, body);
}

fn decode<P: Message + Default + Schema + Linked>(headers: &[(&str, &str)], body: &[u8]) {
    match Envelope::<P>::decode(headers.iter().copied(), body) {
        Ok(env) => {
            let bytes = env.payload.encode_to_vec();
            let again = P::decode(bytes.as_slice())
                .unwrap_or_else(|e| panic!("{}: an accepted payload re-encodes to bytes that fail: {e}", P::FQDN));
            // Lengths, not bytes: map fields are HashMaps in prost, so
            // entry order (and only that) may differ between encodings.
            assert_eq!(again.encoded_len(), bytes.len(), "{}: re-encoding is not stable", P::FQDN);
        }
        Err(e) => {
            assert!(!e.kind().is_empty());
            let _ = e.dlq_reason();
        }
    }
}
