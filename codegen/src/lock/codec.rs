//! The lock file's text: format 5 is written, formats 1 to 5 are read.
//!
//! Format 5 exists to keep the lock of a company-wide registry small
//! (issue 15: at most 2 KB per schema) while it stays one reviewable item
//! per line. It leaves out what the rest of the file already says, and
//! the reader derives it back:
//!
//! - `blocks` is one flat list holding every message and enum block once,
//!   in name order: a block's header line as in the canonical form, then
//!   its member lines without their two-space indent and without
//!   ` json="…"` when that is the default derived from the field name.
//! - A schema entry holds its hash (and reserved lines). Its canonical form
//!   is derived: the root is the entry's name, the blocks are those the
//!   root reaches through the type tokens of field lines (sorted by name,
//!   as the form sorts them), and the version line is `v2` exactly when a
//!   reached enum has an `alias` value (docs/schema-hash.md §1).
//! - `qos_tiers` holds each QoS tier's settings once; a topic names its
//!   tier. `json_breaking` is written only when false; `key_format` only
//!   when it differs from the subtopic; `keys` pairs each key field's path
//!   with its type (`name=path type`).
//!
//! Nothing here trusts that the model obeys those rules: the writer
//! derives every entry back before it leaves anything out, and an entry
//! (or block) that would not come back exactly is written out in full
//! instead, in the spelling older formats used (`canonical`, `key_fields`,
//! `key_types`, `qos_settings`), which the reader accepts in any format.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{split_blocks, LockedDelivery, LockedSchema, LockedTopic, Lockfile, LOCK_FORMAT};
use crate::canonical;
use crate::diag::{Diagnostic, Source};

const NOTE: &str = "Written by `ampygen lock`: every locked payload schema's hash and reserved numbers (its canonical form is the `root` line and every block it reaches, each block stored once under `blocks`), every topic's routing and delivery settings (each QoS tier's settings once under `qos_tiers`), the namespace and the envs. `ampygen check` classifies changes against it. Review diffs; do not edit by hand.";

