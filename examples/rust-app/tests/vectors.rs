//! The cross-language conformance vectors (`tests/vectors`, format in
//! `tests/vectors/FORMAT.md`) run against the generated Rust bindings and
//! the `ampy-bus` runtime.
//!
//! Every positive vector goes through the five checks of FORMAT.md ("What a
//! runner checks"), every negative vector through its operation. Failures
//! are collected and reported together, each naming its vector. The number
//! of vectors per domain and per operation is asserted, so the test cannot
//! pass by running nothing.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::Read;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ampy_bus::envelope::BlobPointer;
use ampy_bus::linked::Linked;
use ampy_bus::prost::Message;
use ampy_bus::{Dlq, Envelope, Headers, PartitionKey, Record, RouteError, Schema, Subject, Topic, TraceParent};
use ampy_example::contract::ampy::{
    bars, control, corporate_actions, fills, fundamentals, fx, metrics, news, orders, positions, signals, ticks,
    universe,
};
use ampy_example::contract::{topics, Env};
use base64::Engine as _;
use prost_reflect::DynamicMessage;
use serde_json::{Map, Value};

/// Exact counts, so that a lost file or vector fails the test.
const POSITIVE_TOTAL: usize = 57;
const NEGATIVE_TOTAL: usize = 144;
const ACCEPT_TOTAL: usize = 16;
const MIN_PER_DOMAIN: usize = 3;
const DOMAINS: [&str; 14] = [
    "bars",
    "ticks",
    "news",
    "fx",
    "fundamentals",
    "corporate_actions",
    "universe",
    "signals",
    "orders",
    "fills",
    "positions",
    "metrics",
    "dlq",
    "control",
];
/// Every topic of the registry has at least one positive vector.
const TOPICS: [&str; 16] = [
    "bars.v1.bars",
    "ticks.v1.trade",
    "ticks.v1.quote",
    "news.v1.raw",
    "news.v1.nlp",
    "fx.v1.rates",
    "fx.v1.pair",
    "fundamentals.v1.snapshots",
    "corporate_actions.v1.events",
    "universe.v1.snapshots",
    "signals.v1.signals",
    "orders.v1.requests",
    "fills.v1.events",
    "positions.v1.snapshots",
    "metrics.v1.metrics",
    "control.v1.replay_requests",
];
const ERROR_KINDS: [&str; 16] = [
    "illegal_token",
    "unknown_env",
    "mixed_keys",
    "empty_key_field",
    "empty_batch",
    "invalid_timestamp",
    "hash_mismatch",
    "unknown_fqdn",
    "missing_header",
    "malformed_header",
    "malformed_traceparent",
    "malformed_message_id",
    "duplicate_header",
    "corrupt_gzip",
    "too_large",
    "decode_error",
];
const DLQ_TOPIC: &str = "dlq.v1.dead_letters";

type Check = Result<(), String>;
type Args = Map<String, Value>;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match doc.get("vectors") {
        Some(Value::Array(v)) => v.clone(),
        _ => panic!("{}: no `vectors` array", path.display()),
    }
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn eq<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Check {
    ensure(got == want, || format!("{what}: got {got:?}, want {want:?}"))
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing `{key}`"))
}

fn string<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?.as_str().ok_or_else(|| format!("`{key}` is not a string"))
}

fn b64(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD.decode(string(v, key)?).map_err(|e| format!("`{key}`: {e}"))
}

fn env_of(v: &Value) -> Result<Env, String> {
    string(v, "env")?.parse::<Env>().map_err(|e| e.to_string())
}

fn arg<'a>(args: &'a Args, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("args has no string `{name}`"))
}

/// A header set as wire pairs: a JSON object, or an array of
/// `[name, value]` pairs (for duplicates).
fn pairs(v: &Value) -> Result<Vec<(String, String)>, String> {
    let text = |x: &Value| x.as_str().map(str::to_owned).ok_or_else(|| format!("header value {x} is not a string"));
    match v {
        Value::Object(m) => m.iter().map(|(k, x)| Ok((k.clone(), text(x)?))).collect(),
        Value::Array(a) => a
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([k, x]) => Ok((text(k)?, text(x)?)),
                _ => Err(format!("header pair {p} is not [name, value]")),
            })
            .collect(),
        _ => Err("headers are neither an object nor a list of pairs".into()),
    }
}

