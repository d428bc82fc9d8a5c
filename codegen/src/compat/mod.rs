//! The CI gate: classify every difference between a baseline (the lock
//! file, or the registry and protos at a git revision) and the current
//! registry and protos, and apply the version rules.
//!
//! Each difference gets exactly one [`Class`] (docs/compatibility.md):
//! breaking at the wire, routing, delivery or JSON level, or compatible. Breaking
//! changes fail unless they arrive as a new topic version or the registry
//! accepts their exact [fingerprint](fingerprint). The engine is pure: it
//! returns [`Finding`]s; the CLI renders them (human, json, github).

pub mod delivery;
mod enums;
pub mod generated;
pub mod git;
pub mod model;
pub mod report;
pub mod routing;
mod rules;
pub mod schema;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Diagnostic, Label, Source};
use crate::lock::{lock_path, Lockfile};
use crate::project::Project;

/// The class of one difference. Ordered from least to most severe, so the
/// class of a field with several changed aspects is the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Compatible,
    BreakingJson,
    /// Same bytes and subjects, but consumers behave differently: ordering,
    /// dedupe and QoS settings.
    BreakingDelivery,
    BreakingRouting,
    BreakingWire,
}

impl Class {
    /// The stable name used in JSON output and fingerprints.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Compatible => "compatible",
            Class::BreakingJson => "breaking-json",
            Class::BreakingDelivery => "breaking-delivery",
            Class::BreakingRouting => "breaking-routing",
            Class::BreakingWire => "breaking-wire",
        }
    }

    pub fn is_breaking(self) -> bool {
        self != Class::Compatible
    }

    fn title(self) -> &'static str {
        match self {
            Class::Compatible => "compatible change",
            Class::BreakingJson => "breaking change (JSON)",
            Class::BreakingDelivery => "breaking change (delivery)",
            Class::BreakingRouting => "breaking change (routing)",
            Class::BreakingWire => "breaking change (wire)",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Class::Compatible => "compat::compatible",
            Class::BreakingJson => "compat::breaking_json",
            Class::BreakingDelivery => "compat::breaking_delivery",
            Class::BreakingRouting => "compat::breaking_routing",
            Class::BreakingWire => "compat::breaking_wire",
        }
    }
}

/// Which part of a topic a routing change is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicPart {
    Payload,
    Subtopic,
    KeyFormat,
    KeyField(String),
    Ordering,
    Dedupe,
    /// The domain's `qos` tier.
    Qos,
    /// The domain's `compat`.
    Compat,
    Deprecated,
    Whole,
}

/// What a change points at in the current sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    Message(String),
    Enum(String),
    Field {
        message: String,
        number: u32,
    },
    Value {
        enum_name: String,
        number: i32,
        name: String,
    },
    Topic {
        id: String,
        part: TopicPart,
    },
    /// A QoS tier under `qos:`.
    Qos(String),
    Namespace,
    /// An env (or, when it is gone, the `envs` list).
    /// An env by name, and where the current registry lists it (when it
    /// does), so that locating 100,000 added envs stays linear.
    Env(String, Option<usize>),
}

/// One classified difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub class: Class,
    /// What changed, e.g. `field ampy.bars.v1.Bar.volume (#10)`.
    pub item: String,
    /// The exact old and new text (canonical lines, templates).
    pub old: Option<String>,
    pub new: Option<String>,
    /// One line for people.
    pub summary: String,
    /// An addition (field, value, message): needs a minor version bump.
    pub addition: bool,
    /// Compatible but worth a look: the warning's code and advice
    /// (`compat::widened` for a widening, `compat::caution` otherwise).
    pub warning: Option<(&'static str, &'static str)>,
    pub loc: Loc,
}

impl Change {
    pub fn new(
        class: Class,
        item: String,
        old: Option<String>,
        new: Option<String>,
        summary: String,
        loc: Loc,
    ) -> Change {
        Change { class, item, old, new, summary, addition: false, warning: None, loc }
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(self.class, &self.item, self.old.as_deref(), self.new.as_deref())
    }
}

