//! Telling an edit to declarations that no other file can see.
//!
//! The check cache replays a passing run when a file's edit leaves its
//! declarations unchanged ([`crate::protos::fingerprint`]). This module
//! lets it also replay an edit that adds, changes or removes top-level
//! messages (or adds enums) that nothing else names, when it can prove
//! the full run would print the same thing:
//!
//! - the file's frame (package, imports, options, services, extensions)
//!   is unchanged, and so is every other top-level declaration, in the
//!   same order ([`Outline`]: one digest per declaration);
//! - no other file, no old part of this one, and neither the registry
//!   nor the lock spells any name a touched or removed declaration holds
//!   in package scope, so no reference, payload, key or lock entry
//!   reaches them, and no existing reference can start resolving to them;
//! - none of the names an added declaration brings is declared already;
//! - the touched declarations carry no options and no extensions (whose
//!   names resolve through scopes this check does not model);
//! - each type they name resolves, at every package scope, against
//!   exactly the symbols it would see in the whole tree;
//! - the file compiles with only its imports (which the whole tree would
//!   compile identically, by the points above), and passes the one rule
//!   `check` applies to each declaration of every file (Python's keyword
//!   refusal).
//!
//! A changed or removed enum is never proven: the outline does not keep
//! its old values' names, which other files may use. Anything else that
//! is not proven runs the check in full. The proof is conservative: names
//! are compared case-insensitively and without underscores, and a
//! mention in a string counts, so an edit is sometimes checked in full
//! when it did not need to be, never replayed when it should not be.

use std::collections::{BTreeSet, HashMap, HashSet};

use prost_reflect::prost::Message as _;
use prost_reflect::prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, MessageOptions};
use prost_reflect::{DescriptorPool, FileDescriptor};
use protox::file::{File, FileResolver, GoogleFileResolver};

use crate::limits;

/// A digest of what a file declares, split into its frame and one digest
/// per top-level message and enum, in declaration order. Two files with
/// equal frames whose declarations differ only where nothing else looks
/// are the subject of [`prove`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outline {
    /// Digest of everything but the top-level messages and enums.
    pub frame: String,
    /// Each top-level message, then each enum.
    pub decls: Vec<Decl>,
}

/// One top-level declaration of an [`Outline`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    /// `m` (message) or `e` (enum) and 32 hex digits of the digest of
    /// the whole declaration, its name included.
    pub digest: String,
    /// Its name, without the package.
    pub name: String,
}

impl Outline {
    /// The file's fingerprint: equal fingerprints, equal declarations.
    pub fn fingerprint(&self) -> String {
        let mut text = String::with_capacity(64 + 34 * self.decls.len());
        text.push_str(&self.frame);
        for d in &self.decls {
            text.push('\n');
            text.push_str(&d.digest);
        }
        crate::commit::sha256(text.as_bytes())
    }
}

/// The [`Outline`] of a parsed (unresolved) file, source info left out.
pub fn outline(file: &FileDescriptorProto) -> Outline {
    // Destructured without `..`: a field prost-types adds is a compile
    // error here, never silently left out of the digest.
    let FileDescriptorProto {
        name,
        package,
        dependency,
        public_dependency,
        weak_dependency,
        message_type,
        enum_type,
        service,
        extension,
        options,
        source_code_info: _,
        syntax,
    } = file;
    fn text(buf: &mut Vec<u8>, tag: u8, value: &str) {
        buf.push(tag);
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
        buf.extend_from_slice(value.as_bytes());
    }
    fn message<M: prost_reflect::prost::Message>(buf: &mut Vec<u8>, tag: u8, m: &M) {
        buf.push(tag);
        // Writing to a Vec cannot fail.
        let _ = m.encode_length_delimited(buf);
    }
    let mut buf = Vec::with_capacity(1024);
    text(&mut buf, 1, name.as_deref().unwrap_or("\0"));
    text(&mut buf, 2, package.as_deref().unwrap_or("\0"));
    text(&mut buf, 12, syntax.as_deref().unwrap_or("\0"));
    text(&mut buf, 14, &format!("{public_dependency:?}|{weak_dependency:?}"));
    for d in dependency {
        text(&mut buf, 3, d);
    }
    service.iter().for_each(|s| message(&mut buf, 6, s));
    extension.iter().for_each(|x| message(&mut buf, 7, x));
    if let Some(o) = options {
        message(&mut buf, 8, o);
    }
    let frame = crate::commit::sha256(&buf);
    let mut decls = Vec::with_capacity(message_type.len() + enum_type.len());
    let mut digest = |kind: char, bytes: &[u8], name: &str| {
        let mut d = String::with_capacity(33);
        d.push(kind);
        d.push_str(&crate::commit::sha256(bytes)[..32]);
        decls.push(Decl { digest: d, name: name.to_owned() });
    };
    for m in message_type {
        digest('m', &m.encode_to_vec(), m.name());
    }
    for e in enum_type {
        digest('e', &e.encode_to_vec(), e.name());
    }
    Outline { frame, decls }
}