fn as_map(pairs: &[(impl AsRef<str>, impl AsRef<str>)]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if out.insert(k.as_ref().to_owned(), v.as_ref().to_owned()).is_some() {
            return Err(format!("header `{}` written twice", k.as_ref()));
        }
    }
    Ok(out)
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).map_err(|e| format!("gunzip: {e}"))?;
    Ok(out)
}

fn kind_of<T, E: ErrKind>(r: Result<T, E>, what: &str, want: &str) -> Check {
    match r {
        Ok(_) => Err(format!("{what} succeeded, want error `{want}`")),
        Err(e) => ensure(e.kind() == want, || format!("{what}: got error `{}` ({}), want `{want}`", e.kind(), e.msg())),
    }
}

trait ErrKind {
    fn kind(&self) -> &'static str;
    fn msg(&self) -> String;
}

macro_rules! err_kind {
    ($($t:ty),*) => {$(
        impl ErrKind for $t {
            fn kind(&self) -> &'static str {
                <$t>::kind(self)
            }
            fn msg(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
err_kind!(RouteError, ampy_bus::HeaderError, ampy_bus::SchemaError, ampy_bus::EnvelopeError);

/// What the runner does with one topic's payload type.
trait Ops {
    fn positive(&self, v: &Value) -> Check;
    fn dead_letter(&self, v: &Value) -> Check;
    fn subject(&self, env: Env, args: &Args) -> Result<Subject, RouteError>;
    fn route(&self, v: &Value) -> Check;
    fn verify(&self, v: &Value) -> Check;
    fn decode(&self, v: &Value) -> Check;
    fn accept(&self, v: &Value) -> Check;
}

struct TopicOps<P, T> {
    subject: fn(Env, &Args) -> Result<Subject, RouteError>,
    _types: PhantomData<fn() -> (P, T)>,
}

fn ops<P, T>(subject: fn(Env, &Args) -> Result<Subject, RouteError>) -> Box<dyn Ops>
where
    P: Message + Default + Clone + PartialEq + Debug + Schema + PartitionKey + Linked + 'static,
    T: Topic<Payload = P, Env = Env> + 'static,
{
    Box::new(TopicOps::<P, T> { subject, _types: PhantomData })
}

fn topic_ops(id: &str) -> Box<dyn Ops> {
    use topics as t;
    match id {
        "bars.v1.bars" => ops::<bars::v1::BarBatch, t::bars::v1::Bars>(|e, a| {
            t::bars::v1::bars::subject(e, arg(a, "mic"), arg(a, "symbol"))
        }),
        "ticks.v1.trade" => {
            ops::<ticks::v1::TradeBatch, t::ticks::v1::Trade>(|e, a| t::ticks::v1::trade::subject(e, arg(a, "symbol")))
        }
        "ticks.v1.quote" => {
            ops::<ticks::v1::QuoteBatch, t::ticks::v1::Quote>(|e, a| t::ticks::v1::quote::subject(e, arg(a, "symbol")))
        }
        "news.v1.raw" => ops::<news::v1::NewsItem, t::news::v1::Raw>(|e, _| t::news::v1::raw::subject(e)),
        "news.v1.nlp" => ops::<news::v1::NewsAnalysis, t::news::v1::Nlp>(|e, _| t::news::v1::nlp::subject(e)),
        "fx.v1.rates" => ops::<fx::v1::FxRate, t::fx::v1::Rates>(|e, _| t::fx::v1::rates::subject(e)),
        "fx.v1.pair" => {
            ops::<fx::v1::FxRate, t::fx::v1::Pair>(|e, a| t::fx::v1::pair::subject(e, arg(a, "base"), arg(a, "quote")))
        }
        "fundamentals.v1.snapshots" => {
            ops::<fundamentals::v1::FundamentalsSnapshot, t::fundamentals::v1::Snapshots>(|e, a| {
                t::fundamentals::v1::snapshots::subject(e, arg(a, "mic"), arg(a, "symbol"))
            })
        }
        "corporate_actions.v1.events" => {
            ops::<corporate_actions::v1::CorporateAction, t::corporate_actions::v1::Events>(|e, a| {
                t::corporate_actions::v1::events::subject(e, arg(a, "mic"), arg(a, "symbol"))
            })
        }
        "universe.v1.snapshots" => ops::<universe::v1::UniverseSnapshot, t::universe::v1::Snapshots>(|e, a| {
            t::universe::v1::snapshots::subject(e, arg(a, "universe_id"))
        }),
        "signals.v1.signals" => ops::<signals::v1::Signal, t::signals::v1::Signals>(|e, a| {
            t::signals::v1::signals::subject(e, arg(a, "model_id"))
        }),
        "orders.v1.requests" => {
            ops::<orders::v1::OrderRequest, t::orders::v1::Requests>(|e, _| t::orders::v1::requests::subject(e))
        }
        "fills.v1.events" => ops::<fills::v1::Fill, t::fills::v1::Events>(|e, _| t::fills::v1::events::subject(e)),
        "positions.v1.snapshots" => ops::<positions::v1::PositionSnapshot, t::positions::v1::Snapshots>(|e, _| {
            t::positions::v1::snapshots::subject(e)
        }),
        "metrics.v1.metrics" => ops::<metrics::v1::Metric, t::metrics::v1::Metrics>(|e, a| {
            t::metrics::v1::metrics::subject(e, arg(a, "service"))
        }),
        "control.v1.replay_requests" => ops::<control::v1::ReplayRequest, t::control::v1::ReplayRequests>(|e, _| {
            t::control::v1::replay_requests::subject(e)
        }),
        other => panic!("no topic `{other}` in the generated bindings"),
    }
}

impl<P, T> TopicOps<P, T>
where
    P: Message + Default + Clone + PartialEq + Debug + Schema + PartitionKey + Linked + 'static,
    T: Topic<Payload = P, Env = Env> + 'static,
{
    /// Parses proto3 JSON with the linked descriptor, then transcodes to
    /// the generated type.
    fn from_json(json: &Value) -> Result<P, String> {
        let desc = P::descriptor().map_err(|e| e.to_string())?;
        let dynamic = DynamicMessage::deserialize(desc, json).map_err(|e| format!("payload_json: {e}"))?;
        dynamic.transcode_to::<P>().map_err(|e| format!("payload_json → {}: {e}", P::FQDN))
    }

    fn decode_bytes(bytes: &[u8]) -> Result<P, String> {
        P::decode(bytes).map_err(|e| format!("payload bytes do not decode as {}: {e}", P::FQDN))
    }

    /// `got` is the same payload as `want`: the same bytes when the
    /// encoding is unique, else the same message.
    fn same_payload(what: &str, got: &[u8], want: &[u8], exact: bool) -> Check {
        if exact {
            return ensure(got == want, || {
                format!("{what}: {} bytes differ from payload_base64 ({} bytes)", got.len(), want.len())
            });
        }
        eq(what, Self::decode_bytes(got)?, Self::decode_bytes(want)?)
    }

    /// Checks 1 and 3 of FORMAT.md, and the key expectations of check 2;
    /// returns the payload and its bytes.
    fn payload_schema_and_keys(v: &Value) -> Result<(P, Vec<u8>, bool), String> {
        let expect = field(v, "expect")?;
        // 1. bytes and JSON give the same message.
        let bytes = b64(v, "payload_base64")?;
        let exact = v.get("bytes_exact").map_or(Ok(true), |b| b.as_bool().ok_or("`bytes_exact` is not a bool"))?;
        let decoded = Self::decode_bytes(&bytes)?;
        let from_json = Self::from_json(field(v, "payload_json")?)?;
        eq("payload_json vs payload_base64", &from_json, &decoded)?;
        if exact {
            eq("encoding payload_json", from_json.encode_to_vec(), bytes.clone())?;
        }
        // 2. keys (the subject is the caller's: it differs for dead letters).
        let pk = T::partition_key(&decoded).map_err(|e| format!("partition_key: {e}"))?;
        eq("partition_key", pk.as_str(), string(expect, "partition_key")?)?;
        eq("PartitionKey::partition_key", decoded.partition_key().map_err(|e| e.to_string())?, pk)?;
        eq("dedupe_key", decoded.dedupe_key().as_deref(), field(expect, "dedupe_key")?.as_str())?;
        // 3. schema constants and the canonical form of the linked descriptor.
        eq("schema_fqdn", P::FQDN, string(expect, "schema_fqdn")?)?;
        eq("schema_version", P::SCHEMA_VERSION, string(expect, "schema_version")?)?;
        let hash = string(expect, "schema_hash")?;
        eq("schema_hash", P::SCHEMA_HASH, Some(hash))?;
        let path = vectors_dir().join(string(expect, "canonical_form")?);
        let file = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let desc = P::descriptor().map_err(|e| e.to_string())?;
        let form = ampy_canonical::canonical_form(&desc);
        if form != file {
            let line = form.lines().zip(file.lines()).position(|(a, b)| a != b).unwrap_or(0);
            return Err(format!(
                "canonical form of the linked descriptor differs from {} at line {}: `{}` vs `{}`",
                path.display(),
                line + 1,
                form.lines().nth(line).unwrap_or(""),
                file.lines().nth(line).unwrap_or("")
            ));
        }
        eq("sha256 of the canonical form file", ampy_canonical::hash_canonical(&file).as_str(), hash)?;
        Ok((decoded, bytes, exact))
    }

    /// Check 4: the headers parse, the envelope decodes to the payload.
    fn check_decode(v: &Value, wire: &[(String, String)], payload: &P, bytes: &[u8]) -> Check {
        let expect = field(v, "expect")?;
        let headers = Headers::from_pairs(wire.iter().cloned()).map_err(|e| format!("headers: {e}"))?;
        eq("partition_key header", headers.partition_key.as_str(), string(expect, "partition_key")?)?;
        eq("dedupe_key header", headers.dedupe_key.as_deref(), field(expect, "dedupe_key")?.as_str())?;
        eq("schema_fqdn header", &*headers.schema_fqdn, string(expect, "schema_fqdn")?)?;
        eq("schema_version header", &*headers.schema_version, string(expect, "schema_version")?)?;
        eq("schema_hash header", headers.schema_hash.as_deref(), Some(string(expect, "schema_hash")?))?;
        let body = b64(field(v, "envelope")?, "body_base64")?;
        let got = if headers.blob.is_some() {
            ensure(body.is_empty(), || "a blob pointer record has an empty body".into())?;
            kind_of(Envelope::<P>::decode(wire.iter().cloned(), &body), "decode of a pointer record", "blob_pointer")?;
            let h = Envelope::<P>::decode_headers(wire.iter().cloned()).map_err(|e| format!("decode_headers: {e}"))?;
            Envelope::<P>::decode_blob(h, bytes).map_err(|e| format!("decode_blob: {e}"))?
        } else {
            let inflated = if headers.content_encoding.is_some() { gunzip(&body)? } else { body.clone() };
            Self::same_payload("envelope body", &inflated, bytes, true)?;
            Envelope::<P>::decode(wire.iter().cloned(), &body).map_err(|e| format!("decode: {e}"))?
        };
        eq("decoded envelope payload", &got.payload, payload)
    }

    /// Check 5: encoding the payload with the vector's producer inputs
    /// gives exactly its headers and body. Returns the record.
    fn check_encode(wire: &BTreeMap<String, String>, payload: &P, bytes: &[u8], exact: bool) -> Result<Record, String> {
        let get = |k: &str| wire.get(k).map(String::as_str).ok_or_else(|| format!("envelope.headers has no `{k}`"));
        let traceparent: TraceParent = get("traceparent")?.parse().map_err(|e| format!("traceparent: {e}"))?;
        let mut builder = Envelope::builder(payload.clone())
            .producer(get("producer")?)
            .source(get("source")?)
            .run_id(get("run_id")?)
            .traceparent(traceparent);
        if let Some(n) = wire.get("retry_count") {
            builder = builder.retry_count(n.parse().map_err(|e| format!("retry_count: {e}"))?);
        }
        let mut envelope = builder.build().map_err(|e| format!("build: {e}"))?;
        envelope.headers.message_id = get("message_id")?.parse().map_err(|e| format!("message_id: {e}"))?;
        envelope.headers.produced_at = get("produced_at")?.to_owned();
        let record = match wire.get("blob_ref") {
            Some(blob_ref) => {
                let (pointer, stored) = envelope.to_blob(blob_ref.clone());
                Self::same_payload("blob bytes", &stored, bytes, exact)?;
                let pointer = if exact { pointer } else { BlobPointer::for_bytes(blob_ref.clone(), bytes) };
                envelope.encode_pointer(&pointer).map_err(|e| format!("encode_pointer: {e}"))?
            }
            None => envelope.encode().map_err(|e| format!("encode: {e}"))?,
        };
        let mut got = as_map(&record.headers)?;
        let mut want = wire.clone();
        if !exact {
            // A different map order changes nothing but the bytes.
            for m in [&mut got, &mut want] {
                m.remove("blob_hash");
            }
        }
        eq("encoded headers", &got, &want)?;
        if wire.contains_key("blob_ref") {
            ensure(record.payload.is_empty(), || "a pointer record has an empty body".into())?;
        } else if wire.get("content_encoding").map(String::as_str) == Some("gzip") {
            Self::same_payload("encoded body, inflated", &gunzip(&record.payload)?, bytes, exact)?;
        } else {
            Self::same_payload("encoded body", &record.payload, bytes, exact)?;
        }
        Ok(record)
    }
}

impl<P, T> Ops for TopicOps<P, T>
where
    P: Message + Default + Clone + PartialEq + Debug + Schema + PartitionKey + Linked + 'static,
    T: Topic<Payload = P, Env = Env> + 'static,
{
    fn positive(&self, v: &Value) -> Check {
        let expect = field(v, "expect")?;
        let (payload, bytes, exact) = Self::payload_schema_and_keys(v)?;
        // 2. the subject and the Kafka mapping.
        let subject = T::topic_for(&payload, env_of(v)?).map_err(|e| format!("topic_for: {e}"))?;
        eq("subject", subject.as_str(), string(expect, "subject")?)?;
        eq("kafka_topic", subject.kafka_topic(), string(expect, "kafka_topic")?)?;
        eq("kafka_key", subject.kafka_key(string(expect, "partition_key")?).as_str(), string(expect, "kafka_key")?)?;
        // 4 and 5.
        let wire = pairs(field(field(v, "envelope")?, "headers")?)?;
        Self::check_decode(v, &wire, &payload, &bytes)?;
        Self::check_encode(&as_map(&wire)?, &payload, &bytes, exact)?;
        Ok(())
    }

    fn dead_letter(&self, v: &Value) -> Check {
        let expect = field(v, "expect")?;
        let source_domain = string(v, "source_domain")?;
        eq("source_domain is the source topic's domain", source_domain, T::DOMAIN)?;
        let (payload, bytes, exact) = Self::payload_schema_and_keys(v)?;
        let env = env_of(v)?;
        let dlq = Dlq::new(env).map_err(|e| e.to_string())?;
        let subject = dlq.subject(source_domain).map_err(|e| format!("dlq subject: {e}"))?;
        eq("subject", subject.as_str(), string(expect, "subject")?)?;
        eq("kafka_topic", subject.kafka_topic(), string(expect, "kafka_topic")?)?;
        eq("kafka_key", subject.kafka_key(string(expect, "partition_key")?).as_str(), string(expect, "kafka_key")?)?;
        let wire = pairs(field(field(v, "envelope")?, "headers")?)?;
        Self::check_decode(v, &wire, &payload, &bytes)?;
        let mut original = as_map(&wire)?;
        let reason = original.remove("dlq_reason").ok_or("a dead letter has a `dlq_reason` header")?;
        let parsed = Headers::from_pairs(wire.iter().cloned()).map_err(|e| e.to_string())?;
        eq("dlq_reason header", parsed.dlq_reason.as_deref(), Some(reason.as_str()))?;
        let record = Self::check_encode(&original, &payload, &bytes, exact)?;
        let letter = dlq
            .dead_letter(source_domain, record.headers.iter().map(|(k, v)| (*k, v.as_str())), record.payload, &reason)
            .map_err(|e| format!("dead_letter: {e}"))?;
        eq("dead letter subject", letter.subject.as_str(), string(expect, "subject")?)?;
        let mut got = as_map(&letter.headers)?;
        let mut want = as_map(&wire)?;
        if !exact {
            got.remove("blob_hash");
            want.remove("blob_hash");
        }
        eq("dead letter headers", got, want)?;
        let body = b64(field(v, "envelope")?, "body_base64")?;
        let inflated =
            if wire.iter().any(|(k, _)| k == "content_encoding") { gunzip(&letter.payload)? } else { letter.payload };
        let want_body = if wire.iter().any(|(k, _)| k == "content_encoding") { gunzip(&body)? } else { body };
        Self::same_payload("dead letter body", &inflated, &want_body, exact)
    }

    fn subject(&self, env: Env, args: &Args) -> Result<Subject, RouteError> {
        (self.subject)(env, args)
    }

    fn route(&self, v: &Value) -> Check {
        let payload = match v.get("payload_base64") {
            Some(_) => Self::decode_bytes(&b64(v, "payload_base64")?)?,
            None => Self::from_json(field(v, "payload_json")?)?,
        };
        let want = string(v, "error")?;
        kind_of(T::topic_for(&payload, env_of(v)?), "topic_for", want)?;
        match v.get("partition_key") {
            Some(pk) => eq(
                "partition_key (keys are not subject tokens)",
                T::partition_key(&payload).map_err(|e| format!("partition_key: {e}"))?.as_str(),
                pk.as_str().ok_or("`partition_key` is not a string")?,
            ),
            None => kind_of(T::partition_key(&payload), "partition_key", want),
        }
    }

    fn verify(&self, v: &Value) -> Check {
        let headers = Headers::from_pairs(pairs(field(v, "headers")?)?).map_err(|e| format!("headers: {e}"))?;
        kind_of(P::verify(&headers), "verify", string(v, "error")?)
    }

    fn decode(&self, v: &Value) -> Check {
        let body = b64(v, "body_base64")?;
        kind_of(Envelope::<P>::decode(pairs(field(v, "headers")?)?, &body), "decode", string(v, "error")?)
    }

    fn accept(&self, v: &Value) -> Check {
        let body = b64(v, "body_base64")?;
        let got = Envelope::<P>::decode(pairs(field(v, "headers")?)?, &body).map_err(|e| format!("decode: {e}"))?;
        eq("decoded payload", got.payload, Self::from_json(field(v, "payload_json")?)?)
    }
}

fn domain_of(v: &Value) -> Result<&str, String> {
    let topic = string(v, "topic")?;
    Ok(topic.split('.').next().unwrap_or(topic))
}

fn run_positive(v: &Value) -> Check {
    let topic = string(v, "topic")?;
    if topic == DLQ_TOPIC {
        topic_ops(string(v, "source_topic")?).dead_letter(v)
    } else {
        topic_ops(topic).positive(v)
    }
}

fn run_negative(v: &Value) -> Check {
    let want = string(v, "error")?;
    ensure(ERROR_KINDS.contains(&want), || format!("unknown error kind `{want}`"))?;
    match string(v, "operation")? {
        "subject" => {
            // Text becomes an `Env` only by parsing, and no builder takes
            // text: an env outside the registry is rejected right here.
            let env = match string(v, "env")?.parse::<Env>() {
                Ok(env) => env,
                Err(e) => return kind_of::<(), _>(Err(e), "Env::from_str", want),
            };
            let args = field(v, "args")?.as_object().ok_or("`args` is not an object")?;
            let topic = string(v, "topic")?;
            let subject = if topic == DLQ_TOPIC {
                Dlq::new(env).and_then(|d| d.subject(arg(args, "source_domain")))
            } else {
                topic_ops(topic).subject(env, args)
            };
            kind_of(subject, "subject", want)
        }
        "route" => topic_ops(string(v, "topic")?).route(v),
        "headers" => kind_of(Headers::from_pairs(pairs(field(v, "headers")?)?), "headers", want),
        "verify" => topic_ops(string(v, "topic")?).verify(v),
        "decode" => topic_ops(string(v, "topic")?).decode(v),
        other => Err(format!("unknown operation `{other}`")),
    }
}

fn name(v: &Value) -> String {
    v.get("name").and_then(Value::as_str).unwrap_or("<unnamed>").to_owned()
}

#[test]
fn positive_vectors() {
    let dir = vectors_dir().join("positive");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
    let mut topics_seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for file in &files {
        for v in load(file) {
            let n = name(&v);
            assert!(names.insert(n.clone()), "vector name `{n}` appears twice");
            match domain_of(&v) {
                Ok(d) => *per_domain.entry(d.to_owned()).or_default() += 1,
                Err(e) => failures.push(format!("{n}: {e}")),
            }
            let topic = v.get("source_topic").or(v.get("topic")).and_then(Value::as_str).unwrap_or("");
            *topics_seen.entry(topic.to_owned()).or_default() += 1;
            if let Err(e) = run_positive(&v) {
                failures.push(format!("{n} ({}): {e}", file.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(failures.is_empty(), "{} positive vector(s) failed:\n  {}", failures.len(), failures.join("\n  "));
    for d in DOMAINS {
        let n = per_domain.get(d).copied().unwrap_or(0);
        assert!(n >= MIN_PER_DOMAIN, "domain `{d}` has {n} positive vectors, want at least {MIN_PER_DOMAIN}");
    }
    assert_eq!(per_domain.len(), DOMAINS.len(), "domains with vectors: {per_domain:?}");
    for t in TOPICS {
        assert!(topics_seen.contains_key(t), "topic `{t}` has no positive vector");
    }
    let total: usize = per_domain.values().sum();
    assert_eq!(total, POSITIVE_TOTAL, "positive vectors run, per domain: {per_domain:?}");
}

/// `accept.json`: records at the edge of a wire or gzip rule that every
/// runtime decodes, to exactly `payload_json`.
#[test]
fn accept_vectors() {
    let vectors = load(&vectors_dir().join("accept.json"));
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for v in &vectors {
        let n = name(v);
        assert!(names.insert(n.clone()), "vector name `{n}` appears twice");
        let run = || -> Check {
            ensure(string(v, "operation")? == "decode", || "accept vectors decode".into())?;
            topic_ops(string(v, "topic")?).accept(v)
        };
        if let Err(e) = run() {
            failures.push(format!("{n}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{} accept vector(s) failed:\n  {}", failures.len(), failures.join("\n  "));
    assert_eq!(vectors.len(), ACCEPT_TOTAL, "accept vectors run");
}

#[test]
fn negative_vectors() {
    let vectors = load(&vectors_dir().join("negative.json"));
    let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for v in &vectors {
        let n = name(v);
        assert!(names.insert(n.clone()), "vector name `{n}` appears twice");
        *per_op.entry(v.get("operation").and_then(Value::as_str).unwrap_or("").to_owned()).or_default() += 1;
        *per_kind.entry(v.get("error").and_then(Value::as_str).unwrap_or("").to_owned()).or_default() += 1;
        if let Err(e) = run_negative(v) {
            failures.push(format!("{n}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{} negative vector(s) failed:\n  {}", failures.len(), failures.join("\n  "));
    for op in ["subject", "route", "headers", "verify", "decode"] {
        assert!(per_op.get(op).copied().unwrap_or(0) >= 3, "operation `{op}` has fewer than 3 vectors: {per_op:?}");
    }
    for kind in ERROR_KINDS.iter().filter(|k| **k != "too_large") {
        assert!(per_kind.contains_key(*kind), "no negative vector expects `{kind}`: {per_kind:?}");
    }
    assert_eq!(vectors.len(), NEGATIVE_TOTAL, "negative vectors run, per operation: {per_op:?}");
}
