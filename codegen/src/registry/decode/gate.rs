//! Decoding the registry keys the CI gate reads: `compat` on a domain,
//! `deprecated` on a version or topic, `accept_breaking` on a topic.
//! See docs/compatibility.md for what they mean.

use super::*;

const COMPAT_KEYS: &[&str] = &["json"];
const DEPRECATED_KEYS: &[&str] = &["since", "reason"];
const ACCEPT_KEYS: &[&str] = &["fingerprint", "by", "reason"];

impl Decoder<'_> {
    /// `compat: {json: BOOL}`; returns the `json` flag.
    pub(super) fn compat(&mut self, node: &Node, owner: &str) -> Option<Spanned<bool>> {
        let obj = self.object(node, &format!("`compat` of {owner}"), COMPAT_KEYS, COMPAT_KEYS)?;
        let json = obj.get("json")?;
        let value = match (json.as_scalar(), json.style()) {
            (Some("true"), Some(crate::yaml::Style::Plain)) => true,
            (Some("false"), Some(crate::yaml::Style::Plain)) => false,
            _ => {
                self.error(
                    "registry::wrong_type",
                    json.span.clone(),
                    format!("`compat.json` must be `true` or `false`, found {}", describe(json)),
                    "write `json: false` to treat JSON-level changes (renames, json_name) as compatible in this domain",
                );
                return None;
            }
        };
        Some(Spanned::new(value, json.span.clone()))
    }

    /// `deprecated: {since: DATE-OR-VERSION, reason: TEXT}`.
    pub(super) fn deprecation(&mut self, node: &Node, owner: &str) -> Option<Deprecation> {
        let obj = self.object(node, &format!("`deprecated` of {owner}"), DEPRECATED_KEYS, DEPRECATED_KEYS)?;
        let since = obj.get("since").and_then(|n| self.non_empty(n, "`deprecated.since`"));
        let reason = obj.get("reason").and_then(|n| self.non_empty(n, "`deprecated.reason`"));
        Some(Deprecation { since: since?, reason: reason?, span: obj.span })
    }

    /// `accept_breaking: [{fingerprint, by, reason}, …]`.
    pub(super) fn acceptances(&mut self, node: &Node, owner: &str) -> Vec<Acceptance> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("`accept_breaking` of {owner} must be a list, found {}", node.kind_name()),
                "write one `- {fingerprint: …, by: …, reason: …}` entry per accepted change",
            );
            return Vec::new();
        };
        let mut out: Vec<Acceptance> = Vec::new();
        let mut accepted = std::collections::HashSet::new();
        for item in items {
            let what = format!("an `accept_breaking` entry of {owner}");
            let Some(obj) = self.object(item, &what, ACCEPT_KEYS, ACCEPT_KEYS) else { continue };
            let fingerprint = obj.get("fingerprint").and_then(|n| self.non_empty(n, "`fingerprint`"));
            if let Some(f) = &fingerprint {
                let ok = f.value.len() == 16 && f.value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !ok {
                    self.error(
                        "registry::bad_fingerprint",
                        f.span.clone(),
                        format!("`{}` is not a change fingerprint", f.value),
                        "fingerprints are 16 lower-case hex digits; copy the one `ampygen check` prints for the change",
                    );
                    continue;
                }
                if accepted.contains(&f.value) {
                    self.error(
                        "registry::duplicate_key",
                        f.span.clone(),
                        format!("fingerprint `{}` is accepted twice", f.value),
                        "remove the repeated entry",
                    );
                    continue;
                }
            }
            let by = obj.get("by").and_then(|n| self.non_empty(n, "`by`"));
            let reason = obj.get("reason").and_then(|n| self.non_empty(n, "`reason`"));
            if let (Some(fingerprint), Some(by), Some(reason)) = (fingerprint, by, reason) {
                accepted.insert(fingerprint.value.clone());
                out.push(Acceptance { fingerprint, by, reason, span: obj.span });
            }
        }
        out
    }

    fn non_empty(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        let s = self.string(node, what)?;
        if s.value.trim().is_empty() {
            self.error(
                "registry::missing_key",
                s.span.clone(),
                format!("{what} is empty"),
                "reviewers read it: say who, since when or why",
            );
            return None;
        }
        Some(s)
    }
}
