//! Classifying the difference between two payload schema models: the
//! wire- and JSON-level rules of docs/compatibility.md.
//!
//! Messages and enums are matched by full name, fields and enum values by
//! number, because numbers are the wire identity. A message that is no
//! longer reachable is not a change of its own: the field that stopped
//! referencing it is, and is classified there (so a removal with its number
//! reserved does not also report every message it used to reach).

use super::model::{Enum, Field, Message, Schema};
use super::{Change, Class, Loc};

/// Every classified difference between `old` and `new`, in a stable order.
/// With `json_breaking == false` (the domain's `compat: {json: false}`),
/// JSON-level changes are compatible.
pub fn diff(old: &Schema, new: &Schema, json_breaking: bool) -> Vec<Change> {
    let mut out = Vec::new();
    let json = if json_breaking { Class::BreakingJson } else { Class::Compatible };
    for (name, new_msg) in &new.messages {
        match old.messages.get(name) {
            Some(old_msg) => message(&mut out, name, old_msg, new_msg, json),
            None => out.push(Change {
                addition: true,
                ..Change::new(
                    Class::Compatible,
                    format!("message {name}"),
                    None,
                    Some(format!("message {name} {}", new_msg.header)),
                    format!("message `{name}` added"),
                    Loc::Message(name.clone()),
                )
            }),
        }
    }
    for (name, new_enum) in &new.enums {
        match old.enums.get(name) {
            Some(old_enum) => enumeration(&mut out, name, old_enum, new_enum, json),
            None => out.push(Change {
                addition: true,
                ..Change::new(
                    Class::Compatible,
                    format!("enum {name}"),
                    None,
                    Some(format!("enum {name} {}", new_enum.header)),
                    format!("enum `{name}` added"),
                    Loc::Enum(name.clone()),
                )
            }),
        }
    }
    out
}

fn message(out: &mut Vec<Change>, name: &str, old: &Message, new: &Message, json: Class) {
    if old.header != new.header {
        out.push(Change::new(
            Class::BreakingWire,
            format!("message {name}"),
            Some(format!("message {name} {}", old.header)),
            Some(format!("message {name} {}", new.header)),
            format!("message `{name}` changed `{}` -> `{}` (syntax or wire format)", old.header, new.header),
            Loc::Message(name.to_owned()),
        ));
    }
    let numbers: std::collections::BTreeSet<u32> = old.fields.keys().chain(new.fields.keys()).copied().collect();
    for n in numbers {
        let loc = Loc::Field { message: name.to_owned(), number: n };
        match (old.fields.get(&n), new.fields.get(&n)) {
            (Some(o), Some(f)) => {
                if let Some(change) = field_changed(name, o, f, json, loc) {
                    out.push(change);
                }
            }
            (Some(o), None) => {
                let item = format!("field {name}.{} (#{n})", o.name);
                let (class, what) = match (new.reserved.number(n.into()), new.reserved.name(&o.name)) {
                    (true, true) => (Class::Compatible, "removed; its number and name are reserved"),
                    (true, false) => (json, "removed; its number is reserved but its name is not"),
                    _ => (Class::BreakingWire, "removed without reserving its number"),
                };
                let summary = format!("field `{}` (#{n}) of `{name}` {what}", o.name);
                out.push(Change::new(class, item, Some(o.line.clone()), None, summary, loc));
            }
            (None, Some(f)) => {
                let item = format!("field {name}.{} (#{n})", f.name);
                let (class, what) = if old.reserved.number(n.into()) {
                    (Class::BreakingWire, "added with a reserved number")
                } else if old.reserved.name(&f.name) {
                    (json, "added with a reserved name")
                } else if f.label == "required" {
                    (Class::BreakingWire, "added as `required`")
                } else {
                    (Class::Compatible, "added")
                };
                let summary = format!("field `{}` (#{n}) of `{name}` {what}", f.name);
                let addition = class == Class::Compatible;
                out.push(Change { addition, ..Change::new(class, item, None, Some(f.line.clone()), summary, loc) });
            }
            (None, None) => {}
        }
    }
}

const WIDENED: (&str, &str) = (
    "compat::widened",
    "compatible on the wire, but readers built against the old schema truncate new values; upgrade consumers first",
);
const CAUTION: (&str, &str) =
    ("compat::caution", "compatible on the wire, but readers may behave differently; review the consumers");

