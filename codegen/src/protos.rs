//! Compiling the registry's protos with protox (no protoc anywhere).
//!
//! The resolver reads every file itself: it checks that the file is UTF-8,
//! inside the include boundary, and within the nesting limits
//! ([`crate::limits`]) before protox parses it, and records it, which
//! gives diagnostics their source text and gives build scripts an exact
//! `rerun-if-changed` list.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use prost_reflect::prost_types::source_code_info::Location;
use prost_reflect::prost_types::{FileDescriptorProto, SourceCodeInfo};
use prost_reflect::{DescriptorPool, FileDescriptor};
use protox::file::{File, FileResolver, GoogleFileResolver};

use crate::diag::{Diagnostic, Diagnostics, Label, Source};
use crate::limits;
use crate::registry::{Registry, Spanned};

pub mod edits;
mod glob;
mod locations;
pub use edits::Outline;
pub use glob::{is_pattern, Pattern};

/// A proto file that was read during compilation.
#[derive(Clone, Debug)]
pub struct ProtoFile {
    pub source: Arc<Source>,
    /// Path on disk as the user would type it; `None` for the well-known
    /// types bundled with protox.
    pub path: Option<PathBuf>,
    /// [`Outline`] of the file as parsed (before names resolve), whose
    /// [`Outline::fingerprint`] is the file's [`fingerprint`]; `None` for
    /// the well-known types and for files read another way.
    pub outline: Option<Outline>,
    /// The file's source info (positions and comments), kept here rather
    /// than in the descriptor pool: building the pool with it costs about
    /// a tenth of a check's CPU and a third of its memory, and only
    /// diagnostics, stub docstrings and the plugins (prost-build,
    /// protoc-gen-go) read it.
    pub source_info: Detached,
}

/// Where a file's source info is, besides the locations of options that
/// the pool keeps (see [`DetachedInfo`]).
#[derive(Clone, Debug, Default)]
pub enum Detached {
    /// The pool holds it all: a compilation that failed and was repeated
    /// with it, the well-known types, files read another way.
    #[default]
    InPool,
    /// Kept beside the pool ([`SourceInfo::Kept`]).
    Kept(DetachedInfo),
    /// Left out, and parsed again from the file's text the first time a
    /// position is asked for ([`SourceInfo::OnDemand`]).
    OnDemand(OnceLock<Option<DetachedInfo>>),
}

/// What a compilation keeps of each file's source info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceInfo {
    /// Every file's, beside the pool: generating code reads every file's
    /// comments (docstrings, the plugins).
    Kept,
    /// None but the options' (in the pool); a file's is parsed again from
    /// its text when a diagnostic first asks for a position. For the
    /// commands that only check: about 8% of `check`'s CPU and 14% of its
    /// memory at 1,000 files (benches/scale).
    OnDemand,
}

/// The part of a file's source info kept out of the pool: every location
/// but those of options, which stay in the pool because it rewrites their
/// paths (`uninterpreted_option` → the option's field) as it resolves
/// them.
#[derive(Clone, Debug)]
pub struct DetachedInfo {
    pub locations: locations::Locations,
    /// Where the pool's locations (in their order) sat among all of them,
    /// to hand plugins the list in protox's order.
    pub kept_at: Vec<usize>,
}

/// `uninterpreted_option`'s field number in every `*Options` message.
const UNINTERPRETED_OPTION: i32 = 999;

/// A file's locations in protox's order, split into those the pool keeps
/// (options') and the rest.
fn split(locations: Vec<Location>) -> (Vec<Location>, DetachedInfo) {
    // Nearly every location is detached; only options' are kept.
    let mut detached =
        DetachedInfo { locations: locations::Locations::with_capacity(locations.len()), kept_at: Vec::new() };
    let mut kept = Vec::new();
    for (i, location) in locations.into_iter().enumerate() {
        if location.path.contains(&UNINTERPRETED_OPTION) {
            detached.kept_at.push(i);
            kept.push(location);
        } else {
            detached.locations.push(location);
        }
    }
    (kept, detached)
}

/// The detached source info of a file that compiled before, parsed again
/// from the same text: the parse is deterministic, so it is what
/// [`SourceInfo::Kept`] would have kept.
fn reparse(import_name: &str, text: &str) -> Option<DetachedInfo> {
    let file = File::from_source(import_name, text).ok()?;
    let info = FileDescriptorProto::from(file).source_code_info?;
    Some(split(info.location).1)
}

