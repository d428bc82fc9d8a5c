//! The registry's settings as the lock records them, read from the YAML
//! tree while it is parsed (the registry is parsed once per run).

use std::collections::BTreeMap;

/// Every tier's and every topic's settings as `key=value` lines, taken from
/// the registry text itself rather than the typed model (see
/// [`qos_settings`] and [`other_settings`]).
#[derive(Clone, Debug, Default)]
pub struct RawSettings {
    /// Tier name → sorted `key=value` lines.
    pub tiers: BTreeMap<String, Vec<String>>,
    /// Topic id → sorted `LEVEL.KEY=VALUE` lines.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl RawSettings {
    pub fn of(root: &crate::yaml::Node) -> RawSettings {
        RawSettings { tiers: qos_settings(root), extra: other_settings(root) }
    }
}

/// Every QoS tier's settings but `description`, as sorted `key=value`
/// lines, read from the registry text itself rather than the typed model,
/// so a setting added to the registry format is locked and compared by the
/// gate from the day it exists.
fn qos_settings(root: &crate::yaml::Node) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (key, qos) in entries(root) {
        if key != "qos" {
            continue;
        }
        for (tier, settings) in entries(qos) {
            let mut lines: Vec<String> = entries(settings)
                .filter(|(k, _)| *k != "description")
                .map(|(k, v)| format!("{k}={}", yaml_text(v)))
                .collect();
            lines.sort();
            out.insert(tier.to_owned(), lines);
        }
    }
    out
}

/// The scalar-keyed entries of a mapping, borrowed (nothing else has any).
fn entries(node: &crate::yaml::Node) -> impl Iterator<Item = (&str, &crate::yaml::Node)> {
    let all = match &node.kind {
        crate::yaml::Kind::Map(entries) => entries.as_slice(),
        _ => &[],
    };
    all.iter().filter_map(|(k, v)| Some((k.as_scalar()?, v)))
}

/// Keys the gate classifies on its own (or that change nothing), per level.
const REGISTRY_KEYS: &[&str] = &["format", "namespace", "envs", "protos", "qos", "domains", "targets"];
const DOMAIN_KEYS: &[&str] = &["description", "qos", "versions", "kind", "compat"];
const VERSION_KEYS: &[&str] = &["topics", "deprecated"];
const TOPIC_KEYS: &[&str] = &[
    "description",
    "subtopic",
    "payload",
    "schema_version",
    "schema_hash",
    "key",
    "ordering",
    "dedupe",
    "deprecated",
    "accept_breaking",
];

/// For every topic id, the settings of the registry, the topic's domain,
/// version and the topic itself outside the keys above, as sorted
/// `LEVEL.KEY=VALUE` lines.
fn other_settings(root: &crate::yaml::Node) -> BTreeMap<String, Vec<String>> {
    use crate::yaml::Node;
    fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
        entries(node).find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    let extra = |level: &str, node: &Node, known: &[&str]| -> Vec<String> {
        entries(node)
            .filter(|(k, _)| !known.contains(k))
            .map(|(k, v)| format!("{level}.{k}={}", yaml_text(v)))
            .collect()
    };
    let mut out = BTreeMap::new();
    let Some(domains) = get(root, "domains") else { return out };
    let from_registry = extra("registry", root, REGISTRY_KEYS);
    for (d, domain) in entries(domains) {
        let from_domain: Vec<String> =
            from_registry.iter().cloned().chain(extra("domain", domain, DOMAIN_KEYS)).collect();
        for (v, version) in get(domain, "versions").into_iter().flat_map(entries) {
            let from_version = extra("version", version, VERSION_KEYS);
            for (t, topic) in get(version, "topics").into_iter().flat_map(entries) {
                let mut lines: Vec<String> =
                    from_domain.iter().chain(&from_version).cloned().chain(extra("topic", topic, TOPIC_KEYS)).collect();
                lines.sort();
                if !lines.is_empty() {
                    out.insert(format!("{d}.{v}.{t}"), lines);
                }
            }
        }
    }
    out
}

/// A YAML value as one line: scalars as written (unquoted), collections in
/// flow style with their entries in order.
fn yaml_text(node: &crate::yaml::Node) -> String {
    match &node.kind {
        crate::yaml::Kind::Scalar { value, .. } => value.clone(),
        crate::yaml::Kind::Seq(items) => format!("[{}]", items.iter().map(yaml_text).collect::<Vec<_>>().join(", ")),
        crate::yaml::Kind::Map(entries) => format!(
            "{{{}}}",
            entries.iter().map(|(k, v)| format!("{}: {}", yaml_text(k), yaml_text(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}
