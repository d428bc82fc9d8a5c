//! Classifying the difference between two versions of an enum. Values are
//! matched by number (the wire identity) and by name (the JSON identity),
//! and each number's primary name, its first declared one, is what JSON
//! writers print and what key formatting uses: a new primary that old
//! readers do not know is a JSON break even though no value changed.

use std::collections::BTreeSet;

use super::model::Enum;
use super::{Change, Class, Loc};

pub(super) fn diff(out: &mut Vec<Change>, name: &str, old: &Enum, new: &Enum, json: Class) {
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
    let mut renumbered = BTreeSet::new();
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
    let numbers: BTreeSet<i32> = old.values.iter().chain(&new.values).map(|(n, _)| *n).collect();
    for n in numbers {
        let (was, now) = (old.names_at(n), new.names_at(n));
        let gone: Vec<&str> = was.difference(&now).copied().filter(|v| !renumbered.contains(*v)).collect();
        let came: Vec<&str> = now.difference(&was).copied().filter(|v| !renumbered.contains(*v)).collect();
        let join = |names: &[&str]| names.iter().map(|v| line(n, v)).collect::<Vec<_>>().join("\n");
        let item = |v: &str| format!("value {name}.{v} (={n})");
        match (gone.as_slice(), came.as_slice()) {
            ([], []) => {}
            ([o], [v]) if !was.is_empty() && !now.is_empty() && was.len() == now.len() => {
                out.push(Change::new(
                    json,
                    item(v),
                    Some(line(n, o)),
                    Some(line(n, v)),
                    format!("value {n} of `{name}` renamed `{o}` -> `{v}`"),
                    value(n, v),
                ));
                continue;
            }
            (gone, came) => {
                if !gone.is_empty() {
                    let all_names = gone.iter().all(|v| new.reserved.name(v));
                    let (class, what) = if !now.is_empty() {
                        (json, "removed (an alias; the number stays, but JSON that spells it this way stops parsing)")
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
        if let Some(change) = primary_changed(name, n, old, new, json) {
            out.push(change);
        }
    }
}

/// The number's primary name moved. Old readers accept every name they
/// know, so this breaks JSON only when they do not know the new primary.
/// Unknown when a v1 form lists aliases (v1 did not record the order).
fn primary_changed(name: &str, n: i32, old: &Enum, new: &Enum, json: Class) -> Option<Change> {
    let (Some(was), Some(now)) = (old.primary(n), new.primary(n)) else { return None };
    if was == now || old.names_at(n).len() == 1 && new.names_at(n).len() == 1 {
        // Equal, or a plain rename, which is reported as such.
        return None;
    }
    let known = old.names_at(n).contains(now);
    let (class, what) = if known {
        (Class::Compatible, "which old readers also accept")
    } else {
        (json, "which old JSON readers reject (and key values that format it change)")
    };
    Some(Change {
        warning: known.then_some(super::schema::CAUTION),
        ..Change::new(
            class,
            format!("value {name} (={n}) primary name"),
            Some(format!("value {n} {was} primary")),
            Some(format!("value {n} {now} primary")),
            format!("value {n} of `{name}` is now written `{now}` (its first declared name), was `{was}`, {what}"),
            Loc::Value { enum_name: name.to_owned(), number: n, name: now.to_owned() },
        )
    })
}
