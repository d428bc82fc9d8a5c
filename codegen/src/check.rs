//! `ampygen check`: every locked hash equals the hash of the protos as they
//! are now, and the lock file agrees. A failure names the payload, both
//! hashes, and each message, enum, field or value that changed, pointing
//! into the proto file where it can.


use prost_reflect::{DescriptorPool, FileDescriptor};

use crate::canonical::{self, Change, Item};
use crate::diag::{Diagnostic, Diagnostics, Label};
use crate::lock::{lock_path, Lockfile};
use crate::project::Project;
use crate::protos::Compiled;
use crate::registry::DomainKind;

/// Every problem with the registry that `generate` would refuse, for any
/// language (the `targets` section, Go and Python names, keyword
/// refusals, Rust name collisions, key paths), found without writing
/// anything or running protoc-gen-go or prost-build. `check` reports these
/// as bad input (exit 2), as `generate` does, so a CI that runs only
/// `check` cannot pass a registry that `generate` refuses.
pub fn validate(project: &Project) -> Diagnostics {
    use crate::generate::{self, Lang};
    let results: Vec<Diagnostics> = std::thread::scope(|scope| {
        let handles: Vec<_> = Lang::ALL.iter().map(|l| scope.spawn(move || generate::validate(project, *l))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Diagnostic::error("generate::internal", "a validation thread panicked; this is a bug in ampygen")
                        .into()
                })
            })
            .collect()
    });
    let mut diags = Diagnostics::new();
    for d in results {
        diags.extend(d);
    }
    diags
}

/// Runs the check; every returned error means "check failed" (exit 1).
pub fn check(project: &Project) -> Diagnostics {
    let read = Lockfile::read(&lock_path(&project.registry_path));
    check_with(project, read.as_ref().map(Option::as_ref).map_err(Clone::clone), &Lockfile::compute(project))
}

/// [`check`] against the lock file as read (`locked`: `Ok(None)` when there
/// is none) and the lock the protos give (`computed`), so that one run
/// reads the lock and computes every hash once, shared with the gate.
pub fn check_with(
    project: &Project,
    locked: Result<Option<&Lockfile>, Diagnostic>,
    computed: &Lockfile,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let source = &project.registry.source;
    let lock_file = lock_path(&project.registry_path);
    let locked = match locked {
        Ok(l) => l,
        Err(d) => {
            diags.push(d);
            None
        }
    };
    let mut mismatched = false;
    for t in project.registry.topics() {
        if t.domain.kind == DomainKind::Dlq {
            continue;
        }
        let (Some(resolved), Some(payload)) = (project.resolved.get(&t.id()), &t.topic.payload) else { continue };
        let fqdn = resolved.message.full_name();
        let Some(now) = computed.schemas.get(fqdn) else { continue };
        match &t.topic.schema_hash {
            None => {
                mismatched = true;
                diags.push(
                    Diagnostic::error("check::not_locked", format!("topic `{}` has no schema_hash", t.id()))
                        .at(source, payload.span.clone())
                        .label(format!("payload {fqdn}"))
                        .note(format!("computed: {}", now.hash))
                        .help("run `ampygen lock` to record it, and commit the registry and lock file together"),
                );
            }
            Some(h) if h.value == now.hash => {}
            Some(h) => {
                mismatched = true;
                let before = locked.and_then(|l| l.schemas.get(fqdn)).filter(|s| s.hash == h.value);
                let mut d = Diagnostic::error(
                    "check::hash_mismatch",
                    format!("schema of `{fqdn}` (topic `{}`) no longer matches its locked hash", t.id()),
                )
                .at(source, h.span.clone())
                .label("locked here")
                .note(format!("locked:   {}", h.value))
                .note(format!("computed: {}", now.hash));
                match before {
                    Some(before) if is_v2_migration(&before.canonical, &now.canonical) => {
                        d = d.note(
                            "  only the canonical form's version moved: v2 records which alias of an enum number is declared first (docs/schema-hash.md); nothing in the schema changed",
                        );
                        let help = "run `ampygen lock` to record the v2 hash (no schema_version bump is needed); producers and consumers built with older runtimes compute the v1 hash, so rebuild them together";
                        diags.push(d.help(help));
                        continue;
                    }
                    Some(before) => {
                        for change in canonical::diff(&before.canonical, &now.canonical) {
                            d = d.note(format!("  {change}"));
                            if let Some(label) = change_location(&project.compiled, &change) {
                                d = d.with_label(label);
                            }
                        }
                    }
                    None => {
                        d = d.note(format!(
                            "  (no canonical form for the locked hash in `{}`, so the changed fields cannot be listed)",
                            lock_file.display()
                        ));
                    }
                }
                let bump = t.topic.schema_version.as_ref().map(|v| v.value.to_string()).unwrap_or_default();
                diags.push(d.help(format!(
                    "if the change is intended and compatible, bump schema_version (now {bump}) and run `ampygen lock`; a breaking change needs a new topic version"
                )));
            }
        }
    }
    // A lock that differs only in what no subject, key or schema depends on
    // (key field names) is not out of date.
    if !mismatched && !diags.has_errors() && !locked.is_some_and(|l| l.same_contract(computed)) {
        let what = if locked.is_none() { "is missing" } else { "is out of date" };
        let mut d = Diagnostic::error("check::lock_stale", format!("lock file `{}` {what}", lock_file.display()))
            .note("it must hold the canonical form of every locked payload schema, and every topic's routing and delivery settings");
        if let Some(l) = locked {
            for what in l.differences(computed) {
                d = d.note(format!("differs: {what}"));
            }
        }
        diags.push(d.help("run `ampygen lock` and commit the result"));
    }
    diags
}

