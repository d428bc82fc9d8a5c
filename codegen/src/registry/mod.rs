//! The registry model: what `registry/ampy.yaml` says, with the source span
//! of every value so later passes can point back at it.
//!
//! See docs/registry.md for the file format.

mod decode;
pub mod resolve;

use std::ops::Range;
use std::sync::Arc;

use crate::diag::{Diagnostics, Source};
use crate::template::{KeyFormat, KeyPath, Subtopic};

pub use decode::decode;

/// The registry format this build reads. Bumped only for incompatible
/// changes to the YAML shape.
pub const FORMAT_VERSION: u64 = 1;

/// A value and the byte range in the registry it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Self { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[derive(Clone, Debug)]
pub struct Registry {
    pub source: Arc<Source>,
    pub format: Spanned<u64>,
    pub namespace: Spanned<String>,
    pub envs: Vec<Spanned<String>>,
    pub protos: Protos,
    pub qos: Vec<QosTier>,
    pub domains: Vec<Domain>,
}

#[derive(Clone, Debug)]
pub struct Protos {
    /// Include roots, relative to the registry file's directory.
    pub include: Vec<Spanned<String>>,
    /// Proto files as import names relative to an include root.
    pub files: Vec<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    AtLeastOnce,
    AtMostOnce,
}

impl Delivery {
    pub const NAMES: [&'static str; 2] = ["at_least_once", "at_most_once"];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => "at_least_once",
            Delivery::AtMostOnce => "at_most_once",
        }
    }
}

#[derive(Clone, Debug)]
pub struct QosTier {
    pub name: Spanned<String>,
    pub delivery: Spanned<Delivery>,
    /// Publish-to-first-delivery p99 target in milliseconds.
    pub p99_ms: Option<Spanned<u64>>,
    pub description: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainKind {
    /// Topics carry a registered protobuf payload.
    Payload,
    /// Topics carry another domain's records untouched plus `dlq_reason`.
    Dlq,
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub name: Spanned<String>,
    pub kind: DomainKind,
    pub description: Spanned<String>,
    pub qos: Spanned<String>,
    pub versions: Vec<Version>,
    /// `compat: {json: false}`: JSON-level changes (renames, json_name)
    /// are compatible in this domain. Default `true`, because the bus allows
    /// JSON for diagnostics and a rename breaks every JSON reader.
    pub compat_json: Option<Spanned<bool>>,
}

impl Domain {
    /// Whether JSON-level changes count as breaking (the default).
    pub fn json_breaking(&self) -> bool {
        self.compat_json.as_ref().is_none_or(|j| j.value)
    }
}

/// `deprecated: {since, reason}` on a topic version or topic: the step that
/// must be locked before the version (or topic) may be removed, so
/// consumers get a release in which to move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprecation {
    pub since: Spanned<String>,
    pub reason: Spanned<String>,
    pub span: Range<usize>,
}

/// `accept_breaking: [{fingerprint, by, reason}]` on a topic: a reviewed,
/// explicit acceptance of one exact breaking change (see
/// docs/compatibility.md). It stops matching as soon as the change differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptance {
    pub fingerprint: Spanned<String>,
    pub by: Spanned<String>,
    pub reason: Spanned<String>,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub struct Version {
    /// `v1`, `v2`, …
    pub name: Spanned<String>,
    pub major: u64,
    pub topics: Vec<Topic>,
    pub deprecated: Option<Deprecation>,
}

#[derive(Clone, Debug)]
pub struct Topic {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub subtopic: Spanned<Subtopic>,
    /// `None` only for dlq topics.
    pub payload: Option<Spanned<String>>,
    pub schema_version: Option<Spanned<Semver>>,
    pub schema_hash: Option<Spanned<String>>,
    pub key: Option<Key>,
    pub ordering: Option<Spanned<KeyPath>>,
    pub dedupe: Option<Spanned<KeyPath>>,
    pub deprecated: Option<Deprecation>,
    pub accept_breaking: Vec<Acceptance>,
    /// The span of the topic's mapping, for diagnostics about the topic as
    /// a whole (e.g. a missing `schema_hash`).
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub fields: Vec<KeyField>,
    pub format: Spanned<KeyFormat>,
}

#[derive(Clone, Debug)]
pub struct KeyField {
    pub name: Spanned<String>,
    pub path: Spanned<KeyPath>,
}

/// A semantic version (semver 2.0.0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Semver {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub build: String,
}

impl std::fmt::Display for Semver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

