//! Routing-level classification: what existing subscriptions and per-key
//! ordering depend on. A consumer subscribed to `ampy.prod.bars.v1.XNAS.*`
//! or relying on per-key order breaks when the subtopic, a key path, the
//! key format or the formatted type of a key field changes, even when the
//! payload bytes are identical.
//!
//! Templates are compared with each placeholder replaced by its key path,
//! so renaming a key field (and its placeholders) is not a change, while
//! pointing the same placeholder at another field is.

use crate::lock::LockedTopic;

use super::model::Schema;
use super::{Change, Class, Loc, TopicPart};

/// `name=path` / `name=type` lines as a lookup.
fn pairs(lines: &[String]) -> Vec<(&str, &str)> {
    lines.iter().filter_map(|l| l.split_once('=')).collect()
}

/// The template with every `{name}` replaced by `{path}`.
fn normalize(template: &str, key_fields: &[String]) -> String {
    let mut out = template.to_owned();
    for (name, path) in pairs(key_fields) {
        out = out.replace(&format!("{{{name}}}"), &format!("{{{path}}}"));
    }
    out
}

/// Routing changes of one topic present on both sides.
pub fn diff(id: &str, old: &LockedTopic, new: &LockedTopic) -> Vec<Change> {
    let mut out = Vec::new();
    let topic = |part| Loc::Topic { id: id.to_owned(), part };
    if old.payload != new.payload {
        let show = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
        out.push(Change::new(
            Class::BreakingWire,
            format!("topic {id} payload"),
            old.payload.clone(),
            new.payload.clone(),
            format!("topic `{id}` now carries `{}` instead of `{}`", show(&new.payload), show(&old.payload)),
            topic(TopicPart::Payload),
        ));
    }
    let (old_sub, new_sub) = (normalize(&old.subtopic, &old.key_fields), normalize(&new.subtopic, &new.key_fields));
    if old_sub != new_sub {
        let summary = if old.subtopic != new.subtopic {
            format!("subtopic of `{id}` changed `{}` -> `{}`", old.subtopic, new.subtopic)
        } else {
            format!("a key path behind the subtopic of `{id}` changed: `{old_sub}` -> `{new_sub}`")
        };
        out.push(Change::new(
            Class::BreakingRouting,
            format!("topic {id} subtopic"),
            Some(old_sub),
            Some(new_sub),
            summary,
            topic(TopicPart::Subtopic),
        ));
    }
    let norm_key = |t: &LockedTopic| t.key_format.as_deref().map(|f| normalize(f, &t.key_fields));
    let (old_key, new_key) = (norm_key(old), norm_key(new));
    if old_key != new_key {
        let changed_path = pairs(&new.key_fields)
            .into_iter()
            .find(|(n, p)| pairs(&old.key_fields).iter().any(|(on, op)| on == n && op != p))
            .map(|(n, _)| n.to_owned());
        let (summary, part) = match (&changed_path, old.key_format == new.key_format) {
            (Some(name), true) => {
                let old_path = pairs(&old.key_fields).into_iter().find(|(n, _)| n == name).map(|(_, p)| p);
                let new_path = pairs(&new.key_fields).into_iter().find(|(n, _)| n == name).map(|(_, p)| p);
                (
                    format!(
                        "key path of `{name}` in `{id}` changed `{}` -> `{}`",
                        old_path.unwrap_or_default(),
                        new_path.unwrap_or_default()
                    ),
                    TopicPart::KeyField(name.clone()),
                )
            }
            _ => (
                format!(
                    "partition key of `{id}` changed `{}` -> `{}`",
                    old.key_format.as_deref().unwrap_or_default(),
                    new.key_format.as_deref().unwrap_or_default()
                ),
                TopicPart::KeyFormat,
            ),
        };
        out.push(Change::new(
            Class::BreakingRouting,
            format!("topic {id} key"),
            old_key,
            new_key,
            summary,
            topic(part),
        ));
    }
    let old_types = pairs(&old.key_types);
    let old_paths = pairs(&old.key_fields);
    for (name, ty) in pairs(&new.key_types) {
        // Compare a field with the one that had the same path, so renaming
        // a key field is not a type change.
        let path = pairs(&new.key_fields).into_iter().find(|(n, _)| *n == name).map(|(_, p)| p);
        let old_name = old_paths.iter().find(|(_, p)| Some(*p) == path).map(|(n, _)| *n).unwrap_or(name);
        let Some((_, old_ty)) = old_types.iter().find(|(n, _)| *n == old_name) else { continue };
        // Enum keys format names: a renamed enum type formats the same
        // names, and `key_enums` compares the names themselves.
        let enums = old_ty.starts_with("enum ") && ty.starts_with("enum ");
        if *old_ty != ty && !enums {
            out.push(Change::new(
                Class::BreakingRouting,
                format!("topic {id} key field {name} type"),
                Some(format!("{name}={old_ty}")),
                Some(format!("{name}={ty}")),
                format!("key field `{name}` of `{id}` is now a {ty}, was a {old_ty}: its formatted value changes"),
                topic(TopicPart::KeyField(name.to_owned())),
            ));
        }
    }
    out
}