/// A stable fingerprint of one exact change: 16 hex digits of the SHA-256
/// of its class, item, old and new text. Any difference in what changed
/// (or how it is classified) gives another fingerprint, which is what makes
/// an acceptance go stale.
pub fn fingerprint(class: Class, item: &str, old: Option<&str>, new: Option<&str>) -> String {
    let text = format!(
        "ampy-change v1\nclass {}\nitem {item}\nold {}\nnew {}\n",
        class.as_str(),
        old.unwrap_or("-"),
        new.unwrap_or("-")
    );
    crate::canonical::hash_canonical(&text).chars().skip("sha256:".len()).take(16).collect()
}

/// A diagnostic plus what CI tooling needs to act on it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    /// `None` for findings that are not a classified difference (a stale
    /// lock, a version rule, stale generated code).
    pub class: Option<Class>,
    pub fingerprint: Option<String>,
    /// The topics the finding concerns, by id.
    pub topics: Vec<String>,
}

impl Finding {
    pub fn plain(diagnostic: Diagnostic) -> Finding {
        Finding { diagnostic, class: None, fingerprint: None, topics: Vec::new() }
    }
}

/// What changes are classified against.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    pub lock: Lockfile,
    /// Where each baseline topic was declared, to point at removed ones.
    pub topic_labels: BTreeMap<String, Label>,
}

impl Baseline {
    /// The lock file next to the registry. `Ok(None)` when there is none.
    /// Schemas whose canonical form does not hash to the recorded hash are
    /// left out: a hand-edited lock is no baseline (check reports it stale).
    pub fn from_lock_file(project: &Project) -> Result<Option<Baseline>, Diagnostic> {
        let path = lock_path(&project.registry_path);
        Ok(Lockfile::read_with_source(&path)?.map(|(lock, source)| Baseline::from_lock(lock, &source)))
    }

    /// The baseline a lock file gives, from its content and the text it
    /// was parsed from (read once per run, see
    /// [`Lockfile::read_with_source`]). Schemas whose canonical form does
    /// not hash to the recorded hash are left out.
    pub fn from_lock(lock: Lockfile, source: &Arc<Source>) -> Baseline {
        Baseline::from_lock_beside(lock, source, None)
    }

    /// [`Baseline::from_lock`] when the lock the protos give is at hand: a
    /// locked schema whose canonical form and hash equal the computed ones
    /// hashes to its recorded hash (the computed hash is the hash of that
    /// same text), so only the others are hashed again.
    pub fn from_lock_beside(mut lock: Lockfile, source: &Arc<Source>, computed: Option<&Lockfile>) -> Baseline {
        lock.schemas.retain(|name, s| {
            let same = computed.and_then(|c| c.schemas.get(name)).is_some_and(|c| c.hash == s.hash && c.canonical == s.canonical);
            same || crate::canonical::hash_canonical(&s.canonical) == s.hash
        });
        let starts = object_keys(source.text());
        let mut topic_labels = BTreeMap::new();
        for id in lock.topics.keys() {
            if let Some(&at) = starts.get(id.as_str()) {
                topic_labels.insert(id.clone(), Label::new(source, at..at + id.len() + 2));
            }
        }
        Baseline { lock, topic_labels }
    }

    /// The baseline a whole project gives (e.g. loaded at a git revision).
    pub fn from_project(project: &Project) -> Baseline {
        let source = &project.registry.source;
        let topic_labels =
            project.registry.topics().map(|t| (t.id(), Label::new(source, t.topic.name.span.clone()))).collect();
        Baseline { lock: Lockfile::compute(project), topic_labels }
    }
}

/// Where each `"KEY": {` line of a rendered lock starts (the offset of its
/// opening quote), by KEY; the last one wins, as topics come after
/// schemas. One pass over the text, so labelling every topic of a large
/// lock stays linear.
fn object_keys(text: &str) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        let start = at + (line.len() - body.len());
        at += line.len();
        let Some(rest) = body.strip_prefix('"') else { continue };
        let Some(end) = rest.find("\": {") else { continue };
        let key = &rest[..end];
        // Only plain keys (ids and names have no escapes), ending the line.
        if !key.contains('\\') && !key.contains('"') && rest[end + 4..].trim_end().is_empty() {
            out.insert(key, start);
        }
    }
    out
}

