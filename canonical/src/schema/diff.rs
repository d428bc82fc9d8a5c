//! Structural diff between two canonical forms.
//!
//! A bare "hash mismatch" is useless to someone who just edited a `.proto`
//! file; `ampygen check` uses this to name the exact messages, enums, fields
//! and values that moved. It works on the text form alone so a lock file can
//! be compared with a fresh build without the old `.proto` sources.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What happened to an [`Item`] between the old and the new form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Present only in the new form.
    Added,
    /// Present only in the old form.
    Removed,
    /// Present in both, but its canonical line(s) differ.
    Changed,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        })
    }
}

/// The unit a change is reported against, mirroring the blocks and lines of
/// the canonical form so each change points at something a user can find in
/// a `.proto` file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    /// The preamble: version line and `root` line (or anything else found
    /// outside a definition block).
    Root,
    /// A message block as a whole (added/removed) or its header line
    /// (changed, e.g. its file's syntax).
    Message(String),
    /// An enum block as a whole (added/removed) or its header line.
    Enum(String),
    /// One field line, identified by its number because numbers are the
    /// wire identity; `name` is the new name for `Changed`/`Added`, the old
    /// one for `Removed`.
    Field {
        /// Full name of the message declaring the field.
        message: String,
        /// Field number (the key the diff matches fields by).
        number: u32,
        /// Field name (see above for which side it comes from).
        name: String,
    },
    /// One enum value line. Renames of a lone value are `Changed` (with the
    /// new name); aliases are tracked by name.
    Value {
        /// Full name of the enum.
        enum_name: String,
        /// Value number.
        number: i32,
        /// Value name.
        name: String,
    },
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Root => f.write_str("root"),
            Item::Message(name) => write!(f, "message {name}"),
            Item::Enum(name) => write!(f, "enum {name}"),
            Item::Field { message, number, name } => write!(f, "field {message}.{name} (#{number})"),
            Item::Value { enum_name, number, name } => write!(f, "value {enum_name}.{name} (={number})"),
        }
    }
}

/// One difference between two canonical forms.
///
/// `old`/`new` carry the exact canonical line(s) (without the trailing
/// newline, several lines joined by `\n`) so tooling can show or test the
/// precise bytes that moved the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Added, removed or changed, relative to `old` -> `new`.
    pub kind: ChangeKind,
    /// What changed, so callers can group or filter without parsing lines.
    pub item: Item,
    /// The old line(s); `None` for `Added`.
    pub old: Option<String>,
    /// The new line(s); `None` for `Removed`.
    pub new: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole_block = matches!(self.item, Item::Message(_) | Item::Enum(_)) && self.kind != ChangeKind::Changed;
        write!(f, "{} {}", self.item, self.kind)?;
        if whole_block {
            return Ok(());
        }
        let prefix = self.shared_prefix();
        let show = |s: &Option<String>| -> String {
            let s = s.as_deref().unwrap_or("");
            let s = s.trim_start();
            let s = prefix.as_deref().and_then(|p| s.strip_prefix(p)).unwrap_or(s);
            s.replace('\n', " | ")
        };
        match self.kind {
            ChangeKind::Added => write!(f, ": `{}`", show(&self.new)),
            ChangeKind::Removed => write!(f, ": `{}`", show(&self.old)),
            ChangeKind::Changed => write!(f, ": `{}` -> `{}`", show(&self.old), show(&self.new)),
        }
    }
}

impl Change {
    /// For field lines the `field <n> <name> ` prefix repeats the item
    /// label; drop it when it is the same on both sides to keep Display short.
    fn shared_prefix(&self) -> Option<String> {
        let Item::Field { number, name, .. } = &self.item else {
            return None;
        };
        let prefix = format!("field {number} {name} ");
        let ok = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim_start().starts_with(&prefix));
        if ok(&self.old) && ok(&self.new) {
            Some(prefix)
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Message,
    Enum,
}

struct Block<'a> {
    kind: BlockKind,
    /// Header line plus any line of the block that is neither a field nor a
    /// value line (never produced by v1, but must not be silently ignored).
    header: Vec<&'a str>,
    /// All lines, for whole-block added/removed reports.
    lines: Vec<&'a str>,
    fields: BTreeMap<u32, &'a str>,
    /// number -> name -> line
    values: BTreeMap<i32, BTreeMap<&'a str, &'a str>>,
}

struct Parsed<'a> {
    root: Vec<&'a str>,
    blocks: BTreeMap<&'a str, Block<'a>>,
}

fn parse(form: &str) -> Parsed<'_> {
    let mut root = Vec::new();
    let mut blocks: BTreeMap<&str, Block<'_>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    for line in form.lines() {
        let header = line
            .strip_prefix("message ")
            .map(|rest| (BlockKind::Message, rest))
            .or_else(|| line.strip_prefix("enum ").map(|rest| (BlockKind::Enum, rest)));
        if let Some((kind, rest)) = header {
            let name = rest.split(' ').next().unwrap_or(rest);
            if blocks.contains_key(name) {
                // A duplicate block cannot come from canonical_form; keep it
                // visible as a preamble difference rather than merging.
                root.push(line);
                current = None;
                continue;
            }
            blocks.insert(
                name,
                Block { kind, header: vec![line], lines: vec![line], fields: BTreeMap::new(), values: BTreeMap::new() },
            );
            current = Some(name);
            continue;
        }
        let Some(block) = current.and_then(|name| blocks.get_mut(name)) else {
            root.push(line);
            continue;
        };
        block.lines.push(line);
        let parsed = match block.kind {
            BlockKind::Message => match line.strip_prefix("  field ").map(|r| r.split(' ')) {
                Some(mut t) => match (t.next().map(str::parse::<u32>), t.next()) {
                    (Some(Ok(n)), Some(_)) if !block.fields.contains_key(&n) => {
                        block.fields.insert(n, line);
                        true
                    }
                    _ => false,
                },
                None => false,
            },
            BlockKind::Enum => match line.strip_prefix("  value ").map(|r| r.split(' ')) {
                Some(mut t) => match (t.next().map(str::parse::<i32>), t.next()) {
                    (Some(Ok(n)), Some(name)) => {
                        let names = block.values.entry(n).or_default();
                        if names.contains_key(name) {
                            false
                        } else {
                            names.insert(name, line);
                            true
                        }
                    }
                    _ => false,
                },
                None => false,
            },
        };
        if !parsed {
            block.header.push(line);
        }
    }
    Parsed { root, blocks }
}