/// Key fields that are enums format a number as its primary (first
/// declared) name, or in base 10 when it has no name: a new primary, a
/// renamed or a removed value changes the key and subject of every record
/// carrying that number, even where the JSON rules would let it pass.
pub fn key_enums(id: &str, was: &LockedTopic, now: &LockedTopic, old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    let old_types = pairs(&was.key_types);
    let old_paths = pairs(&was.key_fields);
    for (name, ty) in pairs(&now.key_types) {
        let Some(enum_name) = ty.strip_prefix("enum ") else { continue };
        let path = pairs(&now.key_fields).into_iter().find(|(n, _)| *n == name).map(|(_, p)| p);
        let old_name = old_paths.iter().find(|(_, p)| Some(*p) == path).map(|(n, _)| *n).unwrap_or(name);
        // Another formatting class is reported by `diff`.
        let Some(old_enum) = old_types.iter().find(|(n, _)| *n == old_name).and_then(|(_, t)| t.strip_prefix("enum "))
        else {
            continue;
        };
        let (Some(a), Some(b)) = (old.enums.get(old_enum), new.enums.get(enum_name)) else { continue };
        let numbers: std::collections::BTreeSet<i32> = a.values.iter().map(|(n, _)| *n).collect();
        let moved: Vec<String> = numbers
            .into_iter()
            .filter_map(|n| {
                let was = a.primary(n)?;
                let now = b.primary(n).map_or_else(|| n.to_string(), str::to_owned);
                (was != now).then(|| format!("{n}: `{was}` -> `{now}`"))
            })
            .collect();
        if moved.is_empty() {
            continue;
        }
        out.push(Change::new(
            Class::BreakingRouting,
            format!("topic {id} key field {name} values"),
            None,
            Some(format!("{name}={enum_name}: {}", moved.join(", "))),
            format!(
                "key field `{name}` of `{id}` now formats enum `{enum_name}` differently ({}): partition keys and subjects of those records change",
                moved.join(", ")
            ),
            Loc::Topic { id: id.to_owned(), part: TopicPart::KeyField(name.to_owned()) },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(subtopic: &str, format: &str, fields: &[&str], types: &[&str]) -> LockedTopic {
        LockedTopic {
            payload: Some("a.v1.M".into()),
            schema_version: Some("1.0.0".into()),
            subtopic: subtopic.into(),
            key_format: Some(format.into()),
            key_fields: fields.iter().map(|s| s.to_string()).collect(),
            key_types: types.iter().map(|s| s.to_string()).collect(),
            deprecated: None,
            delivery: None,
        }
    }

    #[test]
    fn renaming_a_key_field_is_not_a_change_but_repointing_it_is() {
        let base = topic("{s}", "{s}.{m}", &["s=sec.symbol", "m=sec.mic"], &["s=string", "m=string"]);
        let renamed = topic("{sym}", "{sym}.{m}", &["sym=sec.symbol", "m=sec.mic"], &["sym=string", "m=string"]);
        assert!(diff("t", &base, &renamed).is_empty());
        let repointed = topic("{s}", "{s}.{m}", &["s=sec.figi", "m=sec.mic"], &["s=string", "m=string"]);
        let changes = diff("t", &base, &repointed);
        assert_eq!(changes.len(), 2, "subtopic and key: {changes:?}");
        assert!(changes.iter().all(|c| c.class == Class::BreakingRouting));
        let retyped = topic("{s}", "{s}.{m}", &["s=sec.symbol", "m=sec.mic"], &["s=signed integer", "m=string"]);
        assert_eq!(diff("t", &base, &retyped).len(), 1);
    }

    #[test]
    fn enum_key_values_follow_primary_names() {
        let t = topic("{side}", "{side}", &["side=side"], &["side=enum a.v1.Side"]);
        let schema = |values: &str| {
            Schema::parse(&format!("ampy-canonical-schema v2\nroot a.v1.M\nenum a.v1.Side proto3\n{values}"), &[])
        };
        let base = schema("  value 0 S_U\n  value 1 BUY\n  value 2 SELL\n");
        let alias_after = schema("  value 0 S_U\n  value 1 BID alias\n  value 1 BUY\n  value 2 SELL\n");
        assert!(key_enums("t", &t, &t, &base, &alias_after).is_empty());
        let alias_before = schema("  value 0 S_U\n  value 1 BID\n  value 1 BUY alias\n  value 2 SELL\n");
        let c = key_enums("t", &t, &t, &base, &alias_before);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].class, Class::BreakingRouting);
        assert!(c[0].summary.contains("1: `BUY` -> `BID`"), "{}", c[0].summary);
        // A removed value is written as its number.
        let removed = schema("  value 0 S_U\n  value 1 BUY\n");
        assert!(key_enums("t", &t, &t, &base, &removed)[0].summary.contains("2: `SELL` -> `2`"));
        // The enum type renamed with the same names: keys do not move.
        let moved = topic("{side}", "{side}", &["side=side"], &["side=enum b.v1.Side"]);
        let renamed = Schema::parse(
            "ampy-canonical-schema v1\nroot a.v1.M\nenum b.v1.Side proto3\n  value 0 S_U\n  value 1 BUY\n  value 2 SELL\n",
            &[],
        );
        assert!(diff("t", &t, &moved).is_empty());
        assert!(key_enums("t", &t, &moved, &base, &renamed).is_empty());
    }
}