/// Changes by fingerprint: the list in first-seen order, and where each
/// fingerprint sits in it.
#[derive(Default)]
struct Groups {
    list: Vec<(String, Change, Vec<String>)>,
    index: BTreeMap<String, usize>,
}

impl Groups {
    /// Records `change` for `topics`, hashing its fingerprint once.
    fn add<T: AsRef<str>>(&mut self, change: Change, topics: &[T]) {
        let fp = change.fingerprint();
        let topics = topics.iter().map(|t| t.as_ref().to_owned());
        match self.index.get(&fp) {
            Some(&i) => self.list[i].2.extend(topics),
            None => {
                self.index.insert(fp.clone(), self.list.len());
                self.list.push((fp, change, topics.collect()));
            }
        }
    }
}

/// Classifies every difference between `baseline` and `project` and
/// applies the version and acceptance rules. Findings come in a stable
/// order: topics added/removed, then changes, then rule findings.
pub fn evaluate(baseline: &Baseline, project: &Project) -> Vec<Finding> {
    evaluate_with(baseline, project, &Lockfile::compute(project))
}

/// [`evaluate`] with the lock the project gives already computed (`check`
/// and `lock` compute it once per run and share it).
pub fn evaluate_with(baseline: &Baseline, project: &Project, current: &Lockfile) -> Vec<Finding> {
    // Changes grouped by fingerprint, in first-seen order; the index keeps
    // grouping linear (100,000 added envs are 100,000 groups).
    let mut groups = Groups::default();
    let add = |change: Change, topic: &str, groups: &mut Groups| groups.add(change, std::slice::from_ref(&topic));
    let mut findings = Vec::new();
    let mut schema_changes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (change, topics) in delivery::registry(&baseline.lock, current) {
        groups.add(change, &topics);
    }
    for (id, now) in &current.topics {
        let Some(was) = baseline.lock.topics.get(id) else {
            // A format-1 lock has schemas but no topics: nothing to compare.
            if !baseline.lock.topics.is_empty() || baseline.lock.schemas.is_empty() {
                findings.push(rules::topic_added(project, baseline, id));
            }
            continue;
        };
        for change in routing::diff(id, was, now).into_iter().chain(delivery::diff(id, was, now)) {
            add(change, id, &mut groups);
        }
        let (Some(fqdn), true) = (&now.payload, was.payload == now.payload) else { continue };
        let (Some(old), Some(new)) = (baseline.lock.schemas.get(fqdn), current.schemas.get(fqdn)) else { continue };
        if old.hash == new.hash && old.reserved == new.reserved {
            continue;
        }
        let json_breaking = project.registry.find_topic(id).map(|t| t.domain.json_breaking()).unwrap_or(true);
        let (old_model, new_model) =
            (model::Schema::parse(&old.canonical, &old.reserved), model::Schema::parse(&new.canonical, &new.reserved));
        for change in schema::diff(&old_model, &new_model, json_breaking) {
            schema_changes.entry(id.clone()).or_default().push(change.fingerprint());
            add(change, id, &mut groups);
        }
        for change in routing::key_enums(id, was, now, &old_model, &new_model) {
            add(change, id, &mut groups);
        }
        // Not a schema change (the hash stays), so no version rule applies.
        for change in schema::reservations_dropped(&old_model, &new_model) {
            add(change, id, &mut groups);
        }
    }
    for (id, was) in &baseline.lock.topics {
        if !current.topics.contains_key(id) {
            findings.push(rules::topic_removed(baseline, id, was));
        }
    }
    findings.extend(rules::changes(project, groups.list, &schema_changes, baseline));
    findings
}