/// The compiled descriptors plus every file that went into them.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub pool: DescriptorPool,
    /// By import name (`ampy/bars/v1/bars.proto`), in name order.
    pub files: BTreeMap<String, ProtoFile>,
    /// The include roots a `protos.files` pattern was matched against
    /// (empty without patterns): a file added under them can change what
    /// the registry lists, so build scripts watch them too.
    pub watched: Vec<PathBuf>,
}

impl Compiled {
    pub fn source(&self, import_name: &str) -> Option<&Arc<Source>> {
        self.files.get(import_name).map(|f| &f.source)
    }

    /// The source info of `import_name` that is not in the pool.
    fn detached(&self, import_name: &str) -> Option<&DetachedInfo> {
        let file = self.files.get(import_name)?;
        match &file.source_info {
            Detached::InPool => None,
            Detached::Kept(info) => Some(info),
            Detached::OnDemand(cell) => cell.get_or_init(|| reparse(import_name, file.source.text())).as_ref(),
        }
    }

    /// The whole source info of `file`, in protox's order, wherever its
    /// parts are kept.
    pub fn source_info(&self, file: &FileDescriptor) -> Option<SourceCodeInfo> {
        let pooled = file.file_descriptor_proto().source_code_info.as_ref();
        let Some(detached) = self.detached(file.name()) else {
            return pooled.cloned();
        };
        let mut kept = pooled.map(|i| i.location.iter()).into_iter().flatten();
        let mut rest = detached.locations.iter();
        let total = detached.locations.len() + detached.kept_at.len();
        let mut slots = detached.kept_at.iter().peekable();
        let mut location = Vec::with_capacity(total);
        for i in 0..total {
            let next = if slots.next_if(|&&k| k == i).is_some() { kept.next().cloned() } else { rest.next() };
            location.extend(next);
        }
        Some(SourceCodeInfo { location })
    }

    /// `file`'s descriptor with its whole source info, as protoc would
    /// hand it to a plugin.
    pub fn file_descriptor_proto(&self, file: &FileDescriptor) -> FileDescriptorProto {
        let mut proto = file.file_descriptor_proto().clone();
        proto.source_code_info = self.source_info(file);
        proto
    }

    /// The source of `file` and the byte span of the element at
    /// descriptor `path` in it.
    pub fn span_of(&self, file: &FileDescriptor, path: &[i32]) -> Option<(&Arc<Source>, std::ops::Range<usize>)> {
        let source = self.source(file.name())?;
        // Option paths are only in the pool and the rest only here, so
        // the two never hold the same path.
        let pooled = file.file_descriptor_proto().source_code_info.as_ref().map(|i| &i.location[..]);
        let found = match pooled.into_iter().flatten().find(|l| l.path == path) {
            Some(l) => l.clone(),
            None => self.detached(file.name())?.locations.find(path)?,
        };
        Some((source, span_in(source, &found)?))
    }
}

type Seen = Rc<RefCell<BTreeMap<String, ProtoFile>>>;

/// An include root, ready to search.
#[derive(Clone)]
struct Root {
    /// As the user would type it (relative to the working directory).
    path: PathBuf,
    /// Files under it may resolve outside the include boundary (the
    /// registry's `outside: true` opt-in).
    outside: bool,
}

/// Reads proto files from the include roots (the well-known types from
/// protox), checks each before protox parses it, and records it.
struct Recording {
    roots: Vec<Root>,
    google: GoogleFileResolver,
    /// Canonical include boundary ([`boundary`]); `None` when it cannot be
    /// resolved, which leaves only the per-root checks.
    boundary: Option<PathBuf>,
    seen: Seen,
    /// Our own findings about a file (not UTF-8, nested too deep, import
    /// chain too long, outside the boundary): the protox error that stops
    /// compilation is then replaced by these.
    problems: Rc<RefCell<Vec<Diagnostic>>>,
    /// The files on the current depth-first import path with the imports
    /// each declares, to know how deep an import chain is.
    path: RefCell<Vec<(String, Vec<String>)>>,
    /// Hand protox each file without its source info (kept in
    /// [`ProtoFile::source_info`]); off when a failed compilation is
    /// repeated, so that protox's errors can point into the source.
    detach_source_info: Option<SourceInfo>,
}

