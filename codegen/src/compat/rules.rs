//! The rules on top of classification: acceptances of exact breaking
//! changes, schema_version bumps, and the deprecation step before a topic
//! version is removed.

use std::collections::{BTreeMap, BTreeSet};

use super::{locate, Baseline, Change, Class, Finding};
use crate::diag::Diagnostic;
use crate::lock::LockedTopic;
use crate::project::Project;
use crate::registry::Semver;

/// A topic present now but not in the baseline: a new topic, topic version
/// (`v2` next to `v1`) or domain. Always compatible.
pub(super) fn topic_added(project: &Project, baseline: &Baseline, id: &str) -> Finding {
    let mut parts = id.splitn(3, '.');
    let (domain, version) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let known = |prefix: String| baseline.lock.topics.keys().any(|k| k.starts_with(&prefix));
    let message = if !known(format!("{domain}.")) {
        format!("compatible change: domain `{domain}` added (topic `{id}`)")
    } else if !known(format!("{domain}.{version}.")) {
        let others: BTreeSet<&str> = baseline
            .lock
            .topics
            .keys()
            .filter(|k| k.starts_with(&format!("{domain}.")))
            .filter_map(|k| k.split('.').nth(1))
            .collect();
        let others: Vec<&str> = others.into_iter().collect();
        format!(
            "compatible change: topic version `{domain}.{version}` added next to {} (topic `{id}`)",
            others.join(", ")
        )
    } else {
        format!("compatible change: topic `{id}` added")
    };
    let mut d = Diagnostic::warning("compat::topic_added", message);
    d = downgrade(d);
    if let Some(label) = locate(project, &super::Loc::Topic { id: id.to_owned(), part: super::TopicPart::Whole }) {
        d = d.with_label(label);
    }
    Finding { diagnostic: d, class: Some(Class::Compatible), fingerprint: None, topics: vec![id.to_owned()] }
}

/// A topic in the baseline that is gone: compatible only after a locked
/// deprecation step.
pub(super) fn topic_removed(baseline: &Baseline, id: &str, was: &LockedTopic) -> Finding {
    let (d, class) = match &was.deprecated {
        Some(dep) => (
            downgrade(Diagnostic::warning(
                "compat::topic_retired",
                format!("compatible change: deprecated topic `{id}` removed (deprecated {dep})"),
            )),
            Class::Compatible,
        ),
        None => (
            Diagnostic::error(
                "compat::topic_removed",
                format!("breaking change (routing): topic `{id}` removed without a deprecation step"),
            )
            .note("its subscribers would silently stop receiving records")
            .help(format!(
                "restore it, mark its version `deprecated: {{since: …, reason: …}}` and run `ampygen lock`; remove `{id}` in a later change"
            )),
            Class::BreakingRouting,
        ),
    };
    let d = match baseline.topic_labels.get(id) {
        Some(label) => d.with_label(label.clone().with_message("declared here in the baseline")),
        None => d,
    };
    Finding { diagnostic: d, class: Some(class), fingerprint: None, topics: vec![id.to_owned()] }
}

/// Compatible changes are reported at note level: listed, never failing.
fn downgrade(d: Diagnostic) -> Diagnostic {
    d.with_severity(crate::diag::Severity::Advice)
}

