//! Kafka topics from the registry: create what is missing, raise partition
//! counts and update topic configs in place, and refuse what Kafka cannot
//! do (remove partitions, change the replication factor) or what would drop
//! stored records unless told to. The same shape as `nats::provision`;
//! normative text: docs/kafka.md §4.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::ClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::transport::{KafkaTopic, Layout};

/// The configuration one topic should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPlan {
    /// `ampy.prod.bars.v1`.
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u16,
    /// Topic-level configs by Kafka name (`retention.ms`, …), sorted.
    pub configs: BTreeMap<String, String>,
}

impl TopicPlan {
    pub fn new(topic: &KafkaTopic) -> TopicPlan {
        TopicPlan {
            name: topic.name.to_owned(),
            partitions: topic.partitions,
            replication_factor: topic.replication_factor,
            configs: topic.configs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }
}

/// The plans of one env's topics (the dlq topic included), from a
/// generated layout.
pub fn topic_plans(layout: &Layout, env: &str) -> Vec<TopicPlan> {
    layout.kafka_topics_for(env).map(TopicPlan::new).collect()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// Compute and report the changes, change nothing.
    pub dry_run: bool,
    /// Apply config changes that drop stored records (a shorter
    /// `retention.ms`, a smaller `retention.bytes`). Removing partitions
    /// is never applied.
    pub allow_data_loss: bool,
    /// How long each admin request may take; zero means 30 s.
    pub timeout: Duration,
}

/// What applying one change does beyond the setting itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// More partitions: `partition_for` sends many keys elsewhere, so a
    /// key's records before and after the change are in two partitions.
    MovesKeys,
    /// Drops records the topic holds now.
    LosesData,
    /// Kafka cannot apply it (fewer partitions, another replication factor).
    Impossible,
}

/// One setting that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `partitions`, `replication_factor` or a Kafka config name.
    pub field: String,
    pub from: String,
    pub to: String,
    pub effect: Effect,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicAction {
    Create,
    Update(Vec<Change>),
    Unchanged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// `--dry-run`.
    Planned,
    /// Impossible, or it would lose data and `allow_data_loss` is off;
    /// nothing of the topic's changes is applied.
    Refused,
    NothingToDo,
}

/// What provisioning did, or would do, per topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionReport {
    pub topics: Vec<(String, TopicAction, Outcome)>,
}

impl ProvisionReport {
    pub fn changed(&self) -> bool {
        self.topics.iter().any(|(_, _, o)| *o == Outcome::Applied)
    }

    pub fn refused(&self) -> bool {
        self.topics.iter().any(|(_, _, o)| *o == Outcome::Refused)
    }

    /// Topics with pending or applied changes.
    pub fn differs(&self) -> usize {
        self.topics.iter().filter(|(_, a, _)| *a != TopicAction::Unchanged).count()
    }
}