/// Whether `now` is `before` rewritten by canonical form v2: the version
/// line and `alias` markers are all that differ.
fn is_v2_migration(before: &str, now: &str) -> bool {
    let v1 = now
        .replacen(canonical::VERSION_LINE_V2, canonical::VERSION_LINE, 1)
        .lines()
        .map(|l| l.strip_suffix(" alias").unwrap_or(l))
        .fold(String::new(), |mut acc, l| {
            acc.push_str(l);
            acc.push('\n');
            acc
        });
    before.starts_with(canonical::VERSION_LINE) && now.starts_with(canonical::VERSION_LINE_V2) && v1 == before
}

/// Points at the current definition of a changed item, when it still
/// exists (a removed field points at its message).
fn change_location(compiled: &Compiled, change: &Change) -> Option<Label> {
    let pool: &DescriptorPool = &compiled.pool;
    // `whole` marks a label on the changed element itself; labels on an
    // enclosing message or enum are clipped to its first line.
    let (file, path, what, whole): (FileDescriptor, Vec<i32>, String, bool) = match &change.item {
        Item::Field { message, number, name } => {
            let m = pool.get_message_by_name(message)?;
            match m.get_field(*number) {
                Some(f) => (m.parent_file(), f.path().to_vec(), format!("field `{name}` changed"), true),
                None => (m.parent_file(), m.path().to_vec(), format!("field `{name}` removed from here"), false),
            }
        }
        Item::Message(name) => {
            let m = pool.get_message_by_name(name)?;
            (m.parent_file(), m.path().to_vec(), format!("message `{name}` changed"), false)
        }
        Item::Enum(name) => {
            let e = pool.get_enum_by_name(name)?;
            (e.parent_file(), e.path().to_vec(), format!("enum `{name}` changed"), false)
        }
        Item::Value { enum_name, number, name } => {
            let e = pool.get_enum_by_name(enum_name)?;
            match e.get_value(*number) {
                Some(v) => (e.parent_file(), v.path().to_vec(), format!("value `{name}` changed"), true),
                None => (e.parent_file(), e.path().to_vec(), format!("value `{name}` removed from here"), false),
            }
        }
        Item::Root => return None,
    };
    let (source, mut span) = compiled.span_of(&file, &path)?;
    if !whole {
        let first_line =
            source.text().get(span.clone()).and_then(|t| t.find('\n')).map_or(span.end, |i| span.start + i);
        span.end = first_line;
    }
    Some(Label::new(source, span).with_message(what))
}