/// Findings for grouped changes, acceptances and version rules.
pub(super) fn changes(
    project: &Project,
    groups: Vec<(String, Change, Vec<String>)>,
    schema_changes: &BTreeMap<String, Vec<String>>,
    baseline: &Baseline,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut matched: BTreeSet<(String, String)> = BTreeSet::new();
    let mut blocked: BTreeSet<String> = BTreeSet::new();
    let mut by_fp: BTreeMap<String, &Change> = BTreeMap::new();
    for (fp, change, topics) in &groups {
        by_fp.insert(fp.clone(), change);
        let label = locate(project, &change.loc);
        let mut notes = vec![format!("topics: {}", topics.join(", "))];
        if let Some(old) = &change.old {
            notes.push(format!("was: {}", old.replace('\n', " | ")));
        }
        if let Some(new) = &change.new {
            notes.push(format!("now: {}", new.replace('\n', " | ")));
        }
        let message = format!("{}: {}", change.class.title(), change.summary);
        let mut d = if !change.class.is_breaking() {
            match change.warning {
                Some((code, advice)) => Diagnostic::warning(code, message).help(advice),
                None => downgrade(Diagnostic::warning("compat::compatible", message)),
            }
        } else {
            let mut accepted_by = Vec::new();
            let mut unaccepted = Vec::new();
            for t in topics {
                let acceptance = project
                    .registry
                    .find_topic(t)
                    .ok()
                    .and_then(|r| r.topic.accept_breaking.iter().find(|a| a.fingerprint.value == *fp));
                match acceptance {
                    Some(a) => {
                        matched.insert((t.clone(), fp.clone()));
                        accepted_by.push(format!("{t}: accepted by {} ({})", a.by.value, a.reason.value));
                    }
                    None => unaccepted.push(t.clone()),
                }
            }
            if unaccepted.is_empty() {
                notes.extend(accepted_by);
                downgrade(Diagnostic::warning("compat::accepted", format!("accepted {message}")))
            } else {
                blocked.extend(unaccepted.iter().cloned());
                notes.extend(accepted_by);
                let version = topics.first().and_then(|t| t.split('.').nth(1)).unwrap_or("v1");
                let next = version.trim_start_matches('v').parse::<u64>().map_or(2, |v| v + 1);
                Diagnostic::error(change.class.code(), message).help(format!(
                    "publish it as a new topic version (`v{next}`, with a `…v{next}` package) next to `{version}`; or, if every consumer is ready, accept this exact change under {}: `accept_breaking: [{{fingerprint: \"{fp}\", by: WHO, reason: WHY}}]`",
                    unaccepted.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                ))
            }
        };
        notes.push(format!("fingerprint: {fp}"));
        for n in notes {
            d = d.note(n);
        }
        if let Some(label) = label {
            d = d.with_label(label);
        }
        out.push(Finding {
            diagnostic: d,
            class: Some(change.class),
            fingerprint: Some(fp.clone()),
            topics: topics.clone(),
        });
    }
    out.extend(stale_acceptances(project, &matched));
    for (id, fps) in schema_changes {
        if blocked.contains(id) {
            continue;
        }
        let changes: Vec<&Change> = fps.iter().filter_map(|f| by_fp.get(f).copied()).collect();
        if let Some(f) = version_rule(project, baseline, id, &changes) {
            out.push(f);
        }
    }
    out
}

fn stale_acceptances(project: &Project, matched: &BTreeSet<(String, String)>) -> Vec<Finding> {
    let source = &project.registry.source;
    let mut out = Vec::new();
    for t in project.registry.topics() {
        let id = t.id();
        for a in &t.topic.accept_breaking {
            if matched.contains(&(id.clone(), a.fingerprint.value.clone())) {
                continue;
            }
            let d = Diagnostic::warning(
                "compat::stale_acceptance",
                format!("acceptance `{}` on `{id}` matches no breaking change", a.fingerprint.value),
            )
            .at(source, a.fingerprint.span.clone())
            .label("stale")
            .note(format!("accepted by {}: {}", a.by.value, a.reason.value))
            .help("the change differs from what was accepted (its fingerprint changed), or it is already locked and released; re-review and copy the new fingerprint, or remove this entry");
            out.push(Finding {
                diagnostic: d,
                class: None,
                fingerprint: Some(a.fingerprint.value.clone()),
                topics: vec![id.clone()],
            });
        }
    }
    out
}

/// A changed schema needs a schema_version bump: minor when the change adds
/// something (or is an accepted break), at least patch otherwise.
fn version_rule(project: &Project, baseline: &Baseline, id: &str, changes: &[&Change]) -> Option<Finding> {
    let t = project.registry.find_topic(id).ok()?;
    let now = t.topic.schema_version.as_ref()?;
    let was = baseline.lock.topics.get(id)?.schema_version.as_deref().and_then(Semver::parse)?;
    let minor = changes.iter().any(|c| c.addition || c.class.is_breaking());
    let key = |v: &Semver| (v.major, v.minor, v.patch);
    let (code, message, want) = if key(&now.value) <= key(&was) {
        let want = if minor {
            format!("{}.{}.0", was.major, was.minor + 1)
        } else {
            format!("{}.{}.{}", was.major, was.minor, was.patch + 1)
        };
        (
            "compat::version_not_bumped",
            format!("schema of `{id}` changed but schema_version is {} (baseline {was})", now.value),
            want,
        )
    } else if minor && now.value.major == was.major && now.value.minor == was.minor {
        (
            "compat::minor_bump_required",
            format!(
                "schema of `{id}` gained fields, values or messages, which needs a minor bump, not {was} -> {}",
                now.value
            ),
            format!("{}.{}.0", was.major, was.minor + 1),
        )
    } else {
        return None;
    };
    let mut d = Diagnostic::error(code, message)
        .at(&project.registry.source, now.span.clone())
        .label("bump this")
        .help(format!("set `schema_version: {want}` and run `ampygen lock`"));
    for c in changes {
        d = d.note(format!("  {}", c.summary));
    }
    Some(Finding { diagnostic: d, class: None, fingerprint: None, topics: vec![id.to_owned()] })
}
