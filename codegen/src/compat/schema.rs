//! Classifying the difference between two payload schema models: the
//! wire- and JSON-level rules of docs/compatibility.md.
//!
//! Messages and enums are matched by full name, fields and enum values by
//! number, because numbers are the wire identity. A message that is no
//! longer reachable is not a change of its own: the field that stopped
//! referencing it is, and is classified there (so a removal with its number
//! reserved does not also report every message it used to reach).
//!
//! The rule behind every class: a change is compatible only if every value
//! written with one schema reads back as the same value with the other, in
//! both directions (producers and consumers upgrade independently), on the
//! wire and, unless the domain says `compat: {json: false}`, in proto3
//! JSON. tests/differential proves each rule by doing the round trips.

use std::collections::BTreeSet;

use super::model::{Field, Message, Schema};
use super::types::{self, Types};
use super::{Change, Class, Loc};

/// A compatible change worth a look: the warning's code and advice.
pub(super) type Warning = (&'static str, &'static str);

pub(super) const CAUTION: Warning =
    ("compat::caution", "compatible on the wire and in JSON, but worth a review; no consumer needs to change");
/// Generated code changes (a type, oneof or accessor name) while the wire
/// and JSON forms do not.
pub(super) const API: Warning = (
    "compat::api_changed",
    "wire and JSON are unchanged, but names in generated code change: rebuild consumers and update the code that uses those names",
);

