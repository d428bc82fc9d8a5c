//! Delivery-level classification: registry settings that change what a
//! topic's consumers do with the records they receive, while the payload
//! bytes and subjects stay the same. `ordering` and `dedupe` decide which
//! records a consumer orders and drops as duplicates; the QoS tier's
//! settings decide delivery guarantees, redelivery and retention. These are
//! `breaking-delivery` when they change, except a few that inform rather
//! than change behaviour (an `ordering` where there was none, a `p99_ms`
//! target, a tier's `description`).
//!
//! A tier is compared by every setting the registry gives it (read from the
//! registry text, see `lock::LockedDelivery`), so a setting the registry
//! format gains later is classified from the start: strictly, as a
//! delivery change, unless it is listed in `INFORMATIONAL`. The same
//! holds for keys a topic, its version or its domain gains later.

use std::collections::BTreeSet;

use crate::lock::{LockedDelivery, LockedTopic, Lockfile};

use super::{Change, Class, Loc, TopicPart};

/// Tier settings that describe rather than change delivery.
const INFORMATIONAL: &[&str] = &["p99_ms"];

/// `crate::transport::defaults::PARTITIONS` as the registry writes it.
const DEFAULT_PARTITIONS: &str = "6";

/// The Kafka partition count, as a tier setting and as a domain's override.
const PARTITIONS: &[&str] = &["partitions", "domain.partitions"];
const MOVES_KEYS: &str = " (Kafka places keys by murmur2 % partitions: most keys move to another partition, \
     and a key's records before and after the change lose their order)";

/// `key=value` lines as a lookup.
fn settings(lines: &[String]) -> std::collections::BTreeMap<&str, &str> {
    lines.iter().filter_map(|l| l.split_once('=')).collect()
}

fn class_of(key: &str) -> Class {
    if INFORMATIONAL.contains(&key) {
        Class::Compatible
    } else {
        Class::BreakingDelivery
    }
}

/// The settings that differ between two tiers, with the most severe class.
fn tier_changes(was: &[String], now: &[String]) -> (Class, Vec<String>) {
    let (a, b) = (settings(was), settings(now));
    let keys: std::collections::BTreeSet<&str> = a.keys().chain(b.keys()).copied().collect();
    let mut class = Class::Compatible;
    let mut what = Vec::new();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        // An unset tier `partitions` is the default: writing the default
        // out (or removing it) changes no partition.
        if k == "partitions" && x.unwrap_or(&DEFAULT_PARTITIONS) == y.unwrap_or(&DEFAULT_PARTITIONS) {
            continue;
        }
        if x == y {
            continue;
        }
        class = class.max(class_of(k));
        let effect = if PARTITIONS.contains(&k) { MOVES_KEYS } else { "" };
        what.push(format!("`{k}` {} -> {}{effect}", x.unwrap_or(&"unset"), y.unwrap_or(&"unset")));
    }
    (class, what)
}