/// Deterministic JSON (sorted keys, one item per line) in [`LOCK_FORMAT`].
pub(super) fn render(lock: &Lockfile) -> String {
    let pool = Pool::of(lock);
    let mut deriver = Deriver::new(&pool.text);
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut schemas = Map::new();
    for (name, s) in &lock.schemas {
        let mut entry = Map::new();
        entry.insert("hash".into(), json!(s.hash));
        match deriver.derive(name) {
            Ok((text, reached)) if text == s.canonical => used.extend(reached),
            _ => {
                entry.insert("canonical".into(), json!(s.canonical.lines().collect::<Vec<_>>()));
            }
        }
        if !s.reserved.is_empty() {
            entry.insert("reserved".into(), json!(s.reserved));
        }
        schemas.insert(name.clone(), Value::Object(entry));
    }
    let blocks: Vec<&str> = used.iter().flat_map(|n| pool.encoded[*n].iter().map(String::as_str)).collect();
    // Each tier's settings as its first topic (in id order) records them;
    // a topic that disagrees keeps its own (see `topic_entry`).
    let mut tiers: BTreeMap<&str, &[String]> = BTreeMap::new();
    for d in lock.topics.values().filter_map(|t| t.delivery.as_ref()) {
        tiers.entry(&d.qos).or_insert(&d.qos_settings);
    }
    let topics: Map<String, Value> =
        lock.topics.iter().map(|(id, t)| (id.clone(), Value::Object(topic_entry(t, &tiers)))).collect();
    let doc = json!({
        "format": LOCK_FORMAT,
        "generator": concat!("ampygen ", env!("CARGO_PKG_VERSION")),
        "note": NOTE,
        "namespace": lock.namespace,
        "envs": lock.envs,
        "blocks": blocks,
        "qos_tiers": tiers,
        "schemas": Value::Object(schemas),
        "topics": Value::Object(topics),
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// The blocks every schema can be derived from: each definition whose
/// schemas all agree on its text and whose encoding gives that text back.
struct Pool<'a> {
    text: BTreeMap<String, String>,
    encoded: BTreeMap<&'a str, Vec<String>>,
}

impl<'a> Pool<'a> {
    fn of(lock: &'a Lockfile) -> Pool<'a> {
        let mut variants: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for s in lock.schemas.values() {
            for (name, text) in split_blocks(&s.canonical).1 {
                variants.entry(name).or_default().insert(text);
            }
        }
        let mut pool = Pool { text: BTreeMap::new(), encoded: BTreeMap::new() };
        for (name, texts) in variants {
            // A name with two texts (a lock mixing canonical versions) has
            // no one block to derive from: its schemas are written inline.
            let mut texts = texts.into_iter();
            let (Some(text), None) = (texts.next(), texts.next()) else { continue };
            let lines: Vec<String> = text.lines().enumerate().map(|(i, l)| encode_line(i, l)).collect();
            let back = parse_blocks(lines.iter().map(String::as_str));
            if back.ok().is_some_and(|b| b.len() == 1 && b.get(name) == Some(&text)) {
                pool.text.insert(name.to_owned(), text);
                pool.encoded.insert(name, lines);
            }
        }
        pool
    }
}

/// Line `index` of a block as written: the header as it is; a member line
/// compacted when [`decode_line`] gives it back exactly, else as it is.
fn encode_line(index: usize, line: &str) -> String {
    if index == 0 {
        return line.to_owned();
    }
    let compact = match line.strip_prefix("  ") {
        Some(rest) if rest.starts_with("field ") => {
            let mut tokens: Vec<&str> = rest.split(' ').collect();
            let default = tokens.get(2).map(|n| format!("json=\"{}\"", default_json_name(n)));
            if tokens.len() > 6 && Some(tokens[6]) == default.as_deref() {
                tokens.remove(6);
            }
            tokens.join(" ")
        }
        Some(rest) if rest.starts_with("value ") => rest.to_owned(),
        _ => return line.to_owned(),
    };
    if decode_line(&compact) == line {
        compact
    } else {
        line.to_owned()
    }
}

/// A member line of `blocks` as the canonical form has it: indented, and
/// with the default ` json="…"` after the type token when it is missing.
/// Lines that start with a space were written verbatim.
fn decode_line(line: &str) -> String {
    if line.starts_with("field ") {
        let mut tokens: Vec<&str> = line.split(' ').collect();
        let json = format!("json=\"{}\"", default_json_name(tokens.get(2).copied().unwrap_or("")));
        if tokens.len() >= 6 && !tokens.get(6).is_some_and(|t| t.starts_with("json=")) {
            tokens.insert(6, &json);
        }
        format!("  {}", tokens.join(" "))
    } else if line.starts_with("value ") {
        format!("  {line}")
    } else {
        line.to_owned()
    }
}

fn is_member(line: &str) -> bool {
    line.starts_with(' ') || line.starts_with("field ") || line.starts_with("value ")
}

/// The JSON name protobuf derives from a field name (docs/schema-hash.md
/// §3): every `_` dropped and the letter after it upper-cased.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// The flat `blocks` list as block texts by definition name.
fn parse_blocks<'l>(lines: impl Iterator<Item = &'l str>) -> Result<BTreeMap<String, String>, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in lines {
        if is_member(line) {
            let Some((_, text)) = current.as_mut() else {
                return Err(format!("`blocks` starts with {line:?}, not a `message` or `enum` line"));
            };
            text.push_str(&decode_line(line));
            text.push('\n');
            continue;
        }
        if let Some((name, text)) = current.take() {
            if out.insert(name.clone(), text).is_some() {
                return Err(format!("`blocks` holds `{name}` twice"));
            }
        }
        let name = line.split(' ').nth(1).unwrap_or(line).to_owned();
        current = Some((name, format!("{line}\n")));
    }
    if let Some((name, text)) = current {
        if out.insert(name.clone(), text).is_some() {
            return Err(format!("`blocks` holds `{name}` twice"));
        }
    }
    Ok(out)
}

/// Derives canonical forms from a pool of blocks. Each block's references
/// and alias marker are read once, however many schemas reach it: a block
/// every payload shares is otherwise scanned once per payload.
struct Deriver<'p> {
    pool: &'p BTreeMap<String, String>,
    facts: BTreeMap<&'p str, (Vec<&'p str>, bool)>,
}

impl<'p> Deriver<'p> {
    fn new(pool: &'p BTreeMap<String, String>) -> Self {
        Deriver { pool, facts: BTreeMap::new() }
    }

