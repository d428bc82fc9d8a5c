//! Streams from the registry: create what is missing, update what differs,
//! and refuse changes that would lose stored records unless told to.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};

use super::{Error, ErrorKind};
use crate::transport::{Layout, Storage, Stream, Tier};

/// The configuration one stream should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPlan {
    pub name: String,
    pub subjects: Vec<String>,
    /// Zero: no age limit.
    pub max_age: Duration,
    /// `None`: no size limit.
    pub max_bytes: Option<u64>,
    pub storage: Storage,
    pub replicas: u32,
    pub duplicate_window: Duration,
    pub description: String,
}

impl StreamPlan {
    pub fn new(stream: &Stream, tier: &Tier) -> StreamPlan {
        let what = if stream.dead_letters { "dead letters" } else { "records" };
        StreamPlan {
            name: stream.name.to_owned(),
            subjects: stream.subjects.iter().map(|s| (*s).to_owned()).collect(),
            max_age: Duration::from_millis(tier.max_age_ms),
            max_bytes: tier.max_bytes,
            storage: tier.storage,
            replicas: tier.replicas,
            duplicate_window: Duration::from_millis(tier.duplicate_window_ms),
            description: format!(
                "ampygen: {what} of {}.{} in env {} (qos {}); managed by `ampygen provision nats`",
                stream.domain, stream.version, stream.env, tier.name
            ),
        }
    }

    /// The server configuration: limits retention (records stay for
    /// replay and every consumer, until age or size drops the oldest).
    fn config(&self) -> Config {
        Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_age: self.max_age,
            max_bytes: self.max_bytes.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)),
            storage: match self.storage {
                Storage::File => StorageType::File,
                Storage::Memory => StorageType::Memory,
            },
            num_replicas: self.replicas as usize,
            duplicate_window: self.duplicate_window,
            description: Some(self.description.clone()),
            ..Default::default()
        }
    }
}

/// The plans of one env's streams, from a generated layout.
pub fn plans(layout: &Layout, env: &str) -> Result<Vec<StreamPlan>, Error> {
    layout
        .streams_for(env)
        .map(|s| {
            let tier = layout
                .tier(s.tier)
                .ok_or_else(|| Error::new(ErrorKind::Config, format!("the layout has no qos tier `{}`", s.tier)))?;
            Ok(StreamPlan::new(s, tier))
        })
        .collect()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// Compute and report the changes, change nothing.
    pub dry_run: bool,
    /// Apply changes that drop stored records (shorter retention, smaller
    /// size limit, fewer subjects, another storage type).
    pub allow_data_loss: bool,
}

/// One setting that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    pub from: String,
    pub to: String,
    /// Applying it can drop records the stream holds.
    pub loses_data: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamAction {
    Create,
    Update(Vec<Change>),
    /// Only by deleting and re-creating the stream (storage type, retention
    /// policy): every record is lost.
    Recreate(Vec<Change>),
    Unchanged,
}

/// What provisioning did, or would do, per stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionReport {
    pub streams: Vec<(String, StreamAction, Outcome)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// `--dry-run`.
    Planned,
    /// It would lose data and `allow_data_loss` is off.
    Refused,
    NothingToDo,
}

impl ProvisionReport {
    pub fn changed(&self) -> bool {
        self.streams.iter().any(|(_, _, o)| *o == Outcome::Applied)
    }

    pub fn refused(&self) -> bool {
        self.streams.iter().any(|(_, _, o)| *o == Outcome::Refused)
    }

    /// Streams with pending or applied changes.
    pub fn differs(&self) -> usize {
        self.streams.iter().filter(|(_, a, _)| *a != StreamAction::Unchanged).count()
    }
}