/// Name token of a `  field <number> <name> ...` line.
fn field_name(line: &str) -> String {
    line.trim_start().split(' ').nth(2).unwrap_or("").to_owned()
}

/// Structural diff between two canonical forms (e.g. a locked one and a
/// fresh one), used by `ampygen check` to say which messages, enums, fields
/// and values differ.
///
/// Output is deterministic: the preamble first, then by definition name,
/// then by field/value number (removed before added for the same number).
/// If the forms differ but nothing structural does (e.g. a hand-edited lock
/// file with reordered blocks), a single `Root` change carrying both full
/// texts is returned, so a differing hash never comes with an empty diff.
pub fn diff(old: &str, new: &str) -> Vec<Change> {
    let a = parse(old);
    let b = parse(new);
    let mut out = Vec::new();

    if a.root != b.root {
        out.push(Change {
            kind: ChangeKind::Changed,
            item: Item::Root,
            old: Some(a.root.join("\n")),
            new: Some(b.root.join("\n")),
        });
    }

    let names: BTreeSet<&str> = a.blocks.keys().chain(b.blocks.keys()).copied().collect();
    for name in names {
        match (a.blocks.get(name), b.blocks.get(name)) {
            (Some(x), Some(y)) if x.kind == y.kind => diff_block(name, x, y, &mut out),
            (x, y) => {
                if let Some(x) = x {
                    out.push(whole(ChangeKind::Removed, name, x));
                }
                if let Some(y) = y {
                    out.push(whole(ChangeKind::Added, name, y));
                }
            }
        }
    }

    if out.is_empty() && old != new {
        out.push(Change {
            kind: ChangeKind::Changed,
            item: Item::Root,
            old: Some(old.to_owned()),
            new: Some(new.to_owned()),
        });
    }
    out
}

fn def_item(kind: BlockKind, name: &str) -> Item {
    match kind {
        BlockKind::Message => Item::Message(name.to_owned()),
        BlockKind::Enum => Item::Enum(name.to_owned()),
    }
}

fn whole(kind: ChangeKind, name: &str, block: &Block<'_>) -> Change {
    let text = Some(block.lines.join("\n"));
    let (old, new) = match kind {
        ChangeKind::Removed => (text, None),
        _ => (None, text),
    };
    Change { kind, item: def_item(block.kind, name), old, new }
}

fn diff_block(name: &str, a: &Block<'_>, b: &Block<'_>, out: &mut Vec<Change>) {
    if a.header != b.header {
        out.push(Change {
            kind: ChangeKind::Changed,
            item: def_item(a.kind, name),
            old: Some(a.header.join("\n")),
            new: Some(b.header.join("\n")),
        });
    }

    let numbers: BTreeSet<u32> = a.fields.keys().chain(b.fields.keys()).copied().collect();
    for number in numbers {
        let (x, y) = (a.fields.get(&number).copied(), b.fields.get(&number).copied());
        let (kind, line) = match (x, y) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(y)) => (ChangeKind::Changed, y),
            (Some(x), None) => (ChangeKind::Removed, x),
            (None, Some(y)) => (ChangeKind::Added, y),
            (None, None) => continue,
        };
        out.push(Change {
            kind,
            item: Item::Field { message: name.to_owned(), number, name: field_name(line) },
            old: x.map(str::to_owned),
            new: y.map(str::to_owned),
        });
    }

    let empty = BTreeMap::new();
    let numbers: BTreeSet<i32> = a.values.keys().chain(b.values.keys()).copied().collect();
    for number in numbers {
        let x = a.values.get(&number).unwrap_or(&empty);
        let y = b.values.get(&number).unwrap_or(&empty);
        let value = |kind, value_name: &str, old: Option<&str>, new: Option<&str>| Change {
            kind,
            item: Item::Value { enum_name: name.to_owned(), number, name: value_name.to_owned() },
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
        };
        if let ([(xn, xl)], [(yn, yl)]) =
            (x.iter().collect::<Vec<_>>().as_slice(), y.iter().collect::<Vec<_>>().as_slice())
        {
            if xn != yn {
                out.push(value(ChangeKind::Changed, yn, Some(xl), Some(yl)));
            }
            continue;
        }
        for (n, l) in x.iter().filter(|(n, _)| !y.contains_key(*n)) {
            out.push(value(ChangeKind::Removed, n, Some(l), None));
        }
        // A v2 form marks aliases: the same name, now or no longer `alias`.
        for (n, l) in x.iter() {
            if let Some(m) = y.get(n).filter(|m| *m != l) {
                out.push(value(ChangeKind::Changed, n, Some(l), Some(m)));
            }
        }
        for (n, l) in y.iter().filter(|(n, _)| !x.contains_key(*n)) {
            out.push(value(ChangeKind::Added, n, None, Some(l)));
        }
    }
}