impl Semver {
    /// Strict semver 2.0.0: no leading zeros, no `v` prefix.
    pub fn parse(s: &str) -> Option<Semver> {
        let (rest, build) = s.split_once('+').map_or((s, ""), |(a, b)| (a, b));
        let (core, pre) = rest.split_once('-').map_or((rest, ""), |(a, b)| (a, b));
        let nums: Vec<&str> = core.split('.').collect();
        let [major, minor, patch] = nums.as_slice() else { return None };
        let num = |n: &str| -> Option<u64> {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0')) {
                return None;
            }
            n.parse().ok()
        };
        let ident_ok = |part: &str, numeric_rule: bool| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(numeric_rule
                    && part.len() > 1
                    && part.starts_with('0')
                    && part.bytes().all(|b| b.is_ascii_digit()))
        };
        if s.contains('+') && !build.split('.').all(|p| ident_ok(p, false)) {
            return None;
        }
        if rest.contains('-') && !pre.split('.').all(|p| ident_ok(p, true)) {
            return None;
        }
        Some(Semver {
            major: num(major)?,
            minor: num(minor)?,
            patch: num(patch)?,
            pre: pre.to_owned(),
            build: build.to_owned(),
        })
    }
}

impl Registry {
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name.value == name)
    }

    /// Every topic with its domain and version, in registry order.
    pub fn topics(&self) -> impl Iterator<Item = TopicRef<'_>> {
        self.domains.iter().flat_map(|domain| {
            domain
                .versions
                .iter()
                .flat_map(move |version| version.topics.iter().map(move |topic| TopicRef { domain, version, topic }))
        })
    }

    /// Looks a topic up by id: `domain.version.topic`, or `domain.version`
    /// when that version has a single topic.
    pub fn find_topic(&self, id: &str) -> Result<TopicRef<'_>, String> {
        let parts: Vec<&str> = id.split('.').collect();
        let (domain, version, topic) = match parts.as_slice() {
            [d, v] => (*d, *v, None),
            [d, v, t] => (*d, *v, Some(*t)),
            _ => return Err(format!("`{id}` is not a topic id; write `domain.version` or `domain.version.topic`")),
        };
        let candidates: Vec<TopicRef<'_>> =
            self.topics().filter(|t| t.domain.name.value == domain && t.version.name.value == version).collect();
        match topic {
            Some(name) => candidates.into_iter().find(|t| t.topic.name.value == name),
            None if candidates.len() == 1 => candidates.into_iter().next(),
            None if candidates.len() > 1 => {
                let ids: Vec<String> = candidates.iter().map(TopicRef::id).collect();
                return Err(format!("`{id}` has several topics; pick one of: {}", ids.join(", ")));
            }
            None => None,
        }
        .ok_or_else(|| {
            let ids: Vec<String> = self.topics().map(|t| t.id()).collect();
            let hint = crate::diag::suggest(id, ids.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("known topics: {}", ids.join(", ")));
            format!("no topic `{id}` in the registry; {hint}")
        })
    }
}

/// A topic together with the domain and version it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct TopicRef<'a> {
    pub domain: &'a Domain,
    pub version: &'a Version,
    pub topic: &'a Topic,
}

impl TopicRef<'_> {
    /// The full id, `domain.version.topic`.
    pub fn id(&self) -> String {
        format!("{}.{}.{}", self.domain.name.value, self.version.name.value, self.topic.name.value)
    }

    /// The topic's own deprecation, else its version's.
    pub fn deprecation(&self) -> Option<&Deprecation> {
        self.topic.deprecated.as_ref().or(self.version.deprecated.as_ref())
    }
}

/// Parses and structurally validates a registry source; see [`decode`].
pub fn parse(source: &Arc<Source>) -> (Option<Registry>, Diagnostics) {
    match crate::yaml::parse(source) {
        Ok(root) => decode(source, &root),
        Err(d) => (None, d.into()),
    }
}

/// The span of `range` (bytes within the string `value`) inside the
/// scalar at `span`, so errors can point at one token of a template or
/// path. Falls back to the whole scalar when escapes make the raw text
/// differ from the value.
pub(crate) fn inner_span(source: &Source, span: &Range<usize>, value: &str, range: Range<usize>) -> Range<usize> {
    let raw = source.text().get(span.clone()).unwrap_or_default();
    let base = if raw == value {
        span.start
    } else if raw.len() >= 2 && raw.get(1..raw.len() - 1) == Some(value) {
        span.start + 1
    } else {
        return span.clone();
    };
    base + range.start..base + range.end.max(range.start)
}

#[cfg(test)]
mod tests {
    use super::Semver;

    #[test]
    fn semver_is_strict() {
        assert_eq!(Semver::parse("1.2.3").map(|v| v.to_string()), Some("1.2.3".into()));
        assert_eq!(Semver::parse("1.0.0-rc.1+b.5").map(|v| v.to_string()), Some("1.0.0-rc.1+b.5".into()));
        for bad in ["1.0", "01.0.0", "v1.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.x.0", ""] {
            assert!(Semver::parse(bad).is_none(), "{bad}");
        }
    }
}