/// The label for a change in the current sources, if it can be found.
pub(crate) fn locate(project: &Project, loc: &Loc) -> Option<Label> {
    let pool = &project.compiled.pool;
    let (file, path, what, whole) = match loc {
        Loc::Field { message, number } => {
            let m = pool.get_message_by_name(message)?;
            match m.get_field(*number) {
                Some(f) => (m.parent_file(), f.path().to_vec(), format!("field `{}`", f.name()), true),
                None => (m.parent_file(), m.path().to_vec(), format!("field #{number} was here"), false),
            }
        }
        Loc::Message(name) => {
            let m = pool.get_message_by_name(name)?;
            (m.parent_file(), m.path().to_vec(), format!("message `{name}`"), false)
        }
        Loc::Enum(name) => {
            let e = pool.get_enum_by_name(name)?;
            (e.parent_file(), e.path().to_vec(), format!("enum `{name}`"), false)
        }
        Loc::Value { enum_name, number, name } => {
            let e = pool.get_enum_by_name(enum_name)?;
            match e.get_value_by_name(name).or_else(|| e.get_value(*number)) {
                Some(v) => (e.parent_file(), v.path().to_vec(), format!("value `{}`", v.name()), true),
                None => (e.parent_file(), e.path().to_vec(), format!("value `{name}` was here"), false),
            }
        }
        Loc::Topic { id, part } => return locate_topic(project, id, part),
        Loc::Qos(tier) => {
            let t = project.registry.qos.iter().find(|q| q.name.value == *tier)?;
            return Some(Label::new(&project.registry.source, t.name.span.clone()).with_message("QoS tier"));
        }
        Loc::Namespace => {
            let span = project.registry.namespace.span.clone();
            return Some(Label::new(&project.registry.source, span).with_message("namespace"));
        }
        Loc::Env(name, at) => {
            let envs = &project.registry.envs;
            let listed = at.and_then(|i| envs.get(i)).filter(|e| e.value == *name);
            let (e, what) = match listed.or_else(|| envs.iter().find(|e| e.value == *name)) {
                Some(e) => (e, "env"),
                None => (envs.first()?, "envs"),
            };
            return Some(Label::new(&project.registry.source, e.span.clone()).with_message(what));
        }
    };
    let (source, mut span) = project.compiled.span_of(&file, &path)?;
    if !whole {
        let text = source.text().get(span.clone()).unwrap_or_default();
        span.end = text.find('\n').map_or(span.end, |i| span.start + i);
    }
    Some(Label::new(source, span).with_message(what))
}

fn locate_topic(project: &Project, id: &str, part: &TopicPart) -> Option<Label> {
    let t = project.registry.find_topic(id).ok()?;
    let source: &Arc<Source> = &project.registry.source;
    let key = t.topic.key.as_ref();
    let (span, what) = match part {
        TopicPart::Payload => (t.topic.payload.as_ref()?.span.clone(), "payload"),
        TopicPart::Subtopic => (t.topic.subtopic.span.clone(), "subtopic"),
        TopicPart::KeyFormat => (key?.format.span.clone(), "key format"),
        TopicPart::KeyField(name) => match key?.fields.iter().find(|f| f.name.value == *name) {
            Some(f) => (f.path.span.clone(), "key path"),
            None => (key?.format.span.clone(), "key format"),
        },
        TopicPart::Ordering => match &t.topic.ordering {
            Some(o) => (o.span.clone(), "ordering"),
            None => (t.topic.name.span.clone(), "topic"),
        },
        TopicPart::Dedupe => match &t.topic.dedupe {
            Some(d) => (d.span.clone(), "dedupe"),
            None => (t.topic.name.span.clone(), "topic"),
        },
        TopicPart::Qos => (t.domain.qos.span.clone(), "qos"),
        TopicPart::Compat => match &t.domain.compat_json {
            Some(c) => (c.span.clone(), "compat.json"),
            None => (t.domain.name.span.clone(), "domain"),
        },
        TopicPart::Deprecated => match t.deprecation() {
            Some(d) => (d.span.clone(), "deprecated"),
            None => (t.topic.name.span.clone(), "topic"),
        },
        TopicPart::Whole => (t.topic.name.span.clone(), "topic"),
    };
    Some(Label::new(source, span).with_message(what))
}