impl FileResolver for Recording {
    fn resolve_path(&self, _path: &Path) -> Option<String> {
        // Files are opened by import name only.
        None
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let depth = self.enter(name);
        let Some((root, path)) = self.find(name) else {
            let file = self.google.open_file(name)?;
            if let Some(text) = file.source() {
                self.record(name, Source::new(name, text.to_owned()), None, None, Detached::InPool);
            }
            return Ok(file);
        };
        let display = normalize(&path).display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            self.stop(
                Diagnostic::error("io::read", format!("cannot read `{display}`: {e}"))
                    .help("check the file's permissions"),
            )
        })?;
        if !root.outside {
            if let (Some(boundary), Ok(real)) = (&self.boundary, std::fs::canonicalize(&path)) {
                if !real.starts_with(boundary) {
                    return Err(self.stop(outside_file(&display, &real, boundary)));
                }
            }
        }
        let source = crate::project::utf8_source(display, bytes, "proto file").map_err(|d| self.stop(d))?;
        if depth > limits::MAX_IMPORT_DEPTH {
            return Err(self.stop(self.import_too_deep(name)));
        }
        if let Some(at) = limits::too_deep(source.text(), limits::MAX_NESTING) {
            return Err(self.stop(
                Diagnostic::error(
                    "proto::too_deep",
                    format!("brackets nest more than {} levels deep here", limits::MAX_NESTING),
                )
                .at(&source, at..at + 1)
                .label(format!("level {}", limits::MAX_NESTING + 1))
                .help(format!(
                    "ampygen accepts at most {} nested brackets (messages, option values, lists) in a proto file, so that no input can exhaust the compiler's stack; flatten the option value or the nesting",
                    limits::MAX_NESTING
                )),
            ));
        }
        let parsed = File::from_source(name, source.text());
        let outline = parsed.as_ref().ok().map(|f| edits::outline(f.file_descriptor_proto()));
        let mut file = match parsed {
            Ok(file) => file,
            Err(e) => {
                self.record(name, source, Some(path), outline, Detached::InPool);
                return Err(e);
            }
        };
        let mut source_info = Detached::InPool;
        if let Some(keep) = self.detach_source_info {
            let mut proto = FileDescriptorProto::from(file);
            if let Some(info) = proto.source_code_info.as_mut() {
                let (kept, detached) = split(std::mem::take(&mut info.location));
                info.location = kept;
                source_info = match keep {
                    SourceInfo::Kept => Detached::Kept(detached),
                    SourceInfo::OnDemand => Detached::OnDemand(OnceLock::new()),
                };
            }
            file = File::from_file_descriptor_proto(proto);
        }
        self.record(name, source, Some(path), outline, source_info);
        if let Some(top) = self.path.borrow_mut().last_mut() {
            top.1 = file.file_descriptor_proto().dependency.clone();
        }
        Ok(file)
    }
}

impl Recording {
    /// The first root holding `name`, as `-I` searches. Names with `..`
    /// or a root prefix never resolve: imports stay inside their roots.
    fn find(&self, name: &str) -> Option<(&Root, PathBuf)> {
        if !Path::new(name).components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        self.roots.iter().map(|r| (r, r.path.join(name))).find(|(_, p)| p.is_file())
    }

    fn record(
        &self,
        name: &str,
        source: Arc<Source>,
        path: Option<PathBuf>,
        outline: Option<Outline>,
        source_info: Detached,
    ) {
        self.seen.borrow_mut().insert(name.to_owned(), ProtoFile { source, path, outline, source_info });
    }

    fn stop(&self, d: Diagnostic) -> protox::Error {
        let message = d.message.clone();
        self.problems.borrow_mut().push(d);
        protox::Error::new(std::io::Error::other(message))
    }

    /// Tracks protox's depth-first walk: the file that imports `name` is
    /// the nearest one on the current path that declares it. Returns the
    /// chain's length including `name`.
    fn enter(&self, name: &str) -> usize {
        let mut path = self.path.borrow_mut();
        while path.last().is_some_and(|(_, deps)| !deps.iter().any(|d| d == name)) {
            path.pop();
        }
        path.push((name.to_owned(), Vec::new()));
        path.len()
    }