/// Every name a reference can reach at package scope in `files`: each
/// package and its prefixes, and each file's top-level messages, enums,
/// enum values (which protobuf scopes beside their enum), services and
/// extensions, as full names without the leading dot, handed to `each`
/// (a package prefix once per file that has it).
pub fn package_scope_names(files: impl Iterator<Item = FileDescriptor>, each: &mut dyn FnMut(&str)) {
    let mut full = String::new();
    for f in files {
        let package = f.package_name();
        for (i, _) in package.match_indices('.') {
            each(&package[..i]);
        }
        if !package.is_empty() {
            each(package);
        }
        f.messages().for_each(|m| each(m.full_name()));
        for e in f.enums() {
            each(e.full_name());
            for v in e.values() {
                full.clear();
                if !package.is_empty() {
                    full.push_str(package);
                    full.push('.');
                }
                full.push_str(v.name());
                each(&full);
            }
        }
        f.services().for_each(|s| each(s.full_name()));
        f.extensions().for_each(|x| each(x.full_name()));
    }
}

/// `name` as [`mentions`] compares it: ASCII lower case, no underscores.
pub fn normalize(name: &str) -> String {
    name.bytes().filter(|b| *b != b'_').map(|b| char::from(b.to_ascii_lowercase())).collect()
}