/// Scalar widenings that keep every old value and the wire type: compatible,
/// flagged as a warning because narrower readers truncate new values.
const WIDENINGS: &[(&str, &str)] = &[("int32", "int64"), ("uint32", "uint64"), ("sint32", "sint64")];

/// Type changes that keep the bytes on the wire readable, losslessly, but
/// change the JSON form: an enum and `int32` (names against numbers; enums
/// are int32 varints and proto3 enums keep unknown numbers), and `string`,
/// `bytes` and embedded messages (text, base64 and objects, all
/// length-delimited). Narrowings and sign changes stay wire breaks: they
/// parse, but change values.
fn json_only_type_change(old: &str, new: &str) -> bool {
    let enumeration = |t: &str| t.starts_with("enum(");
    let length = |t: &str| t == "string" || t == "bytes" || t.starts_with("message(");
    old == "int32" && enumeration(new) || enumeration(old) && new == "int32" || length(old) && length(new)
}

fn field_changed(message: &str, o: &Field, f: &Field, json: Class, loc: Loc) -> Option<Change> {
    if o.line == f.line {
        return None;
    }
    let mut aspects: Vec<(Class, String)> = Vec::new();
    let mut warning = None;
    if o.ty != f.ty {
        if WIDENINGS.contains(&(o.ty.as_str(), f.ty.as_str())) {
            warning = Some(WIDENED);
            aspects.push((Class::Compatible, format!("type widened `{}` -> `{}`", o.ty, f.ty)));
        } else if o.ty.starts_with("message(") && f.ty.starts_with("message(")
            || o.ty.starts_with("enum(") && f.ty.starts_with("enum(")
        {
            aspects
                .push((Class::BreakingWire, format!("referenced type renamed or replaced `{}` -> `{}`", o.ty, f.ty)));
        } else if json_only_type_change(&o.ty, &f.ty) {
            aspects.push((
                json,
                format!("type changed `{}` -> `{}` (same wire encoding, different JSON form)", o.ty, f.ty),
            ));
        } else {
            aspects.push((Class::BreakingWire, format!("type changed `{}` -> `{}`", o.ty, f.ty)));
        }
    }
    if o.label != f.label {
        aspects.push((Class::BreakingWire, format!("cardinality changed `{}` -> `{}`", o.label, f.label)));
    }
    if o.oneof != f.oneof {
        let show = |x: &Option<String>| x.as_deref().map_or("no oneof".to_owned(), |n| format!("oneof `{n}`"));
        aspects.push((Class::BreakingWire, format!("moved from {} to {}", show(&o.oneof), show(&f.oneof))));
    }
    if o.name != f.name {
        aspects.push((json, format!("renamed `{}` -> `{}`", o.name, f.name)));
    } else if o.json != f.json {
        aspects.push((json, format!("json_name changed {} -> {}", o.json, f.json)));
    }
    if o.presence != f.presence {
        aspects.push((Class::Compatible, format!("presence changed `{}` -> `{}`", o.presence, f.presence)));
    }
    if o.packed != f.packed && o.label == f.label {
        aspects.push((Class::Compatible, "packed encoding changed (parsers accept both)".to_owned()));
    }
    if o.default != f.default {
        warning = warning.or(Some(CAUTION));
        aspects.push((Class::Compatible, "default value changed".to_owned()));
    }
    let class = aspects.iter().map(|(c, _)| *c).max().unwrap_or(Class::Compatible);
    let what: Vec<String> = aspects.into_iter().map(|(_, s)| s).collect();
    let summary = format!("field `{}` (#{}) of `{message}`: {}", f.name, f.number, what.join("; "));
    let item = format!("field {message}.{} (#{})", f.name, f.number);
    Some(Change {
        warning: warning.filter(|_| class == Class::Compatible),
        ..Change::new(class, item, Some(o.line.clone()), Some(f.line.clone()), summary, loc)
    })
}

