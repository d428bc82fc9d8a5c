//! prost-build's common options, passed through `ampygen::configure()`
//! with prost-build's own path syntax and semantics.
//!
//! prost-build pastes each attribute into the generated code as text and,
//! formatting the result, panics on anything that does not parse. A build
//! script must get a diagnostic instead, so every attribute is checked to
//! be outer attributes only before prost-build sees it.

use crate::diag::{Diagnostic, Diagnostics};

/// The options as collected (each list in call order; prost-build applies
/// every kind in the order it was added).
#[derive(Clone, Debug, Default)]
pub struct ProstOptions {
    /// `(path, attribute)` for `prost_build::Config::type_attribute`.
    pub type_attributes: Vec<(String, String)>,
    /// `(path, attribute)` for `prost_build::Config::message_attribute`.
    pub message_attributes: Vec<(String, String)>,
    /// `(path, attribute)` for `prost_build::Config::enum_attribute`.
    pub enum_attributes: Vec<(String, String)>,
    /// `(path, attribute)` for `prost_build::Config::field_attribute`.
    pub field_attributes: Vec<(String, String)>,
    /// Paths for `prost_build::Config::bytes`.
    pub bytes: Vec<String>,
    /// Paths for `prost_build::Config::btree_map`.
    pub btree_map: Vec<String>,
}

impl ProstOptions {
    /// Every attribute that is not a sequence of outer attributes
    /// (`#[...]`, `///`), as a diagnostic naming the option and the path.
    pub fn check(&self) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        let lists = [
            ("type_attribute", &self.type_attributes),
            ("message_attribute", &self.message_attributes),
            ("enum_attribute", &self.enum_attributes),
            ("field_attribute", &self.field_attributes),
        ];
        for (option, list) in lists {
            for (path, attribute) in list {
                if let Err(why) = outer_attributes(attribute) {
                    diags.push(
                        Diagnostic::error(
                            "generate::bad_attribute",
                            format!("`.{option}({path:?}, {attribute:?})` is not an attribute: {why}"),
                        )
                        .help("pass whole outer attributes, as prost-build expects: `#[derive(serde::Serialize)]`"),
                    );
                }
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }

    /// Hands every option to prost-build.
    pub(super) fn apply(&self, config: &mut prost_build::Config) {
        for (path, attribute) in &self.type_attributes {
            config.type_attribute(path, attribute);
        }
        for (path, attribute) in &self.message_attributes {
            config.message_attribute(path, attribute);
        }
        for (path, attribute) in &self.enum_attributes {
            config.enum_attribute(path, attribute);
        }
        for (path, attribute) in &self.field_attributes {
            config.field_attribute(path, attribute);
        }
        config.bytes(&self.bytes);
        config.btree_map(&self.btree_map);
    }
}

/// Whether `text` is zero or more outer attributes and nothing else: in
/// front of an item it must leave exactly that item, unchanged.
fn outer_attributes(text: &str) -> Result<(), String> {
    const PROBE: &str = "__AmpygenAttributeProbe";
    let file = syn::parse_file(&format!("{text}\nstruct {PROBE};")).map_err(|e| e.to_string())?;
    match file.items.as_slice() {
        [syn::Item::Struct(s)] if file.attrs.is_empty() && s.ident == PROBE => Ok(()),
        _ => Err("it is not only outer attributes".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_checked_before_prost_build_sees_them() {
        for good in ["#[derive(serde::Serialize)]", "#[serde(rename = \"x\")] #[allow(dead_code)]", "/// doc", ""] {
            assert_eq!(outer_attributes(good), Ok(()), "{good}");
        }
        for bad in ["derive(Clone)", "#[derive(Clone)", "#![allow(x)]", "#[a] struct Injected;", "#[a] }"] {
            assert!(outer_attributes(bad).is_err(), "accepted {bad}");
        }
        let options = ProstOptions {
            field_attributes: vec![(".a.B.c".into(), "serde(skip)".into())],
            ..ProstOptions::default()
        };
        let diags = options.check().unwrap_err();
        assert_eq!(diags.len(), 1);
        let text = diags.render_plain();
        assert!(text.contains("generate::bad_attribute") && text.contains(".field_attribute(\".a.B.c\""), "{text}");
    }
}