    /// The canonical form of the schema rooted at `root`, and the blocks it
    /// reaches; `Err(name)` for a reached block the pool does not hold.
    fn derive(&mut self, root: &str) -> Result<(String, BTreeSet<&'p str>), String> {
        let mut reached: BTreeSet<&'p str> = BTreeSet::new();
        let mut todo: Vec<&str> = vec![root];
        let mut aliased = false;
        while let Some(name) = todo.pop() {
            let Some((key, text)) = self.pool.get_key_value(name) else { return Err(name.to_owned()) };
            if reached.insert(key) {
                let (refs, alias) = self.facts.entry(key.as_str()).or_insert_with(|| {
                    (references(text).collect(), text.lines().any(|l| l.starts_with("  value ") && l.ends_with(" alias")))
                });
                aliased |= *alias;
                todo.extend(refs.iter().copied());
            }
        }
        let version = if aliased { canonical::VERSION_LINE_V2 } else { canonical::VERSION_LINE };
        let len = version.len() + "\nroot \n".len() + root.len() + reached.iter().map(|n| self.pool[*n].len()).sum::<usize>();
        let mut out = String::with_capacity(len);
        out.push_str(version);
        out.push_str("\nroot ");
        out.push_str(root);
        out.push('\n');
        for name in &reached {
            out.push_str(&self.pool[*name]);
        }
        Ok((out, reached))
    }
}

/// The definitions a block's field lines name in their type tokens
/// (`message(…)`, `enum(…)`, `group(…)`, also inside `map(…)`).
fn references(block: &str) -> impl Iterator<Item = &str> {
    block.lines().filter_map(|l| l.strip_prefix("  field ")?.split(' ').nth(4)).flat_map(|ty| {
        let parts: Vec<&str> = ty.split(['(', ')', ',']).collect();
        let names: Vec<&str> = parts
            .windows(2)
            .filter(|w| matches!(w[0], "message" | "enum" | "group") && !w[1].is_empty())
            .map(|w| w[1])
            .collect();
        names
    })
}

/// A topic's entry: compact when reading it back gives the topic exactly,
/// else every field spelled out.
fn topic_entry(t: &LockedTopic, tiers: &BTreeMap<&str, &[String]>) -> Map<String, Value> {
    let mut obj = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            obj.insert(k.to_owned(), v);
        }
    };
    put("payload", json!(t.payload));
    put("schema_version", json!(t.schema_version));
    put("subtopic", json!(t.subtopic));
    put("deprecated", json!(t.deprecated));
    if let Some(d) = &t.delivery {
        put("ordering", json!(d.ordering));
        put("dedupe", json!(d.dedupe));
        put("qos", json!(d.qos));
        if !d.settings.is_empty() {
            put("settings", json!(d.settings));
        }
    }
    let mut compact = obj.clone();
    // A keyed topic's key format is read as its subtopic when left out.
    let implied = t.payload.as_ref().map(|_| &t.subtopic);
    if t.key_format.as_ref() != implied {
        compact.insert("key_format".into(), json!(t.key_format));
    }
    if !t.key_fields.is_empty() || !t.key_types.is_empty() {
        let keys: Vec<String> = t
            .key_fields
            .iter()
            .zip(&t.key_types)
            .map(|(f, ty)| format!("{f} {}", ty.split_once('=').map_or(ty.as_str(), |(_, v)| v)))
            .collect();
        compact.insert("keys".into(), json!(keys));
    }
    if t.delivery.as_ref().is_some_and(|d| !d.json_breaking) {
        compact.insert("json_breaking".into(), json!(false));
    }
    if read_topic(&compact, LOCK_FORMAT, &|q| tiers.get(q).map(|s| s.to_vec())).ok().as_ref() == Some(t) {
        return compact;
    }
    obj.insert("key_format".into(), json!(t.key_format));
    obj.insert("key_fields".into(), json!(t.key_fields));
    obj.insert("key_types".into(), json!(t.key_types));
    if let Some(d) = &t.delivery {
        obj.insert("qos_settings".into(), json!(d.qos_settings));
        obj.insert("json_breaking".into(), json!(d.json_breaking));
    }
    obj
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// One topic entry of a lock in `format`; `tier` gives a format-5 QoS
/// tier's settings.
fn read_topic(
    entry: &Map<String, Value>,
    format: u64,
    tier: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<LockedTopic, String> {
    let text = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_owned);
    let subtopic = text("subtopic").ok_or("needs `subtopic`")?;
    let payload = text("payload");
    let delivery = match (format >= 3, text("qos")) {
        (false, _) => None,
        (true, Some(qos)) => {
            let qos_settings = match entry.get("qos_settings") {
                Some(v) => strings(Some(v)),
                None if format >= 5 => {
                    tier(&qos).ok_or_else(|| format!("names QoS tier `{qos}`, which `qos_tiers` does not hold"))?
                }
                None => Vec::new(),
            };
            Some(LockedDelivery {
                ordering: text("ordering"),
                dedupe: text("dedupe"),
                qos,
                qos_settings,
                json_breaking: entry.get("json_breaking").and_then(Value::as_bool).unwrap_or(true),
                settings: strings(entry.get("settings")),
            })
        }
        (true, None) => return Err("needs `qos`".into()),
    };
    let key_format = match entry.get("key_format") {
        Some(v) => v.as_str().map(str::to_owned),
        None if format >= 5 && payload.is_some() => Some(subtopic.clone()),
        None => None,
    };
    let (key_fields, key_types) = match entry.get("keys").and_then(Value::as_array) {
        Some(keys) => {
            let mut fields = Vec::with_capacity(keys.len());
            let mut types = Vec::with_capacity(keys.len());
            for k in keys.iter().filter_map(Value::as_str) {
                let (field, ty) = k.split_once(' ').ok_or_else(|| format!("key {k:?} is not `name=path type`"))?;
                let name = field.split_once('=').map_or(field, |(n, _)| n);
                fields.push(field.to_owned());
                types.push(format!("{name}={ty}"));
            }
            (fields, types)
        }
        None => (strings(entry.get("key_fields")), strings(entry.get("key_types"))),
    };
    Ok(LockedTopic {
        payload,
        schema_version: text("schema_version"),
        subtopic,
        key_format,
        key_fields,
        key_types,
        deprecated: text("deprecated"),
        delivery,
    })
}