/// Reservations the baseline had and the current schema dropped: the
/// number or name may now be reused, which a later check can no longer
/// tell from a fresh addition. Compatible (nothing on the wire moved), but
/// a warning.
pub fn reservations_dropped(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    let blocks = old
        .messages
        .iter()
        .map(|(n, m)| ("message", n, &m.reserved, new.messages.get(n).map(|m| &m.reserved)))
        .chain(old.enums.iter().map(|(n, e)| ("enum", n, &e.reserved, new.enums.get(n).map(|e| &e.reserved))));
    for (kind, name, was, now) in blocks {
        // A definition that is gone (or unreachable) is reported elsewhere.
        let Some(now) = now else { continue };
        let mut dropped: Vec<String> = Vec::new();
        for &(a, b) in &was.ranges {
            let mut pos = a;
            while pos <= b {
                match now.ranges.iter().find(|(x, y)| (*x..=*y).contains(&pos)) {
                    Some(&(_, y)) => pos = y.saturating_add(1),
                    None => {
                        dropped.push(if a == b { a.to_string() } else { format!("{a}-{b}") });
                        break;
                    }
                }
            }
        }
        dropped.extend(was.names.difference(&now.names).map(|n| format!("\"{n}\"")));
        if dropped.is_empty() {
            continue;
        }
        let loc = if kind == "message" { Loc::Message(name.clone()) } else { Loc::Enum(name.clone()) };
        let text = dropped.join(", ");
        out.push(Change {
            warning: Some(CAUTION),
            ..Change::new(
                Class::Compatible,
                format!("{kind} {name} reserved"),
                Some(format!("{kind} {name} reserved {text}")),
                None,
                format!("reservation {text} of `{name}` removed: a later change could reuse it unnoticed"),
                loc,
            )
        });
    }
    out
}