/// Delivery changes of one topic present on both sides. `None` on either
/// side (a lock older than format 3) compares nothing.
pub fn diff(id: &str, was: &LockedTopic, now: &LockedTopic) -> Vec<Change> {
    let mut out = Vec::new();
    let topic = |part| Loc::Topic { id: id.to_owned(), part };
    let domain = id.split('.').next().unwrap_or_default();
    if was.deprecated != now.deprecated {
        let summary = match (&was.deprecated, &now.deprecated) {
            (None, Some(d)) => format!("topic `{id}` deprecated ({d}): consumers are told to move"),
            (Some(_), None) => format!("the deprecation of `{id}` was withdrawn"),
            _ => format!("the deprecation of `{id}` changed"),
        };
        out.push(Change::new(
            Class::Compatible,
            format!("topic {id} deprecated"),
            was.deprecated.clone(),
            now.deprecated.clone(),
            summary,
            topic(TopicPart::Deprecated),
        ));
    }
    let (Some(a), Some(b)) = (&was.delivery, &now.delivery) else { return out };
    let path = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".to_owned());
    if a.ordering != b.ordering {
        let (class, effect) = match a.ordering {
            None => (Class::Compatible, "a new ordering guarantee, which no consumer relied on before"),
            Some(_) => (Class::BreakingDelivery, "consumers that order records by it lose or change their order"),
        };
        out.push(Change::new(
            class,
            format!("topic {id} ordering"),
            a.ordering.clone(),
            b.ordering.clone(),
            format!("ordering of `{id}` changed `{}` -> `{}`: {effect}", path(&a.ordering), path(&b.ordering)),
            topic(TopicPart::Ordering),
        ));
    }
    if a.dedupe != b.dedupe {
        out.push(Change::new(
            Class::BreakingDelivery,
            format!("topic {id} dedupe"),
            a.dedupe.clone(),
            b.dedupe.clone(),
            format!(
                "dedupe key of `{id}` changed `{}` -> `{}`: idempotent consumers now drop other records as duplicates (or stop dropping them)",
                path(&a.dedupe),
                path(&b.dedupe)
            ),
            topic(TopicPart::Dedupe),
        ));
    }
    if a.qos != b.qos {
        let (class, what) = tier_changes(&a.qos_settings, &b.qos_settings);
        let effect = if what.is_empty() { "with the same settings".to_owned() } else { what.join(", ") };
        out.push(Change::new(
            class,
            format!("topic {id} qos"),
            Some(tier_line(a)),
            Some(tier_line(b)),
            format!("`{id}` moved from QoS tier `{}` to `{}`: {effect}", a.qos, b.qos),
            topic(TopicPart::Qos),
        ));
    } else if a.qos_settings != b.qos_settings {
        // One change per tier (not per topic), listing every topic on it;
        // none when only a default was written out (`tier_changes`).
        let (class, what) = tier_changes(&a.qos_settings, &b.qos_settings);
        if !what.is_empty() {
            out.push(Change::new(
                class,
                format!("qos tier {}", a.qos),
                Some(tier_line(a)),
                Some(tier_line(b)),
                format!("QoS tier `{}` changed: {}", a.qos, what.join(", ")),
                Loc::Qos(a.qos.clone()),
            ));
        }
    }
    let (was_settings, now_settings) = domain_partitions(a, b);
    if was_settings != now_settings {
        // Keys the registry format gained after this code: strictly, any
        // change is a delivery change (see `lock::LockedDelivery::settings`).
        let (_, what) = tier_changes(&was_settings, &now_settings);
        out.push(Change::new(
            Class::BreakingDelivery,
            format!("topic {id} settings"),
            Some(a.settings.join(", ")),
            Some(b.settings.join(", ")),
            format!("settings of `{id}` changed: {}", what.join(", ")),
            topic(TopicPart::Whole),
        ));
    }
    if a.json_breaking != b.json_breaking {
        let (summary, warning) = if b.json_breaking {
            (
                format!("domain `{domain}` now treats JSON-level changes as breaking (`compat.json` removed or true)"),
                None,
            )
        } else {
            (
                format!("domain `{domain}` now lets JSON-level changes pass (`compat: {{json: false}}`)"),
                Some((
                    "compat::caution",
                    "from now on renames and json_name changes pass; make sure no consumer reads this domain's JSON",
                )),
            )
        };
        out.push(Change {
            warning,
            ..Change::new(
                Class::Compatible,
                format!("domain {domain} compat.json"),
                Some(format!("json_breaking={}", a.json_breaking)),
                Some(format!("json_breaking={}", b.json_breaking)),
                summary,
                topic(TopicPart::Compat),
            )
        });
    }
    out
}

/// The topics' settings, where only one side sets a domain's `partitions`,
/// with the other side's effective count (its tier's, else the default)
/// filled in: a domain that writes out the count it already had changes no
/// partition. Where neither side sets it, a tier change reports it.
fn domain_partitions(a: &LockedDelivery, b: &LockedDelivery) -> (Vec<String>, Vec<String>) {
    const KEY: &str = "domain.partitions";
    let has = |d: &LockedDelivery| settings(&d.settings).contains_key(KEY);
    let fill = |d: &LockedDelivery| {
        let mut lines = d.settings.clone();
        if !has(d) {
            let tier = settings(&d.qos_settings).get("partitions").copied().unwrap_or(DEFAULT_PARTITIONS);
            lines.push(format!("{KEY}={tier}"));
            lines.sort();
        }
        lines
    };
    if has(a) == has(b) {
        (a.settings.clone(), b.settings.clone())
    } else {
        (fill(a), fill(b))
    }
}

fn tier_line(d: &LockedDelivery) -> String {
    format!("{}: {}", d.qos, d.qos_settings.join(", "))
}