    /// Points at the `import` of the file one level too deep.
    fn import_too_deep(&self, name: &str) -> Diagnostic {
        let chain: Vec<String> = self.path.borrow().iter().map(|(n, _)| n.clone()).collect();
        let mut d = Diagnostic::error(
            "proto::imports_too_deep",
            format!("import chain longer than {} files: `{name}`", limits::MAX_IMPORT_DEPTH),
        );
        let parent =
            chain.len().checked_sub(2).and_then(|i| self.seen.borrow().get(&chain[i]).map(|f| Arc::clone(&f.source)));
        if let Some(parent) = parent {
            let needle = format!("\"{name}\"");
            if let Some(at) = parent.text().find(&needle) {
                d = d.at(&parent, at..at + needle.len()).label("one import too many");
            }
        }
        d.note(format!("chain: {} …", chain.iter().take(3).cloned().collect::<Vec<_>>().join(" → ")))
            .help(format!(
                "ampygen follows imports at most {} files deep, so that no input can exhaust the compiler's stack; import the files you need directly",
                limits::MAX_IMPORT_DEPTH
            ))
    }
}

fn outside_file(display: &str, real: &Path, boundary: &Path) -> Diagnostic {
    Diagnostic::error(
        "proto::outside",
        format!("`{display}` resolves to `{}`, outside `{}`", real.display(), boundary.display()),
    )
    .help("a symbolic link leads out of the repository; copy the file in, or mark its include root `{path: …, outside: true}` (docs/registry.md)")
}

/// The directory tree include roots must stay in: the repository holding
/// the registry (the nearest directory at or above the registry's that
/// contains `.git`), else the working directory when the registry lies
/// in it, else the registry's own directory. Canonical (links resolved).
pub fn boundary(registry_dir: &Path) -> Option<PathBuf> {
    let dir = if registry_dir.as_os_str().is_empty() { Path::new(".") } else { registry_dir };
    let dir = std::fs::canonicalize(dir).ok()?;
    if let Some(repo) = dir.ancestors().find(|a| a.join(".git").exists()) {
        return Some(repo.to_path_buf());
    }
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    Some(cwd.filter(|c| dir.starts_with(c)).unwrap_or(dir))
}

/// Lexically normalises `a/b/../c` to `a/c` so display paths stay short
/// and never depend on the machine (no canonicalisation, no symlinks).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// A digest of everything a parsed proto file declares (package, imports,
/// types, options), leaving out only its source info: comments, layout
/// and positions. Two texts of one file with the same fingerprint, whose
/// imports resolve to the same files, compile to the same descriptors,
/// so a passing check of one is a passing check of the other (its
/// findings are the only output that shows positions). The result cache
/// uses it to let a comment or formatting edit recompile one file only.
pub fn fingerprint(file: &prost_reflect::prost_types::FileDescriptorProto) -> String {
    edits::outline(file).fingerprint()
}