/// Parses a lock file of any format this build reads.
pub(super) fn parse(source: &Arc<Source>) -> Result<Lockfile, Diagnostic> {
    let bad = |message: String, offset: usize| {
        Diagnostic::error("lock::invalid", message)
            .at(source, offset..offset)
            .help("the lock file is generated; restore it from version control or rerun `ampygen lock`")
    };
    let doc: Value = serde_json::from_str(source.text()).map_err(|e| {
        let offset = source.offset_of(e.line(), e.column().saturating_sub(1));
        bad(format!("invalid lock file: {e}"), offset)
    })?;
    let format = match doc.get("format").and_then(Value::as_u64) {
        Some(f @ 1..=LOCK_FORMAT) => f,
        _ => {
            return Err(bad(format!("unsupported lock file format (this ampygen reads formats 1 to {LOCK_FORMAT})"), 0))
        }
    };
    fn lines_of(v: Option<&Value>) -> Option<Vec<&str>> {
        v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect())
    }
    // Format 4 keys blocks by name (or name#hash); format 5 lists them flat.
    let keyed = doc.get("blocks").and_then(Value::as_object);
    let pool = match doc.get("blocks").and_then(Value::as_array) {
        Some(lines) if format >= 5 => {
            parse_blocks(lines.iter().filter_map(Value::as_str)).map_err(|e| bad(format!("lock file: {e}"), 0))?
        }
        _ => BTreeMap::new(),
    };
    let mut deriver = Deriver::new(&pool);
    let mut schemas = BTreeMap::new();
    for (name, entry) in doc.get("schemas").and_then(Value::as_object).into_iter().flatten() {
        let Some(hash) = entry.get("hash").and_then(Value::as_str) else {
            return Err(bad(format!("lock entry `{name}` needs `hash`"), 0));
        };
        let canonical = match (lines_of(entry.get("canonical")), lines_of(entry.get("head"))) {
            (Some(lines), _) => joined(lines),
            (None, Some(mut lines)) => {
                for r in entry.get("blocks").and_then(Value::as_array).into_iter().flatten() {
                    let Some(block) = r.as_str().and_then(|k| lines_of(keyed.and_then(|b| b.get(k)))) else {
                        return Err(bad(
                            format!("lock entry `{name}` refers to block {r}, which `blocks` does not hold"),
                            0,
                        ));
                    };
                    lines.extend(block);
                }
                joined(lines)
            }
            (None, None) if format >= 5 => deriver.derive(name).map_err(|missing| {
                bad(format!("lock entry `{name}` reaches `{missing}`, which `blocks` does not hold"), 0)
            })?.0,
            (None, None) => {
                return Err(bad(
                    format!("lock entry `{name}` needs `hash` and `canonical` (or `head` and `blocks`)"),
                    0,
                ))
            }
        };
        let reserved = strings(entry.get("reserved"));
        schemas.insert(name.clone(), LockedSchema { hash: hash.to_owned(), canonical, reserved });
    }
    let tiers = doc.get("qos_tiers").and_then(Value::as_object);
    let tier = |q: &str| tiers.and_then(|t| t.get(q)).map(|v| strings(Some(v)));
    let mut topics = BTreeMap::new();
    for (id, entry) in doc.get("topics").and_then(Value::as_object).into_iter().flatten() {
        let empty = Map::new();
        let topic = read_topic(entry.as_object().unwrap_or(&empty), format, &tier)
            .map_err(|e| bad(format!("lock topic `{id}` {e}"), 0))?;
        topics.insert(id.clone(), topic);
    }
    let (namespace, envs) = match format {
        3.. => (doc.get("namespace").and_then(Value::as_str).map(str::to_owned), Some(strings(doc.get("envs")))),
        _ => (None, None),
    };
    Ok(Lockfile { format, namespace, envs, schemas, topics })
}

