//! The Rust driver: decodes a record with `ampy_bus::Envelope::decode` into
//! the generated type of its topic and answers like the Go and Python
//! drivers do.
//!
//! The digest of an accepted record is the SHA-256 of the payload's
//! canonical encoding: set fields in field-number order, map entries
//! sorted by key and written with both key and value, repeated scalars
//! packed, unknown fields left out. It is computed from what the typed
//! decode produced (re-encoded by prost, read back through the linked
//! descriptor), so two runtimes with equal digests decoded equal values.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ampy_bus::linked::Linked;
use ampy_bus::prost::Message;
use ampy_bus::{Envelope, Schema};
use ampy_example::contract::ampy::{
    bars, control, corporate_actions, fills, fundamentals, fx, metrics, news, orders, positions, signals, ticks,
    universe,
};
use prost_reflect::{DynamicMessage, Kind, MapKey, Value};
use sha2::{Digest, Sha256};

use crate::record::Record;
use crate::wire;

/// What a runtime made of a record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Ok(String),
    Err(String),
    Crash(String),
}

impl Decision {
    pub fn parse(s: &str) -> Decision {
        let (verb, rest) = s.split_once(' ').unwrap_or((s, ""));
        match verb {
            "ok" => Decision::Ok(rest.to_owned()),
            "err" => Decision::Err(rest.to_owned()),
            "crash" => Decision::Crash(rest.to_owned()),
            _ => Decision::Crash(format!("unreadable answer `{s}`")),
        }
    }

    /// The accept/reject part: `ok` or the error kind.
    pub fn verdict(&self) -> String {
        match self {
            Decision::Ok(_) => "ok".into(),
            Decision::Err(kind) => kind.clone(),
            // The exception or panic, without its message (which may
            // quote the input), so that groups stay few.
            Decision::Crash(what) => format!("crash({})", what.split([':', ' ']).next().unwrap_or("")),
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Ok(d) => write!(f, "ok {d}"),
            Decision::Err(k) => write!(f, "err {k}"),
            Decision::Crash(w) => write!(f, "crash {w}"),
        }
    }
}

fn decide<P: Message + Default + Schema + Linked>(r: &Record) -> Decision {
    let pairs = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    match Envelope::<P>::decode(pairs, &r.body) {
        Ok(env) => match digest(&env.payload) {
            Ok(d) => Decision::Ok(d),
            Err(e) => Decision::Crash(format!("digest: {e}")),
        },
        Err(e) => Decision::Err(e.kind().to_owned()),
    }
}

/// The decision for one record; panics are caught and reported.
pub fn decide_record(r: &Record) -> Decision {
    let f: fn(&Record) -> Decision = match r.topic.as_str() {
        "bars.v1.bars" => decide::<bars::v1::BarBatch>,
        "ticks.v1.trade" => decide::<ticks::v1::TradeBatch>,
        "ticks.v1.quote" => decide::<ticks::v1::QuoteBatch>,
        "news.v1.raw" => decide::<news::v1::NewsItem>,
        "news.v1.nlp" => decide::<news::v1::NewsAnalysis>,
        "fx.v1.rates" | "fx.v1.pair" => decide::<fx::v1::FxRate>,
        "fundamentals.v1.snapshots" => decide::<fundamentals::v1::FundamentalsSnapshot>,
        "corporate_actions.v1.events" => decide::<corporate_actions::v1::CorporateAction>,
        "universe.v1.snapshots" => decide::<universe::v1::UniverseSnapshot>,
        "signals.v1.signals" => decide::<signals::v1::Signal>,
        "orders.v1.requests" => decide::<orders::v1::OrderRequest>,
        "fills.v1.events" => decide::<fills::v1::Fill>,
        "positions.v1.snapshots" => decide::<positions::v1::PositionSnapshot>,
        "metrics.v1.metrics" => decide::<metrics::v1::Metric>,
        "control.v1.replay_requests" => decide::<control::v1::ReplayRequest>,
        other => return Decision::Crash(format!("unknown topic {other}")),
    };
    catch_unwind(AssertUnwindSafe(|| f(r))).unwrap_or_else(|_| Decision::Crash("panic".into()))
}

