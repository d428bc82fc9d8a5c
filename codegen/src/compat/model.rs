//! The structured schema model the classifier compares: parsed from a
//! canonical form (docs/schema-hash.md) plus the reserved-lines list the
//! lock stores next to it.
//!
//! Both sides of every comparison, the lock (or a git revision) and the
//! current protos, go through the same text, so the classifier can never
//! disagree with the hash about what the schema is: comments, file layout,
//! declaration order and options that do not reach the canonical form are
//! invisible to it by construction.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::MessageDescriptor;

/// Reserved numbers (inclusive ranges) and names of a message or enum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reserved {
    pub ranges: Vec<(i64, i64)>,
    pub names: BTreeSet<String>,
}

impl Reserved {
    pub fn number(&self, n: i64) -> bool {
        self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&n))
    }

    pub fn name(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// One `field` line of the canonical form, split into its tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The whole canonical line, trimmed: what fingerprints and messages quote.
    pub line: String,
    pub number: u32,
    pub name: String,
    /// `optional`, `required` or `repeated`.
    pub label: String,
    /// `explicit` or `implicit`.
    pub presence: String,
    /// `int64`, `message(a.B)`, `enum(a.E)`, `map(string,int64)`, …
    pub ty: String,
    /// The quoted JSON name as in the canonical form, e.g. `"tradeCount"`.
    pub json: String,
    /// Real (non-synthetic) oneof name.
    pub oneof: Option<String>,
    pub packed: bool,
    pub default: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// `proto3` / `proto2`, plus `message_set_wire_format` if set.
    pub header: String,
    pub fields: BTreeMap<u32, Field>,
    pub reserved: Reserved,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enum {
    pub header: String,
    /// `(number, name)`, sorted; aliases are several names per number.
    pub values: BTreeSet<(i32, String)>,
    /// The values a v2 form marks `alias`: not the first declared name of
    /// their number.
    pub aliases: BTreeSet<(i32, String)>,
    pub reserved: Reserved,
}

impl Enum {
    /// The name JSON writers and key formatting use for `number`: its first
    /// declared name. `None` when the number is not declared, or when a v1
    /// form lists several names for it (v1 did not record which is first).
    pub fn primary(&self, number: i32) -> Option<&str> {
        let mut names =
            self.values.iter().filter(|v| v.0 == number && !self.aliases.contains(*v)).map(|(_, s)| s.as_str());
        match (names.next(), names.next()) {
            (Some(name), None) => Some(name),
            _ => None,
        }
    }

    pub fn names_at(&self, number: i32) -> BTreeSet<&str> {
        self.values.iter().filter(|(n, _)| *n == number).map(|(_, s)| s.as_str()).collect()
    }

    pub fn number_of(&self, name: &str) -> Option<i32> {
        self.values.iter().find(|(_, s)| s == name).map(|(n, _)| *n)
    }
}

/// Everything a payload schema reaches, by full name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub root: String,
    pub messages: BTreeMap<String, Message>,
    pub enums: BTreeMap<String, Enum>,
}

impl Schema {
    /// Parses a canonical form and its reserved lines. Unknown lines are
    /// ignored rather than fatal: a lock written by a newer ampygen must
    /// still be readable enough to compare.
    pub fn parse(canonical: &str, reserved: &[String]) -> Schema {
        let mut schema = Schema::default();
        enum Cur {
            None,
            Message(String),
            Enum(String),
        }
        let mut cur = Cur::None;
        for line in canonical.lines() {
            if let Some(root) = line.strip_prefix("root ") {
                schema.root = root.to_owned();
            } else if let Some(rest) = line.strip_prefix("message ") {
                let (name, header) = rest.split_once(' ').unwrap_or((rest, ""));
                schema.messages.insert(name.to_owned(), Message { header: header.to_owned(), ..Message::default() });
                cur = Cur::Message(name.to_owned());
            } else if let Some(rest) = line.strip_prefix("enum ") {
                let (name, header) = rest.split_once(' ').unwrap_or((rest, ""));
                schema.enums.insert(name.to_owned(), Enum { header: header.to_owned(), ..Enum::default() });
                cur = Cur::Enum(name.to_owned());
            } else if let (Some(rest), Cur::Message(m)) = (line.strip_prefix("  field "), &cur) {
                if let (Some(field), Some(msg)) = (parse_field(line.trim(), rest), schema.messages.get_mut(m)) {
                    msg.fields.insert(field.number, field);
                }
            } else if let (Some(rest), Cur::Enum(e)) = (line.strip_prefix("  value "), &cur) {
                let mut words = rest.split(' ');
                let (number, name) = (words.next().and_then(|n| n.parse::<i32>().ok()), words.next());
                if let (Some(number), Some(name), Some(en)) = (number, name, schema.enums.get_mut(e)) {
                    let value = (number, name.to_owned());
                    if words.next() == Some("alias") {
                        en.aliases.insert(value.clone());
                    }
                    en.values.insert(value);
                }
            }
        }
        for line in reserved {
            let mut words = line.split(' ');
            let (Some(kind), Some(name), Some("reserved"), Some(what)) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                continue;
            };
            let target = match kind {
                "message" => schema.messages.get_mut(name).map(|m| &mut m.reserved),
                "enum" => schema.enums.get_mut(name).map(|e| &mut e.reserved),
                _ => None,
            };
            let Some(target) = target else { continue };
            if what == "name" {
                if let Some(n) = words.next() {
                    target.names.insert(n.to_owned());
                }
            } else {
                let (a, b) = what.split_once('-').unwrap_or((what, what));
                if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                    target.ranges.push((a, b));
                }
            }
        }
        schema
    }
}

