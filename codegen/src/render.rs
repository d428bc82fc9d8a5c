//! The handlebars layer shared by the Go and Python backends, and the
//! provenance line every backend (Rust too) starts its files with.
//!
//! Templates only print: every name, escape and import is computed in Rust
//! into a serializable view first. Strict mode turns a missing view field
//! into an error instead of an empty string, and HTML escaping is off
//! because the output is source code, not HTML.

#[cfg(any(feature = "go", feature = "python"))]
pub use engine::Engine;

use crate::Project;

#[cfg(any(feature = "go", feature = "python"))]
mod engine {
use std::collections::BTreeMap;

use handlebars::Handlebars;
use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};

/// A handlebars registry holding one backend's embedded templates.
pub struct Engine {
    hb: Handlebars<'static>,
    /// Templates whose one expression is `{{header}}` (the runtime
    /// modules: most of the template text), kept as the text around it.
    /// handlebars' parser spends about a thousand instructions per byte of
    /// template, for text it would print verbatim.
    pub(super) fixed: BTreeMap<String, Vec<String>>,
}

/// `{{header}}`'s text around it when that is the template's one kind of
/// expression: no other `{{` (which also leaves escapes and comments to
/// handlebars). A simple expression is printed in place, never trimmed as
/// a standalone tag is, so joining the parts with the header is the
/// rendering.
fn fixed_parts(source: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = source.split("{{header}}").map(str::to_owned).collect();
    (parts.len() > 1 && !parts.iter().any(|p| p.contains("{{"))).then_some(parts)
}

impl Engine {
    /// Registers `(name, source)` pairs, usually from `include_str!`.
    /// A template that does not parse is a bug in ampygen, reported as
    /// an internal diagnostic rather than a panic.
    pub fn new(templates: &[(&str, &str)]) -> Result<Engine, Diagnostics> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        let mut diags = Diagnostics::new();
        let mut fixed = BTreeMap::new();
        for (name, source) in templates {
            if let Some(parts) = fixed_parts(source) {
                fixed.insert((*name).to_owned(), parts);
            } else if let Err(e) = hb.register_template_string(name, *source) {
                diags.push(internal(format!("template `{name}` does not parse: {e}")));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Engine { hb, fixed })
    }

    /// Renders template `name` with `view`.
    pub fn render<T: Serialize>(&self, name: &str, view: &T) -> Result<String, Diagnostic> {
        self.render_context(name, &Engine::context(view)?)
    }

    /// `view` converted to handlebars' value tree once, for several
    /// templates that print the same view: the conversion of a large
    /// registry's topic view costs as much as a template's rendering.
    pub fn context<T: Serialize>(view: &T) -> Result<handlebars::Context, Diagnostic> {
        handlebars::Context::wraps(view).map_err(|e| internal(format!("a template view does not serialize: {e}")))
    }

    /// Renders template `name` with a view from [`Engine::context`].
    pub fn render_context(&self, name: &str, context: &handlebars::Context) -> Result<String, Diagnostic> {
        if let Some(parts) = self.fixed.get(name) {
            // As strict mode would: a view without a text `header` fails.
            let header = context.data().get("header").and_then(|h| h.as_str()).ok_or_else(|| {
                internal(format!("template `{name}` failed to render: the view has no text field `header`"))
            })?;
            return Ok(parts.join(header));
        }
        self.hb
            .render_with_context(name, context)
            .map_err(|e| internal(format!("template `{name}` failed to render: {e}")))
    }
}

fn internal(message: String) -> Diagnostic {
    Diagnostic::error("generate::internal", message)
        .help("this is a bug in ampygen; please report it with the registry that triggers it")
}
}

/// The registry as named in generated headers: relative paths as given,
/// absolute ones by file name only, so output does not depend on the
/// checkout.
pub fn display_registry(project: &Project) -> String {
    let p = &project.registry_path;
    if p.is_absolute() {
        p.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned())
    } else {
        p.to_string_lossy().replace('\\', "/")
    }
}

/// The provenance sentence every generated file starts with (each backend
/// wraps it in its own comment syntax; Go's form matches the
/// `^// Code generated .* DO NOT EDIT\.$` convention tools look for).
pub fn provenance(project: &Project) -> String {
    format!("ampygen {} from {}", crate::VERSION, display_registry(project).escape_debug())
}

#[cfg(all(test, any(feature = "go", feature = "python")))]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct View {
        text: &'static str,
    }

    #[test]
    fn strict_and_unescaped() {
        let e = Engine::new(&[("t", "<{{text}}>"), ("missing", "{{nope}}")]).unwrap();
        assert_eq!(e.render("t", &View { text: "a&\"b\"" }).unwrap(), "<a&\"b\">");
        let err = e.render("missing", &View { text: "" }).unwrap_err();
        assert_eq!(err.code, "generate::internal");
    }

    #[derive(Serialize)]
    struct Header {
        header: &'static str,
    }

    /// A template printing only `{{header}}` renders exactly as handlebars
    /// renders it, standalone lines and braces of the output language
    /// included; anything else goes through handlebars.
    #[test]
    fn header_only_templates_render_as_handlebars_does() {
        let sources = [
            "# {{header}}\n",
            "// {{header}}\n\n{{header}}\nx = {}}\n  {{header}}  \n",
            "# {{header}}\nf'{a}}'\n",
            "no expression at all\n",
            "# {{header}}\n\\{{not}}\n",
            "# {{header}}\n{{! a comment }}\n",
            "# {{header}}\n{{#if header}}\nyes\n{{/if}}\n",
        ];
        let named: Vec<(String, &str)> = sources.iter().enumerate().map(|(i, s)| (format!("t{i}"), *s)).collect();
        let templates: Vec<(&str, &str)> = named.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let engine = Engine::new(&templates).unwrap();
        assert_eq!(engine.fixed.keys().collect::<Vec<_>>(), ["t0", "t1", "t2"]);
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        let view = Header { header: "Code generated by ampygen {x} \\ DO NOT EDIT." };
        for (name, source) in &templates {
            hb.register_template_string(name, *source).unwrap();
            assert_eq!(engine.render(name, &view).unwrap(), hb.render(name, &view).unwrap(), "{name}");
        }
        let err = engine.render("t0", &View { text: "" }).unwrap_err();
        assert_eq!(err.code, "generate::internal");
    }

    #[test]
    fn bad_template_is_a_diagnostic() {
        let Err(d) = Engine::new(&[("bad", "{{#if}}")]) else { panic!("accepted a broken template") };
        assert!(d.has_errors());
    }
}