fn digest<P: Message + Linked>(payload: &P) -> Result<String, String> {
    let desc = P::descriptor().map_err(|e| e.to_string())?;
    let msg = DynamicMessage::decode(desc, payload.encode_to_vec().as_slice()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    canonical(&msg, &mut out);
    Ok(Sha256::digest(&out).iter().map(|b| format!("{b:02x}")).collect())
}

/// The canonical encoding of `msg` (see the module doc).
pub fn canonical(msg: &DynamicMessage, out: &mut Vec<u8>) {
    let mut fields: Vec<_> = msg.fields().collect();
    fields.sort_by_key(|(f, _)| f.number());
    for (f, value) in fields {
        let n = u64::from(f.number());
        match value {
            Value::Map(map) => {
                let entry = f.kind();
                let entry = entry.as_message().expect("a map field has an entry message");
                let (kf, vf) = (entry.map_entry_key_field(), entry.map_entry_value_field());
                let mut keys: Vec<&MapKey> = map.keys().collect();
                keys.sort();
                for k in keys {
                    let mut body = Vec::new();
                    field(1, &kf.kind(), &map_key_value(k), &mut body);
                    field(2, &vf.kind(), &map[k], &mut body);
                    out.extend(wire::len_field(n, &body));
                }
            }
            Value::List(items) if f.is_packed() => {
                let mut body = Vec::new();
                for v in items {
                    scalar(&f.kind(), v, &mut body);
                }
                out.extend(wire::len_field(n, &body));
            }
            Value::List(items) => {
                for v in items {
                    field(n, &f.kind(), v, out);
                }
            }
            v => field(n, &f.kind(), v, out),
        }
    }
}

fn map_key_value(k: &MapKey) -> Value {
    match k {
        MapKey::Bool(b) => Value::Bool(*b),
        MapKey::I32(v) => Value::I32(*v),
        MapKey::I64(v) => Value::I64(*v),
        MapKey::U32(v) => Value::U32(*v),
        MapKey::U64(v) => Value::U64(*v),
        MapKey::String(s) => Value::String(s.clone()),
    }
}

fn wire_type(kind: &Kind) -> u8 {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => wire::I64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => wire::I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => wire::LEN,
        _ => wire::VARINT,
    }
}

fn field(n: u64, kind: &Kind, v: &Value, out: &mut Vec<u8>) {
    if let (Kind::Message(_), Value::Message(m)) = (kind, v) {
        let mut body = Vec::new();
        canonical(m, &mut body);
        out.extend(wire::len_field(n, &body));
        return;
    }
    out.extend(wire::tag(n, wire_type(kind)));
    scalar(kind, v, out);
}

/// The value bytes of a scalar (with the length of a string or bytes).
fn scalar(kind: &Kind, v: &Value, out: &mut Vec<u8>) {
    match (kind, v) {
        (Kind::Double, Value::F64(x)) => out.extend(x.to_bits().to_le_bytes()),
        (Kind::Float, Value::F32(x)) => out.extend(x.to_bits().to_le_bytes()),
        (Kind::Fixed64, Value::U64(x)) => out.extend(x.to_le_bytes()),
        (Kind::Sfixed64, Value::I64(x)) => out.extend(x.to_le_bytes()),
        (Kind::Fixed32, Value::U32(x)) => out.extend(x.to_le_bytes()),
        (Kind::Sfixed32, Value::I32(x)) => out.extend(x.to_le_bytes()),
        (Kind::Sint32, Value::I32(x)) => out.extend(wire::varint(u64::from(((x << 1) ^ (x >> 31)) as u32))),
        (Kind::Sint64, Value::I64(x)) => out.extend(wire::varint(((x << 1) ^ (x >> 63)) as u64)),
        (_, Value::I32(x)) | (_, Value::EnumNumber(x)) => out.extend(wire::varint(i64::from(*x) as u64)),
        (_, Value::I64(x)) => out.extend(wire::varint(*x as u64)),
        (_, Value::U32(x)) => out.extend(wire::varint(u64::from(*x))),
        (_, Value::U64(x)) => out.extend(wire::varint(*x)),
        (_, Value::Bool(b)) => out.push(u8::from(*b)),
        (_, Value::String(s)) => {
            out.extend(wire::varint(s.len() as u64));
            out.extend_from_slice(s.as_bytes());
        }
        (_, Value::Bytes(b)) => {
            out.extend(wire::varint(b.len() as u64));
            out.extend_from_slice(b);
        }
        (_, Value::Message(m)) => {
            let mut body = Vec::new();
            canonical(m, &mut body);
            out.extend(wire::varint(body.len() as u64));
            out.extend(body);
        }
        // Lists and maps never reach here: `canonical` unrolls them.
        (_, other) => unreachable!("scalar of {other:?}"),
    }
}