/// `field N NAME LABEL PRESENCE TYPE json="…" [oneof=O] [packed] [default=…]`
fn parse_field(line: &str, rest: &str) -> Option<Field> {
    let mut it = rest.splitn(6, ' ');
    let number = it.next()?.parse().ok()?;
    let name = it.next()?.to_owned();
    let label = it.next()?.to_owned();
    let presence = it.next()?.to_owned();
    let ty = it.next()?.to_owned();
    let tail = it.next()?.strip_prefix("json=")?;
    let json_len = quoted_len(tail)?;
    let json = tail[..json_len].to_owned();
    let mut field = Field {
        line: line.to_owned(),
        number,
        name,
        label,
        presence,
        ty,
        json,
        oneof: None,
        packed: false,
        default: None,
    };
    let mut tail = tail[json_len..].trim_start();
    while !tail.is_empty() {
        if let Some(d) = tail.strip_prefix("default=") {
            // Always last, and may contain spaces inside quotes.
            field.default = Some(d.to_owned());
            break;
        }
        let (word, next) = tail.split_once(' ').unwrap_or((tail, ""));
        if let Some(o) = word.strip_prefix("oneof=") {
            field.oneof = Some(o.to_owned());
        } else if word == "packed" {
            field.packed = true;
        }
        tail = next;
    }
    Some(field)
}

/// Length in bytes of the quoted string at the start of `s`, quotes included.
fn quoted_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The reserved numbers and names of every message and enum in
/// `canonical` (the canonical form of `root`), one sorted line each:
/// `message a.B reserved 5-9`, `enum a.E reserved name OLD`.
pub fn reserved_lines(root: &MessageDescriptor, canonical: &str) -> Vec<String> {
    let pool = root.parent_pool();
    let mut out = BTreeSet::new();
    let range = |a: i64, b: i64| if a == b { a.to_string() } else { format!("{a}-{b}") };
    for line in canonical.lines() {
        if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.split(' ').next().unwrap_or_default();
            let Some(m) = pool.get_message_by_name(name) else { continue };
            for r in m.reserved_ranges() {
                if r.end > r.start {
                    out.insert(format!("message {name} reserved {}", range(r.start.into(), i64::from(r.end) - 1)));
                }
            }
            for n in m.reserved_names() {
                out.insert(format!("message {name} reserved name {n}"));
            }
        } else if let Some(rest) = line.strip_prefix("enum ") {
            let name = rest.split(' ').next().unwrap_or_default();
            let Some(e) = pool.get_enum_by_name(name) else { continue };
            for r in e.reserved_ranges() {
                out.insert(format!("enum {name} reserved {}", range((*r.start()).into(), (*r.end()).into())));
            }
            for n in e.reserved_names() {
                out.insert(format!("enum {name} reserved name {n}"));
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_values_and_reservations() {
        let canonical = "ampy-canonical-schema v2\nroot a.v1.M\nenum a.v1.E proto3\n  value 0 E_UNSPECIFIED\n  value 1 E_ALIAS alias\n  value 1 E_ONE\nmessage a.v1.M proto3\n  field 1 x optional explicit string json=\"a b\\\"\" oneof=ref packed\n  field 2 y repeated implicit int64 json=\"y\" packed default=\"q r\"\n";
        let reserved = vec!["message a.v1.M reserved 5-9".to_owned(), "enum a.v1.E reserved name OLD".to_owned()];
        let s = Schema::parse(canonical, &reserved);
        assert_eq!(s.root, "a.v1.M");
        let m = &s.messages["a.v1.M"];
        let x = &m.fields[&1];
        assert_eq!((x.json.as_str(), x.oneof.as_deref(), x.packed), ("\"a b\\\"\"", Some("ref"), true));
        assert_eq!(m.fields[&2].default.as_deref(), Some("\"q r\""));
        assert!(m.reserved.number(5) && m.reserved.number(9) && !m.reserved.number(10));
        let e = &s.enums["a.v1.E"];
        assert_eq!(e.names_at(1), BTreeSet::from(["E_ALIAS", "E_ONE"]));
        assert_eq!((e.primary(0), e.primary(1), e.primary(2)), (Some("E_UNSPECIFIED"), Some("E_ONE"), None));
        let v1 = Schema::parse(&canonical.replace(" alias", ""), &[]);
        assert_eq!(v1.enums["a.v1.E"].primary(1), None, "v1 does not say which alias is first");
        assert!(e.reserved.name("OLD"));
    }
}
