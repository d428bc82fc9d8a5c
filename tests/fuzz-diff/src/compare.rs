//! Comparing the runtimes' decisions, grouping disagreements by what each
//! runtime said, and shrinking one example of each group.

use std::collections::BTreeMap;

use crate::driver::Decision;
use crate::drivers::Runtime;
use crate::record::Record;

/// Which runtime said what, e.g. `rust=decode_error go=ok python=ok`, or
/// `digest` when all accepted and the decoded payloads differ. `None` when
/// they agree.
pub fn signature(names: &[String], decisions: &[Decision]) -> Option<String> {
    let crashed = decisions.iter().any(|d| matches!(d, Decision::Crash(_)));
    let verdicts: Vec<String> = decisions.iter().map(Decision::verdict).collect();
    let same = verdicts.windows(2).all(|w| w[0] == w[1]);
    if same && !crashed {
        if decisions.windows(2).all(|w| w[0] == w[1]) {
            return None;
        }
        // Which runtimes decoded the same payload: letters by first sight.
        let mut seen: Vec<&Decision> = Vec::new();
        let digests: Vec<String> = names
            .iter()
            .zip(decisions)
            .map(|(n, d)| {
                let i = seen.iter().position(|s| *s == d).unwrap_or_else(|| {
                    seen.push(d);
                    seen.len() - 1
                });
                format!("{n}={}", char::from(b'A' + i as u8))
            })
            .collect();
        return Some(format!("digest {}", digests.join(" ")));
    }
    Some(names.iter().zip(&verdicts).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" "))
}

/// Disagreements of one signature.
#[derive(Default)]
pub struct Group {
    pub count: usize,
    /// How often each mutation took part.
    pub mutations: BTreeMap<String, usize>,
    /// The smallest record seen.
    pub example: Option<Record>,
}

impl Group {
    pub fn add(&mut self, r: &Record) {
        self.count += 1;
        for m in &r.mutations {
            *self.mutations.entry(m.clone()).or_default() += 1;
        }
        let size = |r: &Record| r.body.len() + r.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if self.example.as_ref().is_none_or(|e| size(r) < size(e)) {
            self.example = Some(r.clone());
        }
    }
}

fn decide_all(runtimes: &mut [Box<dyn Runtime>], r: &Record) -> Result<Vec<Decision>, String> {
    let mut out = Vec::with_capacity(runtimes.len());
    for rt in runtimes.iter_mut() {
        out.push(rt.decide(std::slice::from_ref(r))?.pop().ok_or("no decision")?);
    }
    Ok(out)
}

/// Shrinks `r` while the runtimes keep disagreeing the same way: drops
/// headers one at a time, then cuts the body in ever smaller pieces, at
/// most `budget` tries.
pub fn minimize(runtimes: &mut [Box<dyn Runtime>], r: &Record, want: &str, budget: usize) -> Result<Record, String> {
    let names: Vec<String> = runtimes.iter().map(|rt| rt.name().to_owned()).collect();
    let mut best = r.clone();
    let tries = std::cell::Cell::new(0usize);
    let still = |candidate: &Record, runtimes: &mut [Box<dyn Runtime>]| -> Result<bool, String> {
        tries.set(tries.get() + 1);
        let d = decide_all(runtimes, candidate)?;
        // Digest groups only need to stay a digest disagreement.
        Ok(match signature(&names, &d) {
            Some(s) if want.starts_with("digest") => s.starts_with("digest"),
            Some(s) => s == want,
            None => false,
        })
    };
    let mut i = 0;
    while i < best.headers.len() && tries.get() < budget {
        let mut c = best.clone();
        c.headers.remove(i);
        if still(&c, runtimes)? {
            best = c;
        } else {
            i += 1;
        }
    }
    let mut chunk = best.body.len().div_ceil(2).max(1);
    while chunk >= 1 && tries.get() < budget {
        let mut at = 0;
        let mut shrunk = false;
        while at < best.body.len() && tries.get() < budget {
            let mut c = best.clone();
            let end = (at + chunk).min(c.body.len());
            c.body.drain(at..end);
            if still(&c, runtimes)? {
                best = c;
                shrunk = true;
            } else {
                at += chunk;
            }
        }
        if chunk == 1 && !shrunk {
            break;
        }
        chunk = if shrunk { chunk } else { chunk / 2 };
    }
    Ok(best)
}

/// A record for the report: topic, headers, and the body in hex.
pub fn show(r: &Record) -> String {
    let hex: String = r.body.iter().take(160).map(|b| format!("{b:02x}")).collect();
    let more = if r.body.len() > 160 { format!("… ({} bytes)", r.body.len()) } else { String::new() };
    let headers: Vec<String> = r
        .headers
        .iter()
        .map(|(k, v)| {
            let v: String = v.chars().take(60).collect::<String>().escape_debug().to_string();
            format!("{k}={v}")
        })
        .collect();
    format!(
        "record {} (seed {}, mutations {})\n      topic   {}\n      headers {}\n      body    {hex}{more}",
        r.id,
        r.seed,
        r.mutations.join(", "),
        r.topic,
        headers.join("  ")
    )
}