/// Whether an identifier of `text` outside comments (inside strings too)
/// equals one of `names` ([`normalize`]d) once normalized.
pub fn mentions(text: &str, names: &[String]) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let (mut i, n) = (0, bytes.len());
    while i < n {
        let b = bytes[i];
        if b == b'/' && i + 1 < n && bytes[i + 1] == b'/' {
            while i < n && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && i + 1 < n && bytes[i + 1] == b'*' {
            i += 2;
            while i < n && !(bytes[i] == b'*' && i + 1 < n && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if ident(b) {
            let start = i;
            while i < n && ident(bytes[i]) {
                i += 1;
            }
            let token = &bytes[start..i];
            if names.iter().any(|name| same_normalized(token, name.as_bytes())) {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// `token` normalized equals `name` (already normalized).
fn same_normalized(token: &[u8], name: &[u8]) -> bool {
    let mut rest = name.iter();
    for b in token.iter().filter(|b| **b != b'_') {
        if rest.next() != Some(&b.to_ascii_lowercase()) {
            return false;
        }
    }
    rest.next().is_none()
}

/// A proto file's text parsed on its own, with its [`Outline`].
pub struct Parsed {
    /// The import name.
    pub name: String,
    pub text: String,
    file: File,
    pub outline: Outline,
}

/// Parses proto file `name` with content `bytes` alone, after the checks
/// compilation makes before parsing (UTF-8, nesting limit); `None` when
/// any of them, or parsing, fails. Its outline's fingerprint is the
/// file's [`crate::protos::fingerprint`].
pub fn parse(name: &str, bytes: Vec<u8>) -> Option<Parsed> {
    let text = String::from_utf8(bytes).ok()?;
    if limits::too_deep(&text, limits::MAX_NESTING).is_some() {
        return None;
    }
    let file = File::from_source(name, &text).ok()?;
    let outline = outline(file.file_descriptor_proto());
    Some(Parsed { name: name.to_owned(), text, file, outline })
}

/// What the last passing run knew about the tree, besides the files.
pub struct Before<'a> {
    /// The edited file's outline then.
    pub outline: &'a Outline,
    /// [`package_scope_names`] of the whole tree then.
    pub scope: &'a BTreeSet<String>,
}

/// What [`prove`] found: the edit touches only what nothing else sees.
#[derive(Debug)]
pub struct Proven {
    /// The file's outline now.
    pub outline: Outline,
    /// The package-scope names the added or changed declarations hold.
    pub added: Vec<String>,
}

/// Proves that a file, now `parsed`, differs from what `before`
/// records only in top-level declarations that nothing else names, so
/// that a full check's result is unchanged (see the module docs).
/// `others` holds every other proto file of the tree by import name, with
/// the text the last run read; `also` the other texts it read (the
/// registry, the lock file); `bundled` names the well-known types it took
/// from protox's copies.
pub fn prove(
    parsed: &Parsed,
    before: &Before<'_>,
    others: HashMap<String, String>,
    also: &[&str],
    bundled: &[String],
) -> Option<Proven> {
    let (name, text, now) = (parsed.name.as_str(), parsed.text.as_str(), &parsed.outline);
    let proto = parsed.file.file_descriptor_proto();
    if now.frame != before.outline.frame {
        return None;
    }
    let Diff { touched, removed } = diff(&before.outline.decls, &now.decls)?;
    let package = proto.package();
    let full = |n: &str| if package.is_empty() { n.to_owned() } else { format!("{package}.{n}") };
    let messages = proto.message_type.len();
    // Names the touched declarations hold now (new ones must be free) and
    // every name to be unmentioned elsewhere.
    let (mut held, mut refs, mut spans) = (Vec::new(), Vec::new(), Vec::new());
    for &i in &touched {
        if i < messages {
            let m = &proto.message_type[i];
            held.push(m.name().to_owned());
            walk_message(m, &mut refs)?;
            spans.push(vec![4, i as i32]);
        } else {
            let e = &proto.enum_type[i - messages];
            held.push(e.name().to_owned());
            held.extend(e.value.iter().map(|v| v.name().to_owned()));
            plain_enum(e)?;
            spans.push(vec![5, (i - messages) as i32]);
        }
    }
    let declared_before: HashSet<&str> = before.outline.decls.iter().map(|d| d.name.as_str()).collect();
    let added: Vec<String> = held.iter().map(|n| full(n)).collect();
    let fresh = held.iter().zip(&added).filter(|(n, _)| !declared_before.contains(n.as_str()));
    if held.iter().any(|n| n.is_empty()) || fresh.into_iter().any(|(_, f)| before.scope.contains(f)) {
        return None;
    }
    let mut names: Vec<String> = held.iter().chain(&removed).map(|n| normalize(n)).collect();
    names.sort();
    names.dedup();
    let rest = without_spans(text, proto, &spans)?;
    if mentions(&rest, &names)
        || others.values().any(|t| mentions(t, &names))
        || also.iter().any(|t| mentions(t, &names))
    {
        return None;
    }
    let google = GoogleFileResolver::new();
    for b in bundled {
        if mentions(google.open_file(b).ok()?.source()?, &names) {
            return None;
        }
    }
    // The file with only its imports: every reference of the touched
    // declarations must see, at each package scope, what the whole tree
    // holds there.
    let overlay = Overlay { name: name.to_owned(), text: text.to_owned(), others, google };
    let mut compiler = protox::Compiler::with_file_resolver(overlay);
    compiler.include_imports(true);
    compiler.open_file(name).ok()?;
    let pool: DescriptorPool = compiler.descriptor_pool();
    let mut mini = BTreeSet::new();
    package_scope_names(pool.files(), &mut |n| {
        mini.insert(n.to_owned());
    });
    let added_set: HashSet<&str> = added.iter().map(String::as_str).collect();
    for written in &refs {
        if !resolves_alike(written, package, &mini, before.scope, &added_set) {
            return None;
        }
    }
    #[cfg(feature = "python")]
    if !crate::python::stub::keyword_names(&pool.get_file_by_name(name)?).is_empty() {
        return None;
    }
    Some(Proven { outline: now.clone(), added })
}

/// How a file's declarations changed.
#[derive(Debug, PartialEq, Eq)]
struct Diff {
    /// Indices in the new outline of the declarations added or changed.
    touched: Vec<usize>,
    /// Names of the messages no longer declared.
    removed: Vec<String>,
}

/// The declarations of `new` not in `old` (by digest), and the messages of
/// `old` gone from `new`; `None` when nothing changed, when a name is
/// declared twice, or when an enum changed or went away (its old values'
/// names, which other files may have used, are not recorded).
fn diff(old: &[Decl], new: &[Decl]) -> Option<Diff> {
    let digests: HashSet<&str> = new.iter().map(|d| d.digest.as_str()).collect();
    let names: HashSet<&str> = new.iter().map(|d| d.name.as_str()).collect();
    if names.len() != new.len() {
        return None;
    }
    let kept: HashSet<&str> = old.iter().map(|d| d.digest.as_str()).collect();
    // What stays keeps its order (descriptor order is not observable in a
    // passing check, but nothing is taken for granted).
    let stays = |list: &[Decl], other: &HashSet<&str>| -> Vec<String> {
        list.iter().filter(|d| other.contains(d.digest.as_str())).map(|d| d.digest.clone()).collect()
    };
    if stays(old, &digests) != stays(new, &kept) {
        return None;
    }
    let touched: Vec<usize> = (0..new.len()).filter(|i| !kept.contains(new[*i].digest.as_str())).collect();
    let mut removed = Vec::new();
    for d in old.iter().filter(|d| !digests.contains(d.digest.as_str())) {
        if d.digest.starts_with('e') {
            return None;
        }
        if !names.contains(d.name.as_str()) {
            removed.push(d.name.clone());
        }
    }
    (!touched.is_empty() || !removed.is_empty()).then_some(Diff { touched, removed })
}

/// Collects the types the fields of `m` name, and
/// refuses what the proof does not model: options (except a map entry's
/// marker) and extensions.
fn walk_message(m: &DescriptorProto, refs: &mut Vec<String>) -> Option<()> {
    let map_entry = MessageOptions { map_entry: Some(true), ..Default::default() };
    if m.options.as_ref().is_some_and(|o| *o != map_entry) || !m.extension.is_empty() {
        return None;
    }
    if m.oneof_decl.iter().any(|o| o.options.is_some()) || m.extension_range.iter().any(|r| r.options.is_some()) {
        return None;
    }
    for f in &m.field {
        if f.options.is_some() || f.extendee.is_some() {
            return None;
        }
        if let Some(t) = &f.type_name {
            refs.push(t.clone());
        }
    }
    for e in &m.enum_type {
        plain_enum(e)?;
    }
    for n in &m.nested_type {
        walk_message(n, refs)?;
    }
    Some(())
}

fn plain_enum(e: &EnumDescriptorProto) -> Option<()> {
    (e.options.is_none() && e.value.iter().all(|v| v.options.is_none())).then_some(())
}

/// Whether `written`, named inside a touched declaration, meets the same
/// symbols at every package scope in the file's import closure (`mini`)
/// as in the whole tree (`whole` plus the touched declarations' names
/// `added`). Scopes inside the touched declarations hold nothing from
/// other files (no other file names them), so only package scopes can
/// differ. A fully qualified name finds the one symbol of that name,
/// which the closure holds if it compiled.
fn resolves_alike(
    written: &str,
    package: &str,
    mini: &BTreeSet<String>,
    whole: &BTreeSet<String>,
    added: &HashSet<&str>,
) -> bool {
    if written.starts_with('.') {
        return true;
    }
    let first = written.split('.').next().unwrap_or_default();
    let mut prefix = Some(package);
    while let Some(p) = prefix {
        let candidate = if p.is_empty() { first.to_owned() } else { format!("{p}.{first}") };
        let in_mini = mini.contains(&candidate);
        let in_whole = whole.contains(&candidate) || added.contains(candidate.as_str());
        if in_mini != in_whole {
            return false;
        }
        if in_mini {
            return true;
        }
        prefix = if p.is_empty() { None } else { Some(p.rsplit_once('.').map_or("", |(head, _)| head)) };
    }
    true
}

/// `text` with the declarations at `paths` (source-info paths) blanked
/// out, so that what remains is the file as it was.
fn without_spans(text: &str, proto: &FileDescriptorProto, paths: &[Vec<i32>]) -> Option<String> {
    let info = proto.source_code_info.as_ref()?;
    let lines: Vec<usize> =
        std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    // protox's columns count bytes from the start of the line.
    let offset = |line: i32, col: i32| -> Option<usize> {
        let at = lines.get(usize::try_from(line).ok()?)? + usize::try_from(col).ok()?;
        text.is_char_boundary(at).then_some(at)
    };
    let mut out = text.to_owned().into_bytes();
    for path in paths {
        let loc = info.location.iter().find(|l| l.path == *path)?;
        let (start, end) = match loc.span[..] {
            [l, c, ec] => (offset(l, c)?, offset(l, ec)?),
            [l, c, el, ec] => (offset(l, c)?, offset(el, ec)?),
            _ => return None,
        };
        for b in out.get_mut(start..end)? {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The edited file from its new text, every other file as the last run
/// read it, the well-known types from protox's bundled copies.
struct Overlay {
    name: String,
    text: String,
    others: HashMap<String, String>,
    google: GoogleFileResolver,
}

impl FileResolver for Overlay {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == self.name {
            return File::from_source(name, &self.text);
        }
        match self.others.get(name) {
            Some(text) => File::from_source(name, text),
            None => self.google.open_file(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_skips_comments_and_compares_without_case_or_underscores() {
        let names = [normalize("Zz_Fresh")];
        assert!(mentions("message A { zzfresh b = 1; }", &names));
        assert!(mentions("option go_package = \"x/ZZ_FRESH\";", &names), "strings count");
        assert!(!mentions("// ZzFresh\n/* zz_fresh */ message A {}", &names), "comments do not");
        assert!(!mentions("message ZzFreshly {}", &names), "whole identifiers only");
        assert!(!mentions("/* unclosed ZzFresh", &names));
    }

    #[test]
    fn a_diff_names_what_was_added_changed_or_removed() {
        let d = |digest: &str, name: &str| Decl { digest: digest.to_owned(), name: name.to_owned() };
        let old = [d("m1", "A"), d("m2", "B"), d("e3", "E")];
        // B changed, C added, nothing removed.
        let new = [d("m1", "A"), d("m9", "B"), d("e3", "E"), d("m4", "C")];
        assert_eq!(diff(&old, &new), Some(Diff { touched: vec![1, 3], removed: vec![] }));
        // A removed.
        let new = [d("m2", "B"), d("e3", "E")];
        assert_eq!(diff(&old, &new), Some(Diff { touched: vec![], removed: vec!["A".into()] }));
        assert_eq!(diff(&old, &[d("m2", "B"), d("m1", "A"), d("e3", "E"), d("m4", "C")]), None, "reordered");
        assert_eq!(diff(&old, &old), None, "nothing changed");
        assert_eq!(diff(&old, &[d("m1", "A"), d("m2", "B"), d("e8", "E")]), None, "an enum changed");
        assert_eq!(diff(&old, &[d("m1", "A"), d("m2", "B")]), None, "an enum removed");
        assert_eq!(diff(&old, &[d("m1", "A"), d("m2", "B"), d("e3", "E"), d("m7", "A")]), None, "A twice");
    }

    #[test]
    fn a_name_resolves_alike_only_where_both_trees_agree_at_every_package_scope() {
        let mini: BTreeSet<String> = ["a", "a.b", "a.common"].iter().map(|s| s.to_string()).collect();
        let whole: BTreeSet<String> = ["a", "a.b", "a.common", "a.b.common"].iter().map(|s| s.to_string()).collect();
        let none = HashSet::new();
        // `common` is the package `a.common` to the file alone, and a
        // symbol `a.b.common` of another file in the whole tree.
        assert!(!resolves_alike("common.X", "a.b", &mini, &whole, &none));
        assert!(resolves_alike(".a.common.X", "a.b", &mini, &whole, &none), "fully qualified");
        assert!(resolves_alike("Other", "a.b", &mini, &whole, &none), "found at no scope in either");
        let added: HashSet<&str> = ["a.b.New"].into_iter().collect();
        let mut mini_new = mini.clone();
        mini_new.insert("a.b.New".into());
        assert!(resolves_alike("New", "a.b", &mini_new, &whole, &added), "a new declaration of the file");
    }
}
