//! Patterns in `protos.files` (`ampy/**/*.proto`): a small matcher over
//! import names, so the registry need not list every file and no glob
//! crate is pulled in for a dozen lines of matching.
//!
//! Syntax (docs/registry.md, "Proto files by pattern"), per `/`-separated
//! segment: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`
//! and `[!a-z]` one character of (not of) a class; a whole segment `**`
//! matches zero or more segments. None of them crosses a `/`. Anything
//! else a shell might expand (`{a,b}`, `\` escapes, `**` inside a
//! segment) is refused, so a pattern never means something other than
//! what it says.

/// One piece of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Char(char),
    /// `?`
    One,
    /// `*`
    Any,
    /// `[...]`: inclusive ranges, negated with a leading `!`.
    Class { negated: bool, ranges: Vec<(char, char)> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    Deep,
    Pieces(Vec<Piece>),
}

/// A parsed `protos.files` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

/// Whether a `protos.files` entry is a pattern rather than an import name.
pub fn is_pattern(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

impl Pattern {
    /// Parses `text`; `Err` says what is wrong, for `registry::bad_pattern`.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if text.starts_with('/') {
            return Err("a pattern is relative to the include roots; it cannot start with `/`".into());
        }
        if let Some(c) = text.chars().find(|c| matches!(c, '\\' | '{' | '}')) {
            return Err(format!("`{c}` is not supported in a pattern (no escapes, no `{{a,b}}` alternatives)"));
        }
        let mut segments = Vec::new();
        for seg in text.split('/') {
            match seg {
                "" => return Err("a pattern has no empty segments (`//` or a trailing `/`)".into()),
                "." | ".." => return Err(format!("a pattern cannot contain a `{seg}` segment")),
                "**" => segments.push(Segment::Deep),
                _ if seg.contains("**") => {
                    return Err(format!("`**` must be a whole segment (`a/**/b`), not part of `{seg}`"))
                }
                _ => segments.push(Segment::Pieces(pieces(seg)?)),
            }
        }
        Ok(Pattern { segments })
    }

    /// Whether the import name `name` (`/`-separated) matches.
    pub fn matches(&self, name: &str) -> bool {
        let parts: Vec<&str> = name.split('/').collect();
        match_segments(&self.segments, &parts)
    }
}

fn pieces(seg: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push(Piece::Any),
            '?' => out.push(Piece::One),
            ']' => return Err(format!("`]` is not supported without its opening `[` in `{seg}`")),
            '[' => {
                let negated = chars.next_if_eq(&'!').is_some();
                let mut ranges = Vec::new();
                loop {
                    let Some(lo) = chars.next() else {
                        return Err(format!("`[` without its closing `]` in `{seg}`"));
                    };
                    if lo == ']' {
                        break;
                    }
                    if matches!(lo, '[' | '*' | '?' | '!') {
                        return Err(format!("`{lo}` inside `[...]` in `{seg}`; list plain characters or ranges"));
                    }
                    let hi = if chars.next_if_eq(&'-').is_some() {
                        match chars.next() {
                            Some(']') | None => return Err(format!("an unfinished range in `{seg}` (`[a-z]`)")),
                            Some(hi) if hi < lo => return Err(format!("the range `{lo}-{hi}` in `{seg}` is backwards")),
                            Some(hi) => hi,
                        }
                    } else {
                        lo
                    };
                    ranges.push((lo, hi));
                }
                if ranges.is_empty() {
                    return Err(format!("an empty class `[]` in `{seg}`"));
                }
                out.push(Piece::Class { negated, ranges });
            }
            _ => out.push(Piece::Char(c)),
        }
    }
    Ok(out)
}

fn match_segments(pattern: &[Segment], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((Segment::Deep, rest)) => (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..])),
        Some((Segment::Pieces(p), rest)) => {
            parts.split_first().is_some_and(|(first, tail)| match_pieces(p, first) && match_segments(rest, tail))
        }
    }
}

/// Classic wildcard matching with one backtrack point (the last `*`):
/// linear in practice, never exponential.
fn match_pieces(pattern: &[Piece], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Piece::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(piece) if one(piece, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|x| *x == Piece::Any)
}

fn one(piece: &Piece, c: char) -> bool {
    match piece {
        Piece::Char(x) => *x == c,
        Piece::One => true,
        Piece::Any => false,
        Piece::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_pattern, Pattern};

    fn m(pattern: &str, name: &str) -> bool {
        Pattern::parse(pattern).expect(pattern).matches(name)
    }

    #[test]
    fn star_and_question_mark_stay_within_a_segment() {
        assert!(m("ampy/*/v1/*.proto", "ampy/bars/v1/bars.proto"));
        assert!(!m("ampy/*.proto", "ampy/bars/v1/bars.proto"));
        assert!(!m("*", "a/b"));
        assert!(m("*", "a.proto"));
        assert!(m("a/b?rs.proto", "a/bars.proto"));
        assert!(!m("a/b?rs.proto", "a/brs.proto"));
        assert!(!m("a?b", "a/b"));
        assert!(m("*.proto", ".proto"), "`*` matches the empty run");
        assert!(m("a*b*c", "aXbYbZc"), "backtracking past a false start");
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("x/*_v1.proto", "x/é_v1.proto"), "characters, not bytes");
    }

    #[test]
    fn double_star_matches_zero_or_more_whole_segments() {
        let p = "ampy/**/*.proto";
        assert!(m(p, "ampy/x.proto"), "zero segments");
        assert!(m(p, "ampy/bars/v1/bars.proto"));
        assert!(!m(p, "other/bars/v1/bars.proto"));
        assert!(!m(p, "ampy/bars/v1/bars.txt"));
        assert!(m("**/*.proto", "a.proto"));
        assert!(m("**", "a/b/c"));
        assert!(m("a/**", "a"), "`**` may match nothing at the end");
        assert!(m("a/**/b/**/c.proto", "a/x/b/y/z/c.proto"));
        assert!(!m("a/**/b.proto", "ab.proto"));
    }

    #[test]
    fn classes_ranges_and_negation() {
        assert!(m("v[0-9]/x", "v1/x"));
        assert!(!m("v[0-9]/x", "vA/x"));
        assert!(m("[!_]*.proto", "bars.proto"));
        assert!(!m("[!_]*.proto", "_draft.proto"));
        assert!(m("[ab]x", "bx"));
        assert!(!m("[ab]x", "cx"));
    }

    #[test]
    fn what_is_a_pattern() {
        assert!(is_pattern("ampy/**/*.proto"));
        assert!(is_pattern("a?.proto"));
        assert!(is_pattern("v[12].proto"));
        assert!(!is_pattern("ampy/bars/v1/bars.proto"));
    }

    #[test]
    fn unsupported_syntax_is_refused_with_a_reason() {
        for (bad, why) in [
            ("/ampy/*.proto", "cannot start with `/`"),
            ("ampy/{bars,ticks}/*.proto", "`{` is not supported"),
            ("ampy/\\*.proto", "`\\` is not supported"),
            ("ampy//*.proto", "empty segments"),
            ("ampy/*/", "empty segments"),
            ("../*.proto", "`..` segment"),
            ("ampy/a**/x.proto", "whole segment"),
            ("ampy/[ab.proto", "without its closing"),
            ("ampy/[].proto", "empty class"),
            ("ampy/[z-a].proto", "backwards"),
            ("ampy/[a-].proto", "unfinished range"),
            ("ampy/[*].proto", "inside `[...]`"),
            ("ampy/x].proto", "`]` is not supported"),
        ] {
            let err = Pattern::parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