/// Registry-wide routing changes: the namespace and the envs are the first
/// two tokens of every subject. `(change, topic ids it affects)`.
pub fn registry(old: &Lockfile, new: &Lockfile) -> Vec<(Change, Vec<String>)> {
    let mut out = Vec::new();
    let ids: Vec<String> = new.topics.keys().filter(|id| old.topics.contains_key(*id)).cloned().collect();
    if let (Some(a), Some(b)) = (&old.namespace, &new.namespace) {
        if a != b {
            let change = Change::new(
                Class::BreakingRouting,
                "namespace".to_owned(),
                Some(a.clone()),
                Some(b.clone()),
                format!("namespace changed `{a}` -> `{b}`: every subject changes, and every subscription misses"),
                Loc::Namespace,
            );
            out.push((change, ids.clone()));
        }
    }
    if let (Some(a), Some(b)) = (&old.envs, &new.envs) {
        let (in_a, in_b): (BTreeSet<&String>, BTreeSet<&String>) = (a.iter().collect(), b.iter().collect());
        for env in a.iter().filter(|e| !in_b.contains(e)) {
            let change = Change::new(
                Class::BreakingRouting,
                format!("env {env}"),
                Some(env.clone()),
                None,
                format!(
                    "env `{env}` removed: its subjects (`{}.{env}.…`) are no longer produced or subscribed",
                    new.namespace.as_deref().unwrap_or("")
                ),
                Loc::Env(env.clone(), None),
            );
            out.push((change, ids.clone()));
        }
        for (at, env) in b.iter().enumerate().filter(|(_, e)| !in_a.contains(e)) {
            let change = Change::new(
                Class::Compatible,
                format!("env {env}"),
                None,
                Some(env.clone()),
                format!("env `{env}` added"),
                Loc::Env(env.clone(), Some(at)),
            );
            out.push((change, ids.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(qos: &str, settings: &[&str], dedupe: Option<&str>) -> LockedTopic {
        LockedTopic {
            payload: Some("a.v1.M".into()),
            subtopic: "m".into(),
            delivery: Some(LockedDelivery {
                ordering: Some("t".into()),
                dedupe: dedupe.map(Into::into),
                qos: qos.into(),
                qos_settings: settings.iter().map(|s| s.to_string()).collect(),
                json_breaking: true,
                settings: Vec::new(),
            }),
            ..LockedTopic::default()
        }
    }

    #[test]
    fn tiers_are_compared_by_every_setting() {
        let base = topic("rt", &["delivery=at_least_once", "p99_ms=150"], None);
        let p99 = diff("a.v1.t", &base, &topic("rt", &["delivery=at_least_once", "p99_ms=50"], None));
        assert_eq!((p99.len(), p99[0].class, p99[0].item.as_str()), (1, Class::Compatible, "qos tier rt"));
        // A setting this code has never heard of is a delivery change.
        let new_key = topic("rt", &["delivery=at_least_once", "max_deliveries=5", "p99_ms=150"], None);
        let c = diff("a.v1.t", &base, &new_key);
        assert_eq!(c[0].class, Class::BreakingDelivery);
        assert_eq!(c[0].summary, "QoS tier `rt` changed: `max_deliveries` unset -> 5");
        let moved = diff("a.v1.t", &base, &topic("std", &["delivery=at_least_once", "p99_ms=150"], None));
        assert_eq!((moved[0].class, moved[0].item.as_str()), (Class::Compatible, "topic a.v1.t qos"));
        let dedupe = diff("a.v1.t", &base, &topic("rt", &["delivery=at_least_once", "p99_ms=150"], Some("id")));
        assert_eq!(dedupe[0].class, Class::BreakingDelivery);
        // Settings the gate does not know by name are delivery changes.
        let mut retained = base.clone();
        retained.delivery.as_mut().unwrap().settings = vec!["topic.retention=7d".into()];
        let c = diff("a.v1.t", &base, &retained);
        assert_eq!((c.len(), c[0].class), (1, Class::BreakingDelivery));
        assert_eq!(c[0].summary, "settings of `a.v1.t` changed: `topic.retention` unset -> 7d");
        // Kafka partitions, of a tier or a domain: the finding says keys move.
        let grown = topic("rt", &["delivery=at_least_once", "p99_ms=150", "partitions=12"], None);
        let c = diff("a.v1.t", &base, &grown);
        assert_eq!(c[0].class, Class::BreakingDelivery);
        assert!(c[0]
            .summary
            .starts_with("QoS tier `rt` changed: `partitions` unset -> 12 (Kafka places keys by murmur2"));
        let mut split = base.clone();
        split.delivery.as_mut().unwrap().settings = vec!["domain.partitions=3".into()];
        let c = diff("a.v1.t", &base, &split);
        assert_eq!(c[0].class, Class::BreakingDelivery);
        assert!(c[0].summary.contains("`domain.partitions` 6 -> 3 (Kafka places keys"), "{}", c[0].summary);
        // Writing out the count a topic already has changes nothing.
        let explicit = topic("rt", &["delivery=at_least_once", "p99_ms=150", "partitions=6"], None);
        assert!(diff("a.v1.t", &base, &explicit).is_empty());
        assert_eq!(DEFAULT_PARTITIONS, crate::transport::defaults::PARTITIONS.to_string());
        let mut same = grown.clone();
        same.delivery.as_mut().unwrap().settings = vec!["domain.partitions=12".into()];
        assert!(diff("a.v1.t", &grown, &same).is_empty());
        let mut other = grown.clone();
        other.delivery.as_mut().unwrap().settings = vec!["domain.partitions=24".into()];
        let c = diff("a.v1.t", &grown, &other);
        assert!(c[0].summary.contains("`domain.partitions` 12 -> 24 (Kafka places keys"), "{}", c[0].summary);
        // A lock older than format 3 recorded none of this.
        let old = LockedTopic { delivery: None, ..base.clone() };
        assert!(diff("a.v1.t", &old, &new_key).is_empty());
    }
}