impl fmt::Display for ProvisionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.streams.iter().map(|(n, ..)| n.len()).max().unwrap_or(0);
        let (mut created, mut updated, mut unchanged, mut refused, mut planned) = (0, 0, 0, 0, 0);
        for (name, action, outcome) in &self.streams {
            let verb = match (action, outcome) {
                (StreamAction::Unchanged, _) => "unchanged",
                (_, Outcome::Refused) => "REFUSED",
                (StreamAction::Create, Outcome::Planned) => "would create",
                (StreamAction::Create, _) => "created",
                (StreamAction::Update(_), Outcome::Planned) => "would update",
                (StreamAction::Update(_), _) => "updated",
                (StreamAction::Recreate(_), Outcome::Planned) => "would recreate",
                (StreamAction::Recreate(_), _) => "recreated",
            };
            match (action, outcome) {
                (StreamAction::Unchanged, _) => unchanged += 1,
                (_, Outcome::Refused) => refused += 1,
                (_, Outcome::Planned) => planned += 1,
                (StreamAction::Create, _) => created += 1,
                _ => updated += 1,
            }
            writeln!(f, "{name:width$}  {verb}")?;
            if let StreamAction::Update(changes) | StreamAction::Recreate(changes) = action {
                for c in changes {
                    let loss = if c.loses_data { "  (loses stored records)" } else { "" };
                    writeln!(f, "{:width$}    {}: {} -> {}{loss}", "", c.field, c.from, c.to)?;
                }
            }
        }
        let total = self.streams.len();
        if planned > 0 {
            write!(f, "{total} streams: {planned} would change, {unchanged} unchanged")?;
        } else {
            write!(f, "{total} streams: {created} created, {updated} updated, {unchanged} unchanged")?;
        }
        if refused > 0 {
            write!(f, ", {refused} refused (they would lose stored records; pass --allow-data-loss to apply)")?;
        }
        if created + updated + planned + refused == 0 {
            write!(f, "; nothing to change")?;
        }
        writeln!(f)
    }
}

/// Brings each planned stream to its configuration. Settings the plan does
/// not manage (max_msgs, placement, …) are kept as the server has them.
pub async fn provision(
    js: &Context,
    plans: &[StreamPlan],
    options: ProvisionOptions,
) -> Result<ProvisionReport, Error> {
    let mut report = ProvisionReport { streams: Vec::with_capacity(plans.len()) };
    for plan in plans {
        let existing = match js.get_stream(&plan.name).await {
            Ok(mut s) => Some(
                s.info()
                    .await
                    .map_err(|e| {
                        Error::with_source(ErrorKind::Provision, format!("cannot read stream `{}`", plan.name), e)
                    })?
                    .config
                    .clone(),
            ),
            Err(e) if is_not_found(&e) => None,
            Err(e) => {
                return Err(Error::with_source(
                    ErrorKind::Provision,
                    format!("cannot read stream `{}`: is JetStream enabled on the server?", plan.name),
                    e,
                ))
            }
        };
        let want = plan.config();
        let action = match &existing {
            None => StreamAction::Create,
            Some(have) => diff(have, &want),
        };
        let loses = match &action {
            StreamAction::Update(c) => c.iter().any(|c| c.loses_data),
            StreamAction::Recreate(_) => true,
            _ => false,
        };
        let outcome = if action == StreamAction::Unchanged {
            Outcome::NothingToDo
        } else if loses && !options.allow_data_loss {
            Outcome::Refused
        } else if options.dry_run {
            Outcome::Planned
        } else {
            let fail =
                |e: String| Error::new(ErrorKind::Provision, format!("cannot provision stream `{}`: {e}", plan.name));
            match (&action, existing) {
                (StreamAction::Create, _) => {
                    js.create_stream(want).await.map_err(|e| fail(e.to_string()))?;
                }
                (StreamAction::Recreate(_), _) => {
                    js.delete_stream(&plan.name).await.map_err(|e| fail(e.to_string()))?;
                    js.create_stream(want).await.map_err(|e| fail(e.to_string()))?;
                }
                (_, Some(have)) => {
                    js.update_stream(merge(have, want)).await.map_err(|e| fail(e.to_string()))?;
                }
                _ => {}
            }
            Outcome::Applied
        };
        report.streams.push((plan.name.clone(), action, outcome));
    }
    Ok(report)
}