impl fmt::Display for ProvisionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.topics.iter().map(|(n, ..)| n.len()).max().unwrap_or(0);
        let (mut created, mut updated, mut unchanged, mut refused, mut planned) = (0, 0, 0, 0, 0);
        let (mut impossible, mut lossy) = (false, false);
        for (name, action, outcome) in &self.topics {
            let verb = match (action, outcome) {
                (TopicAction::Unchanged, _) => "unchanged",
                (_, Outcome::Refused) => "REFUSED",
                (TopicAction::Create, Outcome::Planned) => "would create",
                (TopicAction::Create, _) => "created",
                (TopicAction::Update(_), Outcome::Planned) => "would update",
                (TopicAction::Update(_), _) => "updated",
            };
            match (action, outcome) {
                (TopicAction::Unchanged, _) => unchanged += 1,
                (_, Outcome::Refused) => refused += 1,
                (_, Outcome::Planned) => planned += 1,
                (TopicAction::Create, _) => created += 1,
                _ => updated += 1,
            }
            writeln!(f, "{name:width$}  {verb}")?;
            if let TopicAction::Update(changes) = action {
                for c in changes {
                    let note = match c.effect {
                        Effect::None => String::new(),
                        Effect::MovesKeys => {
                            "  (moves keys to other partitions: a key's older records stay where they were)".to_owned()
                        }
                        Effect::LosesData => "  (loses stored records)".to_owned(),
                        Effect::Impossible if c.field == "partitions" => {
                            format!("  (Kafka cannot remove partitions: keep {} in the registry, or delete and re-create the topic)", c.from)
                        }
                        Effect::Impossible => {
                            "  (not changed in place: reassign the partitions with Kafka's tools)".to_owned()
                        }
                    };
                    if *outcome == Outcome::Refused {
                        impossible |= c.effect == Effect::Impossible;
                        lossy |= c.effect == Effect::LosesData;
                    }
                    writeln!(f, "{:width$}    {}: {} -> {}{note}", "", c.field, c.from, c.to)?;
                }
            }
        }
        let total = self.topics.len();
        if planned > 0 {
            write!(f, "{total} topics: {planned} would change, {unchanged} unchanged")?;
        } else {
            write!(f, "{total} topics: {created} created, {updated} updated, {unchanged} unchanged")?;
        }
        if refused > 0 {
            let why = match (impossible, lossy) {
                (true, true) => "Kafka cannot apply some changes, and others would lose stored records (pass --allow-data-loss for those)",
                (true, false) => "Kafka cannot apply them",
                _ => "they would lose stored records; pass --allow-data-loss to apply",
            };
            write!(f, ", {refused} refused ({why})")?;
        }
        if created + updated + planned + refused == 0 {
            write!(f, "; nothing to change")?;
        }
        writeln!(f)
    }
}

/// Why provisioning stopped before it had looked at every topic.
#[derive(Debug)]
pub struct ProvisionError {
    message: String,
    source: Option<rdkafka::error::KafkaError>,
}

impl ProvisionError {
    fn new(message: impl Into<String>, source: Option<rdkafka::error::KafkaError>) -> ProvisionError {
        ProvisionError { message: message.into(), source }
    }

    /// The error kind, as the transport's errors name it.
    pub fn kind(&self) -> &'static str {
        "provision"
    }
}

