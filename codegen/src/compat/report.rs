//! Machine output of the gate: `--format json` (schema in docs/ci.md,
//! versioned by its `version` field) and `--format github` (workflow
//! commands that GitHub Actions turns into annotations on the diff).

use serde_json::{json, Value};

use super::Finding;
use crate::diag::Severity;

/// The JSON document's schema version. Bumped only for incompatible
/// changes; new keys may be added within a version.
pub const JSON_VERSION: u64 = 1;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "note",
    }
}

/// The stable JSON report. `against` is the git revision compared with,
/// or `None` when the baseline is the lock file.
pub fn json(findings: &[Finding], against: Option<&str>, registry: &str) -> String {
    let errors = findings.iter().filter(|f| f.diagnostic.is_error()).count();
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            let d = &f.diagnostic;
            let loc = d.location();
            let related: Vec<Value> = d
                .secondary
                .iter()
                .map(|l| {
                    let at = l.location();
                    json!({ "file": at.file, "line": at.line, "column": at.col, "message": l.message })
                })
                .collect();
            json!({
                "code": d.code,
                "class": f.class.map(|c| c.as_str()),
                "severity": severity(d.severity),
                "message": d.message,
                "file": loc.as_ref().map(|l| l.file.clone()),
                "line": loc.as_ref().map(|l| l.line),
                "column": loc.as_ref().map(|l| l.col),
                "topic": f.topics.first(),
                "topics": f.topics,
                "fingerprint": f.fingerprint,
                "help": d.help,
                "notes": d.notes,
                "related": related,
            })
        })
        .collect();
    let doc = json!({
        "version": JSON_VERSION,
        "ok": errors == 0,
        "registry": registry,
        "baseline": match against { Some(r) => json!({ "kind": "git", "revision": r }), None => json!({ "kind": "lock" }) },
        "summary": {
            "errors": errors,
            "warnings": findings.iter().filter(|f| f.diagnostic.severity == Severity::Warning).count(),
            "breaking": findings.iter().filter(|f| f.class.is_some_and(|c| c.is_breaking()) && f.diagnostic.is_error()).count(),
            "compatible": findings.iter().filter(|f| f.class.is_some_and(|c| !c.is_breaking())).count(),
        },
        "findings": items,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// Escapes workflow-command data (`%`, CR, LF), and additionally `:` and
/// `,` inside properties, as GitHub's toolkit does.
fn escape(s: &str, property: bool) -> String {
    let mut out = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// One `::error file=…,line=…,col=…,title=…::message` line per finding.
pub fn github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let d = &f.diagnostic;
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Advice => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = d.location() {
            props.push(format!("file={}", escape(&loc.file, true)));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.col));
        }
        props.push(format!("title={}", escape(d.code, true)));
        let mut message = d.message.clone();
        for note in &d.notes {
            message.push('\n');
            message.push_str(note);
        }
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!("::{command} {}::{}\n", props.join(","), escape(&message, false)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, Source};

    #[test]
    fn github_lines_escape_and_locate() {
        let src = Source::new("registry/ampy.yaml", "a: 1\nb: 2\n");
        let d = Diagnostic::error("compat::breaking_wire", "50% off\nnext").at(&src, 5..6).note("n");
        let out = github(&[Finding::plain(d)]);
        assert_eq!(
            out,
            "::error file=registry/ampy.yaml,line=2,col=1,title=compat%3A%3Abreaking_wire::50%25 off%0Anext%0An\n"
        );
        let doc: Value = serde_json::from_str(&json(&[], None, "r")).unwrap();
        assert_eq!((doc["version"].as_u64(), doc["ok"].as_bool()), (Some(1), Some(true)));
    }
}