fn joined(lines: Vec<&str>) -> String {
    let mut canonical = lines.join("\n");
    canonical.push('\n');
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(canonical: &str) -> LockedSchema {
        LockedSchema { hash: canonical::hash_canonical(canonical), canonical: canonical.to_owned(), reserved: Vec::new() }
    }

    fn form(version: &str, root: &str, blocks: &str) -> String {
        format!("{version}\nroot {root}\n{blocks}")
    }

    fn lock() -> Lockfile {
        Lockfile {
            format: LOCK_FORMAT,
            namespace: Some("ampy".into()),
            envs: Some(vec!["dev".into()]),
            ..Lockfile::default()
        }
    }

    fn read(text: &str) -> Result<Lockfile, Diagnostic> {
        parse(&Source::new("l.json", text.to_owned()))
    }

    const SHARED: &str = "message c.Shared proto3\n  field 1 a_b optional implicit string json=\"aB\"\n";

    #[test]
    fn shared_blocks_are_stored_once_and_schemas_derived_from_them() {
        let mut lock = lock();
        for name in ["a.A", "b.B"] {
            let own = format!("message {name} proto3\n  field 1 s optional explicit message(c.Shared) json=\"s\"\n");
            lock.schemas.insert(name.into(), schema(&form(canonical::VERSION_LINE, name, &format!("{own}{SHARED}"))));
        }
        let text = render(&lock);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(text.matches("field 1 a_b optional").count(), 1, "{text}");
        // The default JSON name and the indent are left out, nothing else.
        assert!(text.contains("\"field 1 a_b optional implicit string\""), "{text}");
        assert_eq!(doc["schemas"]["a.A"], json!({ "hash": lock.schemas["a.A"].hash }));
        assert_eq!(read(&text).unwrap(), lock);
        // An unrelated schema moves no other entry and no other block line.
        let mut more = lock.clone();
        let z = form(canonical::VERSION_LINE, "z.Z", "message z.Z proto3\n");
        more.schemas.insert("z.Z".into(), schema(&z));
        let text2 = render(&more);
        let doc2: Value = serde_json::from_str(&text2).unwrap();
        assert_eq!(doc2["schemas"]["a.A"], doc["schemas"]["a.A"]);
        let (before, after) = (doc["blocks"].as_array().unwrap(), doc2["blocks"].as_array().unwrap());
        assert_eq!(after[..before.len()], before[..]);
        // A block a schema reaches but `blocks` lacks is an error, not a guess.
        let broken = text.replace("\"message c.Shared proto3\",", "").replace(",\n    \"field 1 a_b optional implicit string\"", "");
        let err = read(&broken).unwrap_err();
        assert!(err.to_string().contains("reaches `c.Shared`, which `blocks` does not hold"), "{err}");
    }

    #[test]
    fn what_cannot_be_derived_is_written_in_full() {
        let mut lock = lock();
        // A lock mixing canonical versions: two texts for `c.E`.
        let e1 = "enum c.E proto3\n  value 0 X\n  value 0 Y\n";
        let e2 = "enum c.E proto3\n  value 0 X\n  value 0 Y alias\n";
        let own = |n: &str| format!("message {n} proto3\n  field 1 e optional implicit enum(c.E) json=\"e\"\n");
        lock.schemas.insert("d.D".into(), schema(&form(canonical::VERSION_LINE, "d.D", &format!("{}{e1}", own("d.D")))));
        lock.schemas
            .insert("e.E".into(), schema(&form(canonical::VERSION_LINE_V2, "e.E", &format!("{}{e2}", own("e.E")))));
        // v2 derived from an alias; a non-default JSON name and an odd
        // indent kept as written.
        let f = "message f.F proto3\n  field 1 x_y optional implicit string json=\"XY\"\n   field 2 odd\n  field 3 e optional implicit enum(f.G) json=\"e\"\nenum f.G proto3\n  value 0 A\n  value 0 B alias\n";
        lock.schemas.insert("f.F".into(), schema(&form(canonical::VERSION_LINE_V2, "f.F", f)));
        // A head that is not the one derived: the wrong version, another root.
        let g = "message g.G proto3\n";
        lock.schemas.insert("g.G".into(), schema(&form(canonical::VERSION_LINE_V2, "g.G", g)));
        lock.schemas.insert("h.H".into(), schema(&form(canonical::VERSION_LINE, "g.G", g)));
        // A block the root does not reach.
        lock.schemas.insert("i.I".into(), schema(&form(canonical::VERSION_LINE, "i.I", "message i.I proto3\nmessage j.J proto3\n")));
        let text = render(&lock);
        let doc: Value = serde_json::from_str(&text).unwrap();
        for inline in ["d.D", "e.E", "g.G", "h.H", "i.I"] {
            assert!(doc["schemas"][inline].get("canonical").is_some(), "{inline}: {text}");
        }
        assert!(doc["schemas"]["f.F"].get("canonical").is_none(), "{text}");
        assert!(text.contains("\"field 1 x_y optional implicit string json=\\\"XY\\\"\""), "{text}");
        assert!(text.contains("\"   field 2 odd\""), "{text}");
        let blocks = doc["blocks"].as_array().unwrap();
        assert!(!blocks.iter().any(|l| l.as_str().is_some_and(|l| l.starts_with("enum c.E"))), "{text}");
        assert_eq!(read(&text).unwrap(), lock);
    }

    fn topic(subtopic: &str, key_format: Option<&str>, qos: &str, settings: &[&str]) -> LockedTopic {
        LockedTopic {
            payload: key_format.map(|_| "a.A".into()),
            schema_version: Some("1.0.0".into()),
            subtopic: subtopic.into(),
            key_format: key_format.map(str::to_owned),
            key_fields: vec!["k=a.k".into()],
            key_types: vec!["k=signed integer".into()],
            deprecated: None,
            delivery: Some(LockedDelivery {
                ordering: None,
                dedupe: None,
                qos: qos.into(),
                qos_settings: settings.iter().map(|s| s.to_string()).collect(),
                json_breaking: true,
                settings: Vec::new(),
            }),
        }
    }

    #[test]
    fn topics_leave_out_tier_settings_and_implied_values() {
        let mut lock = lock();
        lock.topics.insert("a.v1.a".into(), topic("{k}", Some("{k}"), "rt", &["delivery=at_least_once", "p99_ms=5"]));
        lock.topics.insert("a.v1.b".into(), topic("x.{k}", Some("{k}"), "rt", &["delivery=at_least_once", "p99_ms=5"]));
        let mut c = topic("{k}", Some("{k}"), "std", &[]);
        c.delivery.as_mut().unwrap().json_breaking = false;
        lock.topics.insert("a.v1.c".into(), c);
        let text = render(&lock);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["qos_tiers"], json!({ "rt": ["delivery=at_least_once", "p99_ms=5"], "std": [] }));
        assert_eq!(
            doc["topics"]["a.v1.a"],
            json!({ "keys": ["k=a.k signed integer"], "payload": "a.A", "qos": "rt", "schema_version": "1.0.0", "subtopic": "{k}" })
        );
        assert_eq!(doc["topics"]["a.v1.b"]["key_format"], json!("{k}"));
        assert_eq!(doc["topics"]["a.v1.c"]["json_breaking"], json!(false));
        assert_eq!(read(&text).unwrap(), lock);

        // What the compact form cannot say is spelled out.
        let mut odd = lock.clone();
        // A tier whose topics disagree on its settings.
        odd.topics.insert("b.v1.a".into(), topic("{k}", Some("{k}"), "rt", &["delivery=at_most_once"]));
        // Key fields and types that do not pair up.
        let mut t = topic("{k}", Some("{k}"), "rt", &["delivery=at_least_once", "p99_ms=5"]);
        t.key_types = vec!["q=string".into()];
        odd.topics.insert("b.v1.b".into(), t);
        // A path with a space; a keyed topic without a key format.
        let mut t = topic("{k}", Some("{k}"), "rt", &["delivery=at_least_once", "p99_ms=5"]);
        t.key_fields = vec!["k=a b".into()];
        t.key_format = None;
        odd.topics.insert("b.v1.c".into(), t);
        // A dlq topic: no payload, no key.
        let mut dlq = topic("dlq", None, "std", &[]);
        (dlq.key_fields, dlq.key_types) = (Vec::new(), Vec::new());
        odd.topics.insert("dlq.v1.d".into(), dlq);
        let text = render(&odd);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["topics"]["b.v1.a"]["qos_settings"], json!(["delivery=at_most_once"]));
        assert_eq!(doc["topics"]["b.v1.b"]["key_types"], json!(["q=string"]));
        assert_eq!(doc["topics"]["b.v1.c"]["key_format"], Value::Null);
        assert!(doc["topics"]["b.v1.c"].get("key_format").is_some(), "{text}");
        assert!(doc["topics"]["dlq.v1.d"].get("key_format").is_none(), "{text}");
        assert_eq!(read(&text).unwrap(), odd);
        // A topic naming a tier the file does not hold is an error.
        let err = read(&text.replace("\"qos\": \"std\"", "\"qos\": \"gone\"")).unwrap_err();
        assert!(err.to_string().contains("names QoS tier `gone`"), "{err}");
    }

    #[test]
    fn older_formats_still_read() {
        let mut lock = lock();
        let a = form(canonical::VERSION_LINE, "a.A", &format!("message a.A proto3\n  field 1 s optional explicit message(c.Shared) json=\"s\"\n{SHARED}"));
        lock.schemas.insert("a.A".into(), schema(&a));
        lock.topics.insert("a.v1.a".into(), topic("{k}", Some("{k}"), "rt", &["p99_ms=5"]));
        let lines = |s: &str| json!(s.lines().collect::<Vec<_>>());
        let topic4 = json!({
            "payload": "a.A", "schema_version": "1.0.0", "subtopic": "{k}", "key_format": "{k}",
            "key_fields": ["k=a.k"], "key_types": ["k=signed integer"], "qos": "rt",
            "qos_settings": ["p99_ms=5"], "json_breaking": true,
        });
        let v4 = json!({
            "format": 4, "namespace": "ampy", "envs": ["dev"],
            "blocks": { "a.A": lines(&a[a.find("message a.A").unwrap()..a.find("message c.").unwrap()]), "c.Shared": lines(SHARED) },
            "schemas": { "a.A": { "hash": lock.schemas["a.A"].hash, "head": lines(&a[..a.find("message").unwrap()]), "blocks": ["a.A", "c.Shared"], "reserved": [] } },
            "topics": { "a.v1.a": topic4 },
        });
        let old = read(&v4.to_string()).unwrap();
        assert_eq!((old.format, &old.schemas, &old.topics), (4, &lock.schemas, &lock.topics));
        assert_eq!(old.differences(&lock), vec!["lock format 4 (this ampygen writes format 5)"]);
        let v3 = json!({
            "format": 3, "namespace": "ampy", "envs": ["dev"],
            "schemas": { "a.A": { "hash": lock.schemas["a.A"].hash, "canonical": lines(&a), "reserved": [] } },
            "topics": { "a.v1.a": topic4 },
        });
        let old = read(&v3.to_string()).unwrap();
        assert_eq!((old.format, &old.schemas, &old.topics), (3, &lock.schemas, &lock.topics));
        let err = read(&json!({ "format": 6 }).to_string()).unwrap_err();
        assert!(err.to_string().contains("reads formats 1 to 5"), "{err}");
    }

    #[test]
    fn default_json_names_follow_protobuf() {
        assert_eq!(default_json_name("trade_count_24h"), "tradeCount24h");
        assert_eq!(default_json_name("a__b_"), "aB");
        assert_eq!(default_json_name("_x_1"), "X1");
        assert_eq!(default_json_name("already"), "already");
    }
}
