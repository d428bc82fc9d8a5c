//! The Go and Python drivers as child processes speaking the line protocol
//! of [`crate::record`], and the Rust driver in process behind the same
//! interface.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::driver::{decide_record, Decision};
use crate::record::Record;

pub trait Runtime: Send {
    fn name(&self) -> &str;
    /// One decision per record, in order.
    fn decide(&mut self, records: &[Record]) -> Result<Vec<Decision>, String>;
}

pub struct InProcess;

impl Runtime for InProcess {
    fn name(&self) -> &str {
        "rust"
    }

    fn decide(&mut self, records: &[Record]) -> Result<Vec<Decision>, String> {
        Ok(records.iter().map(decide_record).collect())
    }
}

/// A driver process. Records go to its stdin from a helper thread while
/// this one reads the answers, so neither side can block the other.
pub struct Process {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Process {
    /// Starts `command` (split on whitespace: program, then arguments).
    pub fn spawn(name: &str, command: &str) -> Result<Process, String> {
        let mut words = command.split_whitespace();
        let program = words.next().ok_or_else(|| format!("{name}: empty driver command"))?;
        let mut child = Command::new(program)
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{name}: cannot start `{command}`: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| format!("{name}: no stdout"))?);
        Ok(Process { name: name.to_owned(), child, stdin, stdout })
    }
}

impl Runtime for Process {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, records: &[Record]) -> Result<Vec<Decision>, String> {
        let name = self.name.clone();
        let stdin = self.stdin.as_mut().ok_or_else(|| format!("{name}: stdin closed"))?;
        let stdout = &mut self.stdout;
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> Result<(), String> {
                let mut w = BufWriter::new(stdin);
                for r in records {
                    w.write_all(r.to_line().as_bytes()).and_then(|()| w.write_all(b"\n")).map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())
            });
            let mut out = Vec::with_capacity(records.len());
            let mut line = String::new();
            for r in records {
                line.clear();
                let n = stdout.read_line(&mut line).map_err(|e| format!("{name}: {e}"))?;
                if n == 0 {
                    return Err(format!("{name}: the driver exited before answering record {}", r.id));
                }
                let line = line.trim_end();
                let (id, decision) = line.split_once(' ').unwrap_or((line, ""));
                if id != r.id.to_string() {
                    return Err(format!("{name}: answered `{line}` for record {}", r.id));
                }
                out.push(Decision::parse(decision));
            }
            writer.join().map_err(|_| format!("{name}: writer panicked"))?.map_err(|e| format!("{name}: {e}"))?;
            Ok(out)
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop.
        self.stdin.take();
        let _ = self.child.wait();
    }
}