fn is_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    use async_nats::jetstream::context::GetStreamErrorKind as K;
    use async_nats::jetstream::ErrorCode;
    matches!(e.kind(), K::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// The existing configuration with the managed settings replaced.
fn merge(mut have: Config, want: Config) -> Config {
    have.subjects = want.subjects;
    have.max_age = want.max_age;
    have.max_bytes = want.max_bytes;
    have.num_replicas = want.num_replicas;
    have.duplicate_window = want.duplicate_window;
    have.description = want.description;
    have.discard = want.discard;
    have
}

fn diff(have: &Config, want: &Config) -> StreamAction {
    let mut changes = Vec::new();
    let mut recreate = Vec::new();
    let dur = |d: Duration| if d.is_zero() { "unlimited".to_owned() } else { humantime(d) };
    let bytes = |b: i64| if b < 0 { "unlimited".to_owned() } else { format!("{b} B") };
    if have.storage != want.storage {
        recreate.push(Change {
            field: "storage",
            from: format!("{:?}", have.storage).to_lowercase(),
            to: format!("{:?}", want.storage).to_lowercase(),
            loses_data: true,
        });
    }
    if have.retention != want.retention {
        recreate.push(Change {
            field: "retention",
            from: format!("{:?}", have.retention).to_lowercase(),
            to: format!("{:?}", want.retention).to_lowercase(),
            loses_data: true,
        });
    }
    if !recreate.is_empty() {
        return StreamAction::Recreate(recreate);
    }
    let mut have_subjects = have.subjects.clone();
    let mut want_subjects = want.subjects.clone();
    have_subjects.sort();
    want_subjects.sort();
    if have_subjects != want_subjects {
        // Records on a dropped subject stay but no longer receive writes;
        // a subject removed from the stream is a contract change.
        let removes = have_subjects.iter().any(|s| !want_subjects.contains(s));
        changes.push(Change {
            field: "subjects",
            from: have_subjects.join(", "),
            to: want_subjects.join(", "),
            loses_data: removes,
        });
    }
    if have.max_age != want.max_age {
        let shrinks = !want.max_age.is_zero() && (have.max_age.is_zero() || want.max_age < have.max_age);
        changes.push(Change { field: "max_age", from: dur(have.max_age), to: dur(want.max_age), loses_data: shrinks });
    }
    if have.max_bytes != want.max_bytes {
        let shrinks = want.max_bytes >= 0 && (have.max_bytes < 0 || want.max_bytes < have.max_bytes);
        changes.push(Change {
            field: "max_bytes",
            from: bytes(have.max_bytes),
            to: bytes(want.max_bytes),
            loses_data: shrinks,
        });
    }
    if have.num_replicas != want.num_replicas {
        changes.push(Change {
            field: "replicas",
            from: have.num_replicas.to_string(),
            to: want.num_replicas.to_string(),
            loses_data: false,
        });
    }
    if have.duplicate_window != want.duplicate_window {
        changes.push(Change {
            field: "duplicate_window",
            from: dur(have.duplicate_window),
            to: dur(want.duplicate_window),
            loses_data: false,
        });
    }
    if have.discard != want.discard {
        changes.push(Change {
            field: "discard",
            from: format!("{:?}", have.discard).to_lowercase(),
            to: format!("{:?}", want.discard).to_lowercase(),
            loses_data: false,
        });
    }
    if changes.is_empty() {
        StreamAction::Unchanged
    } else {
        StreamAction::Update(changes)
    }
}

/// `168h`, `2m`, `1500ms`: the largest unit that divides exactly.
fn humantime(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [("h", 3_600_000u128), ("m", 60_000), ("s", 1_000)] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
