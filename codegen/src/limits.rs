//! Bounds on how deep input may nest, checked before the input reaches a
//! recursive component, so that no input can overflow the stack: the
//! answer to a too-deep input is a located diagnostic (exit 2), never an
//! abort. docs/registry.md ("Limits") lists them for users.
//!
//! Which components recurse, and what bounds them:
//! - protox's parser recurses on nested message definitions; it stops at
//!   31 levels itself (protoc's limit), with a located error.
//! - prost-reflect interprets aggregate option values (`option (o) = {a:
//!   {a: …}}`) with a recursive text-format parser: [`MAX_NESTING`] bounds
//!   every bracket of a proto file before protox sees it.
//! - protox resolves imports depth first, one stack frame chain per
//!   level: [`MAX_IMPORT_DEPTH`] bounds the import chain.
//! - prost-build (the Rust backend) decides `derive(Copy)` by recursing
//!   along singular message fields: [`MAX_TYPE_DEPTH`] bounds the longest
//!   such chain (cycles aside, which prost-build boxes).
//! - The registry's YAML parser stops at its own recursion limit, and the
//!   canonical form walks types with an explicit work list.
//!
//! Each bound is far above what a schema needs (protoc itself stops
//! nesting messages at 32) and far below what the stack of the thread the
//! CLI runs on (64 MiB) can take, measured in the limits tests.

use std::collections::{BTreeSet, HashMap};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};

/// Brackets (`{ [ ( <`) a proto file may nest, counted outside comments
/// and strings. Message nesting (at most 31) plus an option value inside
/// them fit with room to spare.
pub const MAX_NESTING: usize = 100;

/// How long an import chain (a imports b imports c …) may be.
pub const MAX_IMPORT_DEPTH: usize = 100;

/// How long a chain of singular message fields (`A.b` of type `B`, `B.c`
/// of type `C`, …) may be for the Rust backend.
pub const MAX_TYPE_DEPTH: usize = 100;

/// The byte offset of the first bracket that opens level `limit + 1` in
/// proto source `text`; `None` when brackets never nest that deep.
/// Comments (`//`, `/* */`, and `#`, which text-format option values use)
/// and string literals are skipped, so their brackets do not count. Over-
/// counting can only reject a file protoc would reject too.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_line(b, i),
            b'#' => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 1);
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The longest chain of singular message fields among the messages of
/// `files`, as the fields that form it, when it reaches more than `limit`
/// messages; `None` otherwise.
///
/// prost-build recurses from a message into the type of each singular
/// message field unless that type leads back to the message (a cycle,
/// which it boxes). So the depth it reaches from message `m` is one more
/// than the deepest such field type outside `m`'s strongly connected
/// component. Components come from an iterative Tarjan pass, which yields
/// them dependencies first, so one pass in that order computes every
/// depth in linear time.
pub fn type_chain(pool: &DescriptorPool, files: &BTreeSet<String>, limit: usize) -> Option<Vec<FieldDescriptor>> {
    let msgs: Vec<MessageDescriptor> = pool.all_messages().filter(|m| files.contains(m.parent_file().name())).collect();
    let ids: HashMap<&str, usize> = msgs.iter().enumerate().map(|(i, m)| (m.full_name(), i)).collect();
    let adj: Vec<Vec<(usize, FieldDescriptor)>> = msgs
        .iter()
        .map(|m| {
            m.fields()
                .filter(|f| !f.is_list() && !f.is_map())
                .filter_map(|f| match f.kind() {
                    Kind::Message(t) => ids.get(t.full_name()).map(|&w| (w, f)),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let (comp, order) = components(&adj);
    let mut depth = vec![0usize; msgs.len()];
    let mut next: Vec<Option<usize>> = vec![None; msgs.len()];
    for v in order {
        depth[v] = 1;
        for (k, (w, _)) in adj[v].iter().enumerate() {
            if comp[*w] != comp[v] && depth[*w] + 1 > depth[v] {
                depth[v] = depth[*w] + 1;
                next[v] = Some(k);
            }
        }
    }
    let start = (0..msgs.len()).max_by_key(|v| (depth[*v], std::cmp::Reverse(*v)))?;
    if depth[start] <= limit {
        return None;
    }
    let mut chain = Vec::new();
    let mut v = start;
    while let Some(k) = next[v] {
        chain.push(adj[v][k].1.clone());
        v = adj[v][k].0;
    }
    Some(chain)
}

/// Strongly connected components (Tarjan, with an explicit stack): each
/// node's component, and the nodes in the order their components were
/// closed, which puts every component after all it can reach.
fn components(adj: &[Vec<(usize, FieldDescriptor)>]) -> (Vec<usize>, Vec<usize>) {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let (mut index, mut low, mut comp) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let (mut on_stack, mut stack, mut order) = (vec![false; n], Vec::new(), Vec::with_capacity(n));
    let (mut counter, mut count) = (0, 0);
    for s in 0..n {
        if index[s] != NONE {
            continue;
        }
        let mut calls = vec![(s, 0usize)];
        index[s] = counter;
        low[s] = counter;
        counter += 1;
        stack.push(s);
        on_stack[s] = true;
        while let Some(&(v, edge)) = calls.last() {
            if let Some((w, _)) = adj[v].get(edge) {
                let w = *w;
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if index[w] == NONE {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = count;
                    order.push(w);
                    if w == v {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    (comp, order)
}

/// The index of the newline ending the line at `i` (or the end).
fn skip_line(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|c| *c == b'\n').map_or(b.len(), |n| i + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_comments_and_strings() {
        assert_eq!(too_deep("message A { message B { } }", 2), None);
        assert_eq!(too_deep("message A { message B { message C {} } }", 2), Some(34));
        let quiet = "// {{{{\n/* (((( */ option x = \"[[[[\\\"[[\"; # <<<<\nm { f = '{{{' }";
        assert_eq!(too_deep(quiet, 1), None);
        assert_eq!(too_deep("{}{}{}{}", 1), None);
        assert_eq!(too_deep("a { b: [ < c ( > ] }", 3), Some(13));
        assert_eq!(too_deep("/* unterminated {{{", 0), None);
    }

    fn pool(proto: &str) -> DescriptorPool {
        let files = protox::file::File::from_source("t.proto", proto).expect("parses");
        let mut set = prost_reflect::prost_types::FileDescriptorSet::default();
        set.file.push(files.file_descriptor_proto().clone());
        DescriptorPool::from_file_descriptor_set(set).expect("pool")
    }

    #[test]
    fn type_chains_skip_cycles_and_repeated_fields() {
        let files: BTreeSet<String> = ["t.proto".to_owned()].into();
        // A -> B -> C, plus a cycle C <-> D that prost-build boxes, and a
        // repeated field that never derives Copy.
        let p = pool(
            "syntax = \"proto3\"; package t;\n\
             message A { B b = 1; repeated E e = 2; }\n\
             message B { C c = 1; }\n\
             message C { D d = 1; }\n\
             message D { C c = 1; }\n\
             message E { A a = 1; }\n",
        );
        // C and D form one component: A(3) -> B(2) -> C(1); E -> A gives 4.
        let chain = type_chain(&p, &files, 3).expect("E.a, A.b, B.c is 4 messages deep");
        let names: Vec<&str> = chain.iter().map(|f| f.full_name()).collect();
        assert_eq!(names, ["t.E.a", "t.A.b", "t.B.c"]);
        assert!(type_chain(&p, &files, 4).is_none());
    }
}