impl fmt::Display for ProvisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(e) => write!(f, "{}: {e}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ProvisionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// What the broker has for one topic.
struct Existing {
    partitions: u32,
    replication_factor: u16,
    /// Every config with a value, by name.
    configs: BTreeMap<String, String>,
    /// The configs set on the topic itself: AlterConfigs replaces the whole
    /// set, so the ones the plan does not manage are sent back unchanged.
    overrides: BTreeMap<String, String>,
}

/// Brings each planned topic to its plan. Topic configs the plan does not
/// manage are kept as the broker has them. Topics are handled one by one:
/// a refused topic leaves the others to be applied.
///
/// Reads the cluster metadata once, blocking the calling thread for at most
/// `options.timeout`.
pub async fn provision<C: ClientContext>(
    admin: &AdminClient<C>,
    plans: &[TopicPlan],
    options: ProvisionOptions,
) -> Result<ProvisionReport, ProvisionError> {
    let timeout = if options.timeout.is_zero() { Duration::from_secs(30) } else { options.timeout };
    let opts = AdminOptions::new().request_timeout(Some(timeout)).operation_timeout(Some(timeout));
    let mut existing = existing_topics(admin, plans, timeout, &opts).await?;
    let mut report = ProvisionReport { topics: Vec::with_capacity(plans.len()) };
    for plan in plans {
        let have = existing.remove(&plan.name);
        let action = match &have {
            None => TopicAction::Create,
            Some(have) => diff(have, plan),
        };
        let refuse = match &action {
            TopicAction::Update(c) => c
                .iter()
                .any(|c| c.effect == Effect::Impossible || (c.effect == Effect::LosesData && !options.allow_data_loss)),
            _ => false,
        };
        let outcome = if action == TopicAction::Unchanged {
            Outcome::NothingToDo
        } else if refuse {
            Outcome::Refused
        } else if options.dry_run {
            Outcome::Planned
        } else {
            match (&action, &have) {
                (TopicAction::Create, _) => create(admin, plan, &opts).await?,
                (TopicAction::Update(changes), Some(have)) => update(admin, plan, have, changes, &opts).await?,
                _ => {}
            }
            Outcome::Applied
        };
        report.topics.push((plan.name.clone(), action, outcome));
    }
    if report.changed() {
        settle(admin, plans, &report, timeout).await;
    }
    Ok(report)
}

/// Waits (at most `timeout`) until the cluster shows every applied topic
/// with its planned partitions and configs. The controller has applied a
/// change when the admin call returns, but brokers learn it a moment later;
/// a publisher (or a second run) started right after provisioning would
/// otherwise see a topic missing, short of partitions or with old configs.
async fn settle<C: ClientContext>(
    admin: &AdminClient<C>,
    plans: &[TopicPlan],
    report: &ProvisionReport,
    timeout: Duration,
) {
    let applied: Vec<(&str, usize)> = report
        .topics
        .iter()
        .filter(|(_, _, o)| *o == Outcome::Applied)
        .filter_map(|(name, ..)| plans.iter().find(|p| &p.name == name))
        .map(|p| (p.name.as_str(), p.partitions as usize))
        .collect();
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        let Ok(md) = admin.inner().fetch_metadata(None, timeout) else { return };
        let seen = |name: &str, n: usize| {
            md.topics().iter().any(|t| t.name() == name && t.error().is_none() && t.partitions().len() >= n)
        };
        if applied.iter().all(|(name, n)| seen(name, *n)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opts = AdminOptions::new().request_timeout(Some(timeout));
    let specifiers: Vec<ResourceSpecifier<'_>> = applied.iter().map(|(n, _)| ResourceSpecifier::Topic(n)).collect();
    while std::time::Instant::now() < deadline {
        let Ok(described) = admin.describe_configs(&specifiers, &opts).await else { return };
        let current = described.iter().all(|r| {
            let Ok(resource) = r else { return false };
            let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &resource.specifier else { return true };
            let Some(plan) = plans.iter().find(|p| &p.name == name) else { return true };
            plan.configs.iter().all(|(k, v)| resource.get(k).and_then(|e| e.value.as_deref()) == Some(v.as_str()))
        });
        if current {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn existing_topics<C: ClientContext>(
    admin: &AdminClient<C>,
    plans: &[TopicPlan],
    timeout: Duration,
    opts: &AdminOptions,
) -> Result<BTreeMap<String, Existing>, ProvisionError> {
    let metadata = admin
        .inner()
        .fetch_metadata(None, timeout)
        .map_err(|e| ProvisionError::new("cannot read the cluster's topics", Some(e)))?;
    let mut out = BTreeMap::new();
    let wanted: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    for t in metadata.topics() {
        if !wanted.contains(&t.name()) || t.error().is_some() {
            continue;
        }
        let partitions = u32::try_from(t.partitions().len()).unwrap_or(u32::MAX);
        let replication_factor =
            t.partitions().iter().map(|p| p.replicas().len()).max().map_or(0, |n| u16::try_from(n).unwrap_or(u16::MAX));
        out.insert(
            t.name().to_owned(),
            Existing { partitions, replication_factor, configs: BTreeMap::new(), overrides: BTreeMap::new() },
        );
    }
    if out.is_empty() {
        return Ok(out);
    }
    let names: Vec<String> = out.keys().cloned().collect();
    let specifiers: Vec<ResourceSpecifier<'_>> = names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let described = admin
        .describe_configs(&specifiers, opts)
        .await
        .map_err(|e| ProvisionError::new("cannot read the topics' configs", Some(e)))?;
    for result in described {
        let resource = result.map_err(|code| {
            ProvisionError::new(format!("cannot read the configs of a topic: {}", describe(code)), None)
        })?;
        let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &resource.specifier else { continue };
        let Some(e) = out.get_mut(name) else { continue };
        for entry in resource.entries {
            let Some(value) = entry.value else { continue };
            if entry.source == ConfigSource::DynamicTopic && !entry.is_sensitive {
                e.overrides.insert(entry.name.clone(), value.clone());
            }
            e.configs.insert(entry.name, value);
        }
    }
    Ok(out)
}

fn diff(have: &Existing, plan: &TopicPlan) -> TopicAction {
    let mut changes = Vec::new();
    if have.partitions != plan.partitions {
        changes.push(Change {
            field: "partitions".to_owned(),
            from: have.partitions.to_string(),
            to: plan.partitions.to_string(),
            effect: if plan.partitions < have.partitions { Effect::Impossible } else { Effect::MovesKeys },
        });
    }
    if have.replication_factor != plan.replication_factor {
        changes.push(Change {
            field: "replication_factor".to_owned(),
            from: have.replication_factor.to_string(),
            to: plan.replication_factor.to_string(),
            effect: Effect::Impossible,
        });
    }
    for (key, want) in &plan.configs {
        let got = have.configs.get(key).map(String::as_str).unwrap_or("unset");
        if got == want {
            continue;
        }
        let effect = match key.as_str() {
            "retention.ms" | "retention.bytes" if shrinks(got, want) => Effect::LosesData,
            _ => Effect::None,
        };
        changes.push(Change { field: key.clone(), from: got.to_owned(), to: want.clone(), effect });
    }
    if changes.is_empty() {
        TopicAction::Unchanged
    } else {
        TopicAction::Update(changes)
    }
}

/// Whether a retention bound goes down (-1 is no bound).
fn shrinks(from: &str, to: &str) -> bool {
    let (Ok(from), Ok(to)) = (from.parse::<i64>(), to.parse::<i64>()) else { return false };
    to >= 0 && (from < 0 || to < from)
}

async fn create<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &TopicPlan,
    opts: &AdminOptions,
) -> Result<(), ProvisionError> {
    let partitions = i32::try_from(plan.partitions).unwrap_or(i32::MAX);
    let mut topic = NewTopic::new(&plan.name, partitions, TopicReplication::Fixed(i32::from(plan.replication_factor)));
    for (k, v) in &plan.configs {
        topic = topic.set(k, v);
    }
    let results = admin
        .create_topics([&topic], opts)
        .await
        .map_err(|e| ProvisionError::new(format!("cannot create topic `{}`", plan.name), Some(e)))?;
    check(results, &plan.name, "create topic")
}

async fn update<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &TopicPlan,
    have: &Existing,
    changes: &[Change],
    opts: &AdminOptions,
) -> Result<(), ProvisionError> {
    // Configs first: a failure there leaves the partitions (the change
    // that cannot be undone) as they were.
    if changes.iter().any(|c| c.field != "partitions" && c.field != "replication_factor") {
        let mut all = have.overrides.clone();
        all.extend(plan.configs.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut alter = AlterConfig::new(ResourceSpecifier::Topic(&plan.name));
        for (k, v) in &all {
            alter = alter.set(k, v);
        }
        let results = admin
            .alter_configs([&alter], opts)
            .await
            .map_err(|e| ProvisionError::new(format!("cannot update the configs of topic `{}`", plan.name), Some(e)))?;
        for r in results {
            r.map_err(|(_, code)| {
                ProvisionError::new(
                    format!("cannot update the configs of topic `{}`: {}", plan.name, describe(code)),
                    None,
                )
            })?;
        }
    }
    if plan.partitions > have.partitions {
        let more = NewPartitions::new(&plan.name, plan.partitions as usize);
        let results = admin
            .create_partitions([&more], opts)
            .await
            .map_err(|e| ProvisionError::new(format!("cannot add partitions to topic `{}`", plan.name), Some(e)))?;
        check(results, &plan.name, "add partitions to topic")?;
    }
    Ok(())
}

fn check(results: Vec<rdkafka::admin::TopicResult>, name: &str, what: &str) -> Result<(), ProvisionError> {
    for r in results {
        r.map_err(|(_, code)| ProvisionError::new(format!("cannot {what} `{name}`: {}", describe(code)), None))?;
    }
    Ok(())
}

/// The broker's error code with a hint where one helps.
fn describe(code: RDKafkaErrorCode) -> String {
    match code {
        RDKafkaErrorCode::InvalidReplicationFactor => {
            format!("{code} (the tier's `replicas` is more than the cluster's brokers)")
        }
        RDKafkaErrorCode::TopicAlreadyExists => {
            format!(
                "{code} (the cluster's metadata did not list it yet: another run may have just created it; run again)"
            )
        }
        RDKafkaErrorCode::PolicyViolation => format!("{code} (a broker policy refused it)"),
        RDKafkaErrorCode::TopicAuthorizationFailed | RDKafkaErrorCode::ClusterAuthorizationFailed => {
            format!("{code} (the client may not manage topics)")
        }
        _ => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(partitions: u32, retention_ms: &str) -> TopicPlan {
        TopicPlan {
            name: "ampy.dev.bars.v1".into(),
            partitions,
            replication_factor: 1,
            configs: [("retention.ms".to_owned(), retention_ms.to_owned())].into_iter().collect(),
        }
    }

    fn have(partitions: u32, retention_ms: &str) -> Existing {
        Existing {
            partitions,
            replication_factor: 1,
            configs: [("retention.ms".to_owned(), retention_ms.to_owned())].into_iter().collect(),
            overrides: BTreeMap::new(),
        }
    }

    #[test]
    fn fewer_partitions_are_impossible_and_more_move_keys() {
        let TopicAction::Update(c) = diff(&have(6, "1000"), &plan(3, "1000")) else { panic!("no change") };
        assert_eq!(c[0].effect, Effect::Impossible);
        let TopicAction::Update(c) = diff(&have(6, "1000"), &plan(12, "1000")) else { panic!("no change") };
        assert_eq!((c[0].field.as_str(), c[0].effect), ("partitions", Effect::MovesKeys));
        assert_eq!(diff(&have(6, "1000"), &plan(6, "1000")), TopicAction::Unchanged);
    }

    #[test]
    fn shorter_retention_loses_data_and_longer_does_not() {
        let TopicAction::Update(c) = diff(&have(6, "1000"), &plan(6, "500")) else { panic!("no change") };
        assert_eq!(c[0].effect, Effect::LosesData);
        let TopicAction::Update(c) = diff(&have(6, "1000"), &plan(6, "-1")) else { panic!("no change") };
        assert_eq!(c[0].effect, Effect::None);
        let TopicAction::Update(c) = diff(&have(6, "-1"), &plan(6, "1000")) else { panic!("no change") };
        assert_eq!(c[0].effect, Effect::LosesData);
    }

    #[test]
    fn the_report_says_why_a_topic_is_refused() {
        let report = ProvisionReport {
            topics: vec![("ampy.dev.bars.v1".into(), diff(&have(12, "1000"), &plan(6, "1000")), Outcome::Refused)],
        };
        let text = report.to_string();
        assert!(text.contains("ampy.dev.bars.v1  REFUSED"), "{text}");
        assert!(text.contains("partitions: 12 -> 6  (Kafka cannot remove partitions"), "{text}");
        assert!(
            text.ends_with("1 topics: 0 created, 0 updated, 0 unchanged, 1 refused (Kafka cannot apply them)\n"),
            "{text}"
        );
    }
}
