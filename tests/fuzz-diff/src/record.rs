//! The record exchanged with the drivers: one JSON object per line,
//!
//! ```json
//! {"id": 7, "topic": "bars.v1.bars", "headers": [["message_id", "…"], …], "body": "<base64>"}
//! ```
//!
//! plus `seed` and `mutations`, which drivers ignore. Headers are pairs in
//! wire order, so duplicates survive. A driver answers each line with one
//! line: `<id> ok <sha256 hex of the canonical payload>`, `<id> err <kind>`
//! or `<id> crash <what>` (an exception or panic escaped the decoder).

use base64::Engine as _;
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub topic: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The vector the record started from.
    pub seed: String,
    /// What was done to it, in order.
    pub mutations: Vec<String>,
}

impl Record {
    pub fn to_line(&self) -> String {
        let headers: Vec<Value> = self.headers.iter().map(|(k, v)| json!([k, v])).collect();
        json!({
            "id": self.id,
            "topic": self.topic,
            "headers": headers,
            "body": base64::engine::general_purpose::STANDARD.encode(&self.body),
            "seed": self.seed,
            "mutations": self.mutations,
        })
        .to_string()
    }

    pub fn from_line(line: &str) -> Result<Record, String> {
        let mut v: Value = serde_json::from_str(line).map_err(|e| format!("not a JSON record: {e}"))?;
        // A disagreement saved by `run --out` wraps the record.
        if let Some(inner) = v.get_mut("record").map(Value::take) {
            v = inner;
        }
        let str_of = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let headers = v
            .get("headers")
            .and_then(Value::as_array)
            .ok_or("`headers` is not an array of pairs")?
            .iter()
            .map(|p| match (p.get(0).and_then(Value::as_str), p.get(1).and_then(Value::as_str)) {
                (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
                _ => Err(format!("header `{p}` is not a [name, value] pair of strings")),
            })
            .collect::<Result<_, _>>()?;
        let body = base64::engine::general_purpose::STANDARD
            .decode(str_of("body"))
            .map_err(|e| format!("`body` is not base64: {e}"))?;
        Ok(Record {
            id: v.get("id").and_then(Value::as_u64).ok_or("`id` is not a number")?,
            topic: str_of("topic"),
            headers,
            body,
            seed: str_of("seed"),
            mutations: v
                .get("mutations")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let r = Record {
            id: 3,
            topic: "bars.v1.bars".into(),
            headers: vec![("a".into(), "1".into()), ("a".into(), "\u{0}\n\u{85}".into())],
            body: vec![0, 255, 10],
            seed: "bars.typical".into(),
            mutations: vec!["wire.dup".into()],
        };
        let line = r.to_line();
        assert!(!line.contains('\n'));
        assert_eq!(Record::from_line(&line), Ok(r));
    }
}