fn enumeration(out: &mut Vec<Change>, name: &str, old: &Enum, new: &Enum, json: Class) {
    if old.header != new.header {
        out.push(Change::new(
            Class::BreakingWire,
            format!("enum {name}"),
            Some(format!("enum {name} {}", old.header)),
            Some(format!("enum {name} {}", new.header)),
            format!("enum `{name}` changed `{}` -> `{}` (syntax: open or closed enum)", old.header, new.header),
            Loc::Enum(name.to_owned()),
        ));
    }
    let line = |n: i32, v: &str| format!("value {n} {v}");
    let value = |n: i32, v: &str| Loc::Value { enum_name: name.to_owned(), number: n, name: v.to_owned() };
    // A name that now has another number: renumbered, reported once here.
    let mut renumbered = std::collections::BTreeSet::new();
    for (n, v) in &old.values {
        match new.number_of(v) {
            Some(m) if m != *n && !new.names_at(*n).contains(v.as_str()) => {
                renumbered.insert(v.clone());
                out.push(Change::new(
                    Class::BreakingWire,
                    format!("value {name}.{v}"),
                    Some(line(*n, v)),
                    Some(line(m, v)),
                    format!("value `{v}` of `{name}` renumbered {n} -> {m}"),
                    value(m, v),
                ));
            }
            _ => {}
        }
    }
    let numbers: std::collections::BTreeSet<i32> = old.values.iter().chain(&new.values).map(|(n, _)| *n).collect();
    for n in numbers {
        let (was, now) = (old.names_at(n), new.names_at(n));
        if was == now {
            continue;
        }
        let gone: Vec<&str> = was.difference(&now).copied().filter(|v| !renumbered.contains(*v)).collect();
        let came: Vec<&str> = now.difference(&was).copied().filter(|v| !renumbered.contains(*v)).collect();
        let join = |names: &[&str]| names.iter().map(|v| line(n, v)).collect::<Vec<_>>().join("\n");
        let item = |v: &str| format!("value {name}.{v} (={n})");
        match (gone.as_slice(), came.as_slice()) {
            ([], []) => {}
            ([o], [v]) if !was.is_empty() && !now.is_empty() && was.len() == now.len() => out.push(Change::new(
                json,
                item(v),
                Some(line(n, o)),
                Some(line(n, v)),
                format!("value {n} of `{name}` renamed `{o}` -> `{v}`"),
                value(n, v),
            )),
            (gone, came) => {
                if !gone.is_empty() {
                    let all_names = gone.iter().all(|v| new.reserved.name(v));
                    let (class, what) = if !now.is_empty() {
                        (json, "removed (an alias; the number stays)")
                    } else {
                        match (new.reserved.number(n.into()), all_names) {
                            (true, true) => (Class::Compatible, "removed; its number and name are reserved"),
                            (true, false) => (json, "removed; its number is reserved but its name is not"),
                            _ => (Class::BreakingWire, "removed without reserving its number"),
                        }
                    };
                    let summary = format!("value `{}` (={n}) of `{name}` {what}", gone.join("`, `"));
                    out.push(Change::new(class, item(gone[0]), Some(join(gone)), None, summary, value(n, gone[0])));
                }
                if !came.is_empty() {
                    let (class, what) = if old.reserved.number(n.into()) && was.is_empty() {
                        (Class::BreakingWire, "added with a reserved number")
                    } else if came.iter().any(|v| old.reserved.name(v)) {
                        (json, "added with a reserved name")
                    } else {
                        (Class::Compatible, "added")
                    };
                    let summary = format!("value `{}` (={n}) of `{name}` {what}", came.join("`, `"));
                    out.push(Change {
                        addition: class == Class::Compatible,
                        ..Change::new(class, item(came[0]), None, Some(join(came)), summary, value(n, came[0]))
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(body: &str, reserved: &[&str]) -> Schema {
        let text = format!("ampy-canonical-schema v1\nroot a.v1.M\n{body}");
        Schema::parse(&text, &reserved.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn classes(old: &Schema, new: &Schema) -> Vec<(Class, String)> {
        diff(old, new, true).into_iter().map(|c| (c.class, c.summary)).collect()
    }

    const M: &str = "message a.v1.M proto3\n";

    #[test]
    fn field_rules() {
        let base = schema(&format!("{M}  field 1 x optional implicit int32 json=\"x\"\n"), &[]);
        let widened = schema(&format!("{M}  field 1 x optional implicit int64 json=\"x\"\n"), &[]);
        let c = diff(&base, &widened, true);
        assert_eq!((c[0].class, c[0].warning.map(|w| w.0)), (Class::Compatible, Some("compat::widened")));
        let narrowed = diff(&widened, &base, true);
        assert_eq!(narrowed[0].class, Class::BreakingWire);
        let renamed = schema(&format!("{M}  field 1 y optional implicit int32 json=\"y\"\n"), &[]);
        assert_eq!(classes(&base, &renamed)[0].0, Class::BreakingJson);
        assert_eq!(diff(&base, &renamed, false)[0].class, Class::Compatible);
        let removed = schema(M, &[]);
        assert_eq!(classes(&base, &removed)[0].0, Class::BreakingWire);
        let reserved = schema(M, &["message a.v1.M reserved 1", "message a.v1.M reserved name x"]);
        assert_eq!(classes(&base, &reserved)[0].0, Class::Compatible);
        let dropped = reservations_dropped(&reserved, &base);
        assert_eq!(dropped.len(), 1);
        assert_eq!(
            dropped[0].summary,
            "reservation 1, \"x\" of `a.v1.M` removed: a later change could reuse it unnoticed"
        );
        let number_only = schema(M, &["message a.v1.M reserved 1"]);
        assert_eq!(classes(&base, &number_only)[0].0, Class::BreakingJson);
        let reuse = classes(&number_only, &base);
        assert_eq!(reuse[0].0, Class::BreakingWire, "{reuse:?}");
    }

    #[test]
    fn enum_rules() {
        let e = |values: &str| schema(&format!("{M}enum a.v1.E proto3\n{values}"), &[]);
        let base = e("  value 0 E_U\n  value 1 E_A\n");
        let added = e("  value 0 E_U\n  value 1 E_A\n  value 2 E_B\n");
        let c = diff(&base, &added, true);
        assert_eq!((c.len(), c[0].class, c[0].addition), (1, Class::Compatible, true));
        let renumbered = e("  value 0 E_U\n  value 2 E_A\n");
        let c = classes(&base, &renumbered);
        assert_eq!(c, vec![(Class::BreakingWire, "value `E_A` of `a.v1.E` renumbered 1 -> 2".to_owned())]);
        let renamed = e("  value 0 E_U\n  value 1 E_Z\n");
        assert_eq!(classes(&base, &renamed)[0].0, Class::BreakingJson);
        let removed = e("  value 0 E_U\n");
        assert_eq!(classes(&base, &removed)[0].0, Class::BreakingWire);
    }
}