/// Every classified difference between `old` and `new`, in a stable order.
/// With `json_breaking == false` (the domain's `compat: {json: false}`),
/// JSON-level changes are compatible.
pub fn diff(old: &Schema, new: &Schema, json_breaking: bool) -> Vec<Change> {
    let mut out = Vec::new();
    let json = if json_breaking { Class::BreakingJson } else { Class::Compatible };
    let types = Types { old, new };
    // Definitions that only appear under another name (a rename or package
    // move of the same shape) are not additions.
    let renamed = renamed_targets(&types);
    for (name, new_msg) in &new.messages {
        match old.messages.get(name) {
            Some(old_msg) => message(&mut out, &types, name, old_msg, new_msg, json),
            None if renamed.contains(name) => {}
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
            Some(old_enum) => super::enums::diff(&mut out, name, old_enum, new_enum, json),
            None if renamed.contains(name) => {}
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

/// New names of definitions that a field now references in place of an
/// old definition of exactly the same shape.
fn renamed_targets(types: &Types<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, new_msg) in &types.new.messages {
        let Some(old_msg) = types.old.messages.get(name) else { continue };
        for (n, f) in &new_msg.fields {
            if let Some(o) = old_msg.fields.get(n).filter(|o| o.ty != f.ty) {
                out.extend(types::renamed_pairs(types, &o.ty, &f.ty).into_iter().map(|(_, b)| b));
            }
        }
    }
    out
}

fn message(out: &mut Vec<Change>, types: &Types<'_>, name: &str, old: &Message, new: &Message, json: Class) {
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
    let numbers: BTreeSet<u32> = old.fields.keys().chain(new.fields.keys()).copied().collect();
    let common: BTreeSet<u32> = old.fields.keys().filter(|n| new.fields.contains_key(n)).copied().collect();
    for n in numbers {
        let loc = Loc::Field { message: name.to_owned(), number: n };
        match (old.fields.get(&n), new.fields.get(&n)) {
            (Some(o), Some(f)) => {
                let exclusive = (siblings(old, n, &common), siblings(new, n, &common));
                if let Some(change) = field_changed(types, name, o, f, exclusive, json, loc) {
                    out.push(change);
                }
            }
            (Some(o), None) => {
                let item = format!("field {name}.{} (#{n})", o.name);
                let (class, what) = match (new.reserved.number(n.into()), new.reserved.name(&o.name)) {
                    _ if o.label == "required" => {
                        (Class::BreakingWire, "removed, but it was `required`: old readers reject data without it")
                    }
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

/// The fields (among those on both sides) that share field `n`'s oneof:
/// setting one clears the others. A change to this set, not to the oneof's
/// name, is what loses data.
fn siblings(m: &Message, n: u32, common: &BTreeSet<u32>) -> BTreeSet<u32> {
    let Some(oneof) = m.fields.get(&n).and_then(|f| f.oneof.as_ref()) else { return BTreeSet::new() };
    common
        .iter()
        .copied()
        .filter(|k| *k != n && m.fields.get(k).and_then(|f| f.oneof.as_ref()) == Some(oneof))
        .collect()
}

/// The value a reader sees for an absent field: the explicit default, else
/// the type's zero. `None` for an enum without an explicit default (its
/// first declared value, which the canonical form does not record).
fn effective_default(f: &Field) -> Option<String> {
    if let Some(d) = &f.default {
        return Some(d.clone());
    }
    Some(
        match f.ty.as_str() {
            "bool" => "false",
            "float" | "double" => "0x0000000000000000",
            "string" | "bytes" => "\"\"",
            t if t.starts_with("enum(") || t.starts_with("message(") || t.starts_with("group(") => return None,
            t if t.starts_with("map(") => return None,
            _ => "0",
        }
        .to_owned(),
    )
}

fn show_ids(ids: &BTreeSet<u32>) -> String {
    ids.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(", ")
}

fn field_changed(
    types: &Types<'_>,
    message: &str,
    o: &Field,
    f: &Field,
    (was_exclusive, now_exclusive): (BTreeSet<u32>, BTreeSet<u32>),
    json: Class,
    loc: Loc,
) -> Option<Change> {
    if o.line == f.line {
        return None;
    }
    let mut aspects: Vec<(Class, String)> = Vec::new();
    let mut warning = None;
    if o.ty != f.ty {
        let change = types::classify(types, &o.ty, &f.ty);
        if change.renamed {
            warning = Some(API);
        }
        // A JSON-only type change is compatible where the domain says so.
        let class = if change.class == Class::BreakingJson { json } else { change.class };
        aspects.push((class, change.what));
    }
    if o.label != f.label {
        aspects.push((Class::BreakingWire, format!("cardinality changed `{}` -> `{}`", o.label, f.label)));
    }
    let show = |x: &Option<String>| x.as_deref().map_or("no oneof".to_owned(), |n| format!("oneof `{n}`"));
    if was_exclusive != now_exclusive {
        let joined: BTreeSet<u32> = now_exclusive.difference(&was_exclusive).copied().collect();
        let left: BTreeSet<u32> = was_exclusive.difference(&now_exclusive).copied().collect();
        let mut what = format!("moved from {} to {}", show(&o.oneof), show(&f.oneof));
        if !joined.is_empty() {
            what.push_str(&format!(
                ": now exclusive with {} (old writers may set both; a new reader keeps only the last)",
                show_ids(&joined)
            ));
        }
        if !left.is_empty() {
            what.push_str(&format!(
                ": no longer exclusive with {} (new writers may set both; an old reader keeps only the last)",
                show_ids(&left)
            ));
        }
        aspects.push((Class::BreakingWire, what));
    } else if o.oneof != f.oneof {
        // The same fields exclude each other as before: only the oneof's
        // name (and with it generated accessors) moved.
        warning = warning.or(Some(API));
        let what = match (&o.oneof, &f.oneof) {
            (Some(a), Some(b)) => format!("oneof renamed `{a}` -> `{b}` (the same fields, wire and JSON unchanged)"),
            (None, Some(b)) => format!("wrapped alone in the new oneof `{b}` (wire and JSON unchanged)"),
            (Some(a), None) => format!("taken out of oneof `{a}`, where it was alone (wire and JSON unchanged)"),
            (None, None) => String::new(),
        };
        aspects.push((Class::Compatible, what));
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
        aspects.push(default_changed(types, o, f));
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

/// A proto2 default is the value readers see when the field is absent, so
/// a different default reads old data as another value.
fn default_changed(types: &Types<'_>, o: &Field, f: &Field) -> (Class, String) {
    let show = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_owned());
    let same = match (effective_default(o), effective_default(f)) {
        (Some(a), Some(b)) if o.ty == f.ty && !o.ty.starts_with("enum(") => a == b,
        // Enum defaults are names: equal when they name one number.
        (Some(a), Some(b)) => {
            let number = |s: &Schema, ty: &str, name: &str| {
                let e = ty.strip_prefix("enum(")?.strip_suffix(')')?;
                s.enums.get(e)?.number_of(name)
            };
            number(types.old, &o.ty, &a).is_some_and(|x| Some(x) == number(types.new, &f.ty, &b))
        }
        _ => false,
    };
    if same {
        (Class::Compatible, format!("default written out as {} (the same value)", show(&f.default)))
    } else {
        (
            Class::BreakingWire,
            format!(
                "default changed {} -> {}: readers see another value for an absent field",
                show(&o.default),
                show(&f.default)
            ),
        )
    }
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
            warning: Some((
                "compat::caution",
                "a later change could reuse it with another meaning unnoticed; keep reservations",
            )),
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
        // A widening reads old data unchanged, but old readers truncate
        // new values: a wire break in one direction is a wire break.
        let c = diff(&base, &widened, true);
        assert_eq!(c[0].class, Class::BreakingWire);
        assert!(
            c[0].summary.contains("old data read as `int64`: unchanged; new data read by old readers as `int32`: values beyond 32 bits are truncated"),
            "{}",
            c[0].summary
        );
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
    fn oneof_rules_follow_exclusivity_not_names() {
        let m = |a: &str, b: &str| {
            let tail = |o: &str| if o.is_empty() { String::new() } else { format!(" oneof={o}") };
            schema(
                &format!(
                    "{M}  field 1 a optional explicit string json=\"a\"{}\n  field 2 b optional explicit int64 json=\"b\"{}\n",
                    tail(a),
                    tail(b)
                ),
                &[],
            )
        };
        let base = m("pick", "pick");
        let renamed = diff(&base, &m("choice", "choice"), true);
        assert_eq!(renamed.len(), 2);
        assert!(renamed.iter().all(|c| c.class == Class::Compatible && c.warning == Some(API)), "{renamed:?}");
        assert!(renamed[0].summary.contains("oneof renamed `pick` -> `choice`"), "{}", renamed[0].summary);
        let split = diff(&base, &m("pick", "other"), true);
        assert!(split.iter().all(|c| c.class == Class::BreakingWire), "{split:?}");
        assert!(split[0].summary.contains("no longer exclusive with #1"), "{}", split[0].summary);
        let alone = diff(&m("", "pick"), &m("solo", "pick"), true);
        assert_eq!((alone.len(), alone[0].class), (1, Class::Compatible));
        let joined = diff(&m("", "pick"), &base, true);
        assert_eq!(joined[0].class, Class::BreakingWire);
        assert!(joined[0].summary.contains("now exclusive with #2"), "{}", joined[0].summary);
    }

    #[test]
    fn proto2_defaults_are_values() {
        let p = |tail: &str| {
            schema(&format!("message a.v1.M proto2\n  field 1 x optional explicit int32 json=\"x\"{tail}\n"), &[])
        };
        let c = classes(&p(" default=7"), &p(" default=8"));
        assert_eq!(c[0].0, Class::BreakingWire, "{c:?}");
        assert_eq!(classes(&p(""), &p(" default=0"))[0].0, Class::Compatible);
        assert_eq!(classes(&p(""), &p(" default=3"))[0].0, Class::BreakingWire);
        let required = schema("message a.v1.M proto2\n  field 1 x required explicit int32 json=\"x\"\n", &[]);
        let gone = schema("message a.v1.M proto2\n", &["message a.v1.M reserved 1", "message a.v1.M reserved name x"]);
        assert_eq!(classes(&required, &gone)[0].0, Class::BreakingWire);
    }

    #[test]
    fn enum_primary_names() {
        let e = |values: &str| {
            let text = format!("ampy-canonical-schema v2\nroot a.v1.M\n{M}enum a.v1.E proto3\n{values}");
            Schema::parse(&text, &[])
        };
        let base = e("  value 0 E_U\n  value 1 E_A\n");
        // An alias declared after: JSON writers still print E_A.
        let after = diff(&base, &e("  value 0 E_U\n  value 1 E_A\n  value 1 E_B alias\n"), true);
        assert_eq!((after.len(), after[0].class, after[0].addition), (1, Class::Compatible, true));
        // Declared before: writers print E_B, which old readers reject.
        let before = diff(&base, &e("  value 0 E_U\n  value 1 E_A alias\n  value 1 E_B\n"), true);
        let worst = before.iter().map(|c| c.class).max();
        assert_eq!(worst, Some(Class::BreakingJson), "{before:?}");
        // Reordering known names: old readers accept the new primary.
        let both = e("  value 0 E_U\n  value 1 E_A\n  value 1 E_B alias\n");
        let swapped = diff(&both, &e("  value 0 E_U\n  value 1 E_A alias\n  value 1 E_B\n"), true);
        assert_eq!((swapped.len(), swapped[0].class), (1, Class::Compatible), "{swapped:?}");
        // A v1 baseline does not say which alias is first: no primary change.
        let v1 = Schema::parse(
            "ampy-canonical-schema v1\nroot a.v1.M\nenum a.v1.E proto3\n  value 1 E_A\n  value 1 E_B\n",
            &[],
        );
        let v2 = Schema::parse(
            "ampy-canonical-schema v2\nroot a.v1.M\nenum a.v1.E proto3\n  value 1 E_A\n  value 1 E_B alias\n",
            &[],
        );
        assert!(diff(&v1, &v2, true).is_empty());
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
