//! Decoding `protos:`: include roots (a path, or `{path, outside: true}`
//! for a root allowed outside the repository) and proto files.

use std::collections::HashMap;

use super::*;

const PROTO_KEYS: &[&str] = &["include", "files"];
const ROOT_KEYS: &[&str] = &["path", "outside"];

impl Decoder<'_> {
    pub(super) fn protos(&mut self, node: &Node) -> Option<Protos> {
        let obj = self.object(node, "`protos`", PROTO_KEYS, PROTO_KEYS)?;
        let include = obj.get("include").map(|n| self.include_roots(n)).unwrap_or_default();
        let files = obj.get("files").map(|n| self.strings(n, "`protos.files`")).unwrap_or_default();
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(files.len());
        for f in &files {
            if first.insert(f.value.as_str(), f.span.start).is_some() {
                self.error(
                    "registry::duplicate_key",
                    f.span.clone(),
                    format!("proto file `{}` is listed twice", f.value),
                    "remove the repeated entry",
                );
            }
        }
        Some(Protos { include, files })
    }

    fn include_roots(&mut self, node: &Node) -> Vec<IncludeRoot> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("`protos.include` must be a list, found {}", node.kind_name()),
                "write `[../proto]` or one `- path` per line",
            );
            return Vec::new();
        };
        let mut roots = Vec::new();
        for item in items {
            if !matches!(item.kind, Kind::Map(_)) {
                if let Some(path) = self.string(item, "each entry of `protos.include`") {
                    roots.push(IncludeRoot { path, outside: None });
                }
                continue;
            }
            let Some(obj) = self.object(item, "an entry of `protos.include`", ROOT_KEYS, &["path"]) else { continue };
            let path = obj.get("path").and_then(|n| self.string(n, "`path`"));
            let outside = obj.get("outside").and_then(|n| match (n.as_scalar(), n.style()) {
                (Some("true"), Some(crate::yaml::Style::Plain)) => Some(Spanned::new(true, n.span.clone())),
                (Some("false"), Some(crate::yaml::Style::Plain)) => Some(Spanned::new(false, n.span.clone())),
                _ => {
                    self.error(
                        "registry::wrong_type",
                        n.span.clone(),
                        format!("`outside` must be `true` or `false`, found {}", describe(n)),
                        "write `outside: true` to allow this include root outside the repository",
                    );
                    None
                }
            });
            if let Some(path) = path {
                roots.push(IncludeRoot { path, outside });
            }
        }
        roots
    }
}
