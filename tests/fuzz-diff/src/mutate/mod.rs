//! The seeded mutator: records derived from the conformance vectors, each
//! changed by one to three mutations (payload wire format, raw bytes, gzip,
//! headers). Record `i` under seed `s` is the same on every machine.

mod gzip;
mod headers;
mod payload;

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use crate::record::Record;
use crate::rng::Rng;
pub use gzip::Bombs;
use gzip::Plan;

/// A record of the vectors to start from: a payload topic, its headers and
/// the plain payload bytes (or the body, when the vector's body is not a
/// payload, as in the decode negatives).
#[derive(Clone, Debug)]
pub struct Seed {
    pub name: String,
    pub topic: String,
    pub headers: headers::Pairs,
    pub payload: Vec<u8>,
    pub gzip: bool,
}

pub struct Seeds {
    /// Positive vectors under 64 KiB.
    small: Vec<Seed>,
    /// The 128 KiB boundary vectors: rarely, they make big records.
    large: Vec<Seed>,
    /// The decode negatives: already at an edge.
    negative: Vec<Seed>,
}

fn b64(v: &Value) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).map_err(|e| e.to_string())
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect(),
        Value::Array(a) => {
            a.iter().filter_map(|p| Some((p.get(0)?.as_str()?.to_owned(), p.get(1)?.as_str()?.to_owned()))).collect()
        }
        _ => Vec::new(),
    }
}

fn load(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(v.get("vectors").and_then(Value::as_array).cloned().unwrap_or_default())
}

impl Seeds {
    /// Every positive vector, every decode negative and every accept
    /// vector of `dir` (tests/vectors), in file and vector order.
    pub fn load(dir: &Path) -> Result<Seeds, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir.join("positive"))
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let (mut small, mut large, mut negative) = (Vec::new(), Vec::new(), Vec::new());
        for file in files {
            for v in load(&file)? {
                let topic = v.get("source_topic").or(v.get("topic")).and_then(Value::as_str).unwrap_or("");
                let env = &v["envelope"];
                let headers = pairs(&env["headers"]);
                let gzip = headers.iter().any(|(k, v)| k == "content_encoding" && v == "gzip");
                let seed = Seed {
                    name: v["name"].as_str().unwrap_or("").to_owned(),
                    topic: topic.to_owned(),
                    headers,
                    payload: b64(&v["payload_base64"])?,
                    gzip,
                };
                if seed.payload.len() > 64 << 10 {
                    large.push(seed);
                } else {
                    small.push(seed);
                }
            }
        }
        // The decode negatives and the accept vectors: records at the edge
        // of a rule, whose neighbours are where runtimes tend to differ.
        let edge = [load(&dir.join("negative.json"))?, load(&dir.join("accept.json"))?].concat();
        for v in edge {
            if v["operation"] != "decode" {
                continue;
            }
            let body = b64(&v["body_base64"])?;
            if body.len() > 16 << 10 {
                continue; // the bombs: the gzip mutations make their own
            }
            negative.push(Seed {
                name: v["name"].as_str().unwrap_or("").to_owned(),
                topic: v["topic"].as_str().unwrap_or("").to_owned(),
                headers: pairs(&v["headers"]),
                payload: body,
                gzip: false,
            });
        }
        if small.is_empty() {
            return Err(format!("{}: no positive vectors", dir.display()));
        }
        Ok(Seeds { small, large, negative })
    }

    pub fn len(&self) -> usize {
        self.small.len() + self.large.len() + self.negative.len()
    }

    fn pick(&self, rng: &mut Rng) -> &Seed {
        match rng.weighted(&[85, 1, 14]) {
            1 if !self.large.is_empty() => rng.pick(&self.large),
            2 if !self.negative.is_empty() => rng.pick(&self.negative),
            _ => rng.pick(&self.small),
        }
    }
}

/// Record `index` of the run seeded with `seed`.
pub fn record(seeds: &Seeds, seed: u64, index: u64, bombs: &mut Bombs) -> Record {
    let mut rng = Rng::new(seed, index);
    let base = seeds.pick(&mut rng);
    let mut headers = base.headers.clone();
    let mut payload = base.payload.clone();
    let mut plan: Option<Plan> = base.gzip.then(Plan::default);
    let mut mutations = Vec::new();
    let count = 1 + rng.weighted(&[60, 30, 10]);
    for _ in 0..count {
        let m = match rng.weighted(&[40, 12, 22, 26]) {
            0 => payload::wire_mutation(&mut payload, &mut rng),
            1 => {
                let other = seeds.pick(&mut rng).payload.clone();
                payload::raw_mutation(&mut payload, &other, &mut rng)
            }
            2 => {
                let p = plan.get_or_insert_with(Plan::default);
                headers::set(&mut headers, "content_encoding", "gzip".into());
                gzip::gzip_mutation(p, payload.len(), &mut rng)
            }
            _ => headers::header_mutation(&mut headers, &mut rng),
        };
        mutations.push(m);
    }
    if rng.chance(1, 5000) {
        let p = plan.get_or_insert_with(Plan::default);
        headers::set(&mut headers, "content_encoding", "gzip".into());
        mutations.push(gzip::bomb(p, &mut rng));
    }
    let body = match &plan {
        Some(p) => p.body(&payload, bombs),
        None => payload,
    };
    Record { id: index, topic: base.topic.clone(), headers, body, seed: base.name.clone(), mutations }
}