/// Compiles the registry's proto files. `base` is the registry file's
/// directory, which include roots are relative to. Include roots must stay
/// inside [`boundary`] unless marked `outside: true`. Patterns in
/// `protos.files` are expanded in place first ([`expand`]), so every later
/// reader of the registry sees plain import names.
pub fn compile(registry: &mut Registry, base: &Path, info: SourceInfo) -> Result<Compiled, Diagnostics> {
    let source = Arc::clone(&registry.source);
    let source = &source;
    let mut diags = Diagnostics::new();
    let mut roots = Vec::new();
    let fence = boundary(base);
    for include in &registry.protos.include {
        let root = normalize(&base.join(&include.value));
        let outside = include.outside.as_ref().is_some_and(|o| o.value);
        if !root.is_dir() {
            diags.push(
                Diagnostic::error(
                    "proto::include_not_found",
                    format!("include root `{}` does not exist", include.value),
                )
                .at(source, include.span.clone())
                .label(format!("resolved to `{}`", root.display()))
                .help("include roots are relative to the registry file's directory"),
            );
            continue;
        }
        if let (Some(fence), false) = (&fence, outside) {
            let real = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
            if !real.starts_with(fence) {
                diags.push(
                    Diagnostic::error(
                        "proto::include_outside",
                        format!("include root `{}` is outside the repository", include.value),
                    )
                    .at(source, include.span.clone())
                    .label(format!("resolves to `{}`", real.display()))
                    .note(format!("include roots must stay inside `{}`", fence.display()))
                    .help(format!(
                        "move the protos into the repository, or opt in for this root: `- {{path: {}, outside: true}}` (docs/registry.md)",
                        include.value
                    )),
                );
                continue;
            }
        }
        roots.push(Root { path: root, outside });
    }
    let mut watched = Vec::new();
    if registry.protos.files.iter().any(|f| is_pattern(&f.value)) {
        watched = roots.iter().map(|r| r.path.clone()).collect();
        let names = proto_names(&roots, fence.as_deref());
        let searched = roots.iter().map(|r| format!("`{}`", r.path.display())).collect::<Vec<_>>().join(", ");
        let roots_ok = !diags.has_errors();
        match expand(registry, &names, &searched) {
            Ok(files) => registry.protos.files = files,
            // No match is only worth saying when the roots themselves were fine.
            Err(d) => diags.extend(d.into_iter().filter(|d| roots_ok || d.code != "proto::no_match")),
        }
    }
    for file in registry.protos.files.iter().filter(|f| !is_pattern(&f.value)) {
        // An import name: relative, `/`-separated, no `.` or `..` (the
        // same rule imports follow in `Recording::find`).
        let plain = Path::new(&file.value).components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || file.value.contains('\\') {
            diags.push(
                Diagnostic::error("proto::file_not_found", format!("`{}` is not an import name", file.value))
                    .at(source, file.span.clone())
                    .help("list files relative to an include root, as `import` would name them, e.g. `ampy/bars/v1/bars.proto` (no `..`, no absolute path; add an include root instead)"),
            );
        } else if !roots.is_empty() && !roots.iter().any(|r| r.path.join(&file.value).is_file()) {
            diags.push(
                Diagnostic::error(
                    "proto::file_not_found",
                    format!("proto file `{}` is not under any include root", file.value),
                )
                .at(source, file.span.clone())
                .help(format!(
                    "searched: {}",
                    roots.iter().map(|r| format!("`{}`", r.path.display())).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }

    // Source info stays out of the pool (see `ProtoFile::source_info`). A
    // compilation that fails is repeated with it in, so that protox's
    // errors point into the source exactly as they would otherwise.
    let compiled = match run_compiler(registry, &roots, &fence, Some(info)) {
        Ok(compiled) => compiled,
        Err(_) => run_compiler(registry, &roots, &fence, None)?,
    };
    Ok(Compiled { watched, ..compiled })
}

/// One protox run over the registry's files; `detach` keeps source info
/// out of the pool (beside it, or to be parsed again on demand).
fn run_compiler(
    registry: &Registry,
    roots: &[Root],
    fence: &Option<PathBuf>,
    detach: Option<SourceInfo>,
) -> Result<Compiled, Diagnostics> {
    let seen: Seen = Rc::default();
    let problems: Rc<RefCell<Vec<Diagnostic>>> = Rc::default();
    let resolver = Recording {
        roots: roots.to_vec(),
        google: GoogleFileResolver::new(),
        boundary: fence.clone(),
        seen: Rc::clone(&seen),
        problems: Rc::clone(&problems),
        path: RefCell::default(),
        detach_source_info: detach,
    };
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_source_info(true).include_imports(true);
    let result = registry.protos.files.iter().try_for_each(|f| compiler.open_file(&f.value).map(|_| ()));
    let files = std::mem::take(&mut *seen.borrow_mut());
    if let Err(err) = result {
        let ours = std::mem::take(&mut *problems.borrow_mut());
        if !ours.is_empty() {
            let mut d = Diagnostics::new();
            d.extend(ours);
            return Err(d);
        }
        return Err(convert_error(&err, &files, registry).into());
    }
    Ok(Compiled { pool: compiler.descriptor_pool(), files, watched: Vec::new() })
}

/// Replaces each pattern in `protos.files` by the import names in `names`
/// it matches, in byte order, at the pattern's place; a name listed twice
/// (by name and by a pattern, or by two patterns) keeps its first place
/// and span. Expanded names carry the pattern's span, so diagnostics about
/// them point at the entry that asked for them. `searched` names the
/// include roots for the help of a pattern that matches nothing.
pub fn expand(
    registry: &Registry,
    names: &std::collections::BTreeSet<String>,
    searched: &str,
) -> Result<Vec<Spanned<String>>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out: Vec<Spanned<String>> = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for entry in &registry.protos.files {
        if !is_pattern(&entry.value) {
            if listed.insert(entry.value.clone()) {
                out.push(entry.clone());
            }
            continue;
        }
        let pattern = match Pattern::parse(&entry.value) {
            Ok(p) => p,
            Err(why) => {
                diags.push(
                    Diagnostic::error("registry::bad_pattern", format!("`{}` is not a pattern ampygen reads: {why}", entry.value))
                        .at(&registry.source, entry.span.clone())
                        .help("patterns use `*` and `?` within a segment, `**` for any number of whole segments and `[a-z]` / `[!a-z]` classes, e.g. `ampy/**/*.proto` (docs/registry.md)"),
                );
                continue;
            }
        };
        let matched: Vec<&String> = names.iter().filter(|n| pattern.matches(n)).collect();
        if matched.is_empty() {
            diags.push(
                Diagnostic::error("proto::no_match", format!("pattern `{}` matches no proto file", entry.value))
                    .at(&registry.source, entry.span.clone())
                    .label("no `.proto` file under the include roots matches")
                    .help(format!(
                        "patterns match import names (relative to an include root, e.g. `ampy/**/*.proto`); searched: {}",
                        if searched.is_empty() { "no include roots" } else { searched }
                    )),
            );
        }
        for name in matched {
            if listed.insert(name.clone()) {
                out.push(Spanned::new(name.clone(), entry.span.clone()));
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// The import names of the `.proto` files under the roots, as patterns
/// see them: a name under two roots is one name (the first root wins on
/// lookup). Directories reached through a link are entered only when they
/// resolve inside the boundary (or the root opted `outside: true`) and are
/// not one of their own ancestors; a linked file that leads outside is
/// listed and then refused by the lookup (`proto::outside`), exactly as an
/// explicit entry would be.
fn proto_names(roots: &[Root], fence: Option<&Path>) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for root in roots {
        let Ok(real) = std::fs::canonicalize(&root.path) else { continue };
        let allowed = if root.outside { None } else { fence };
        walk(&root.path, "", allowed, &mut vec![real], &mut names);
    }
    names
}

fn walk(
    dir: &Path,
    prefix: &str,
    allowed: Option<&Path>,
    ancestors: &mut Vec<PathBuf>,
    names: &mut std::collections::BTreeSet<String>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        // Import names are UTF-8 and `/`-separated.
        let Some(name) = file_name.to_str().filter(|n| !n.contains('\\')) else { continue };
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let rel = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        if meta.is_dir() {
            let Ok(real) = std::fs::canonicalize(&path) else { continue };
            if allowed.is_some_and(|b| !real.starts_with(b)) || ancestors.contains(&real) {
                continue;
            }
            ancestors.push(real);
            walk(&path, &rel, allowed, ancestors, names);
            ancestors.pop();
        } else if meta.is_file() && name.ends_with(".proto") {
            names.insert(rel);
        }
    }
}

/// Turns a protox error into our diagnostic, keeping its span.
fn convert_error(err: &protox::Error, files: &BTreeMap<String, ProtoFile>, registry: &Registry) -> Diagnostic {
    use miette::Diagnostic as _;
    let mut diag = Diagnostic::error("proto::compile", err.to_string());
    if let Some(help) = err.help() {
        diag = diag.help(help.to_string());
    } else {
        diag = diag.help("fix the proto file; ampygen compiles it exactly as protoc would");
    }
    let file = err.file().and_then(|name| files.get(name));
    if let (Some(file), Some(labels)) = (file, err.labels()) {
        for l in labels {
            let span = l.offset()..l.offset() + l.len();
            let mut label = Label::new(&file.source, span);
            if let Some(m) = l.label() {
                label = label.with_message(m);
            }
            diag = diag.with_label(label);
        }
    }
    if diag.primary.is_none() {
        // No span inside a proto: point at the registry entry that asked
        // for the file, when there is one.
        let entry = err.file().and_then(|name| registry.protos.files.iter().find(|f| f.value == name));
        if let Some(entry) = entry.or_else(|| registry.protos.files.first()) {
            diag = diag.at(&registry.source, entry.span.clone());
        }
    }
    diag
}

/// The byte span in `source` of source-info location `loc`.
fn span_in(source: &Source, loc: &Location) -> Option<std::ops::Range<usize>> {
    let (sl, sc, el, ec) = match loc.span.as_slice() {
        [sl, sc, ec] => (*sl, *sc, *sl, *ec),
        [sl, sc, el, ec] => (*sl, *sc, *el, *ec),
        _ => return None,
    };
    let start = source.offset_of(usize::try_from(sl).ok()? + 1, usize::try_from(sc).ok()?);
    let end = source.offset_of(usize::try_from(el).ok()? + 1, usize::try_from(ec).ok()?);
    Some(start..end.max(start))
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("registry/../proto")), Path::new("proto"));
        assert_eq!(normalize(Path::new("./a/./b/../c")), Path::new("a/c"));
        assert_eq!(normalize(Path::new("../proto")), Path::new("../proto"));
        assert_eq!(normalize(Path::new("")), Path::new("."));
    }
}
