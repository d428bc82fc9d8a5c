//! Finding overlapping subtopics in time linear in the registry, not
//! quadratic: see [`SubtopicIndex`].

use std::collections::HashMap;

use crate::template::{self, Token};

/// The subtopics of one version, for finding the first earlier one that
/// overlaps a new one ([`template::Subtopic::overlaps`]) without comparing
/// every pair: a trie over tokens, where a parameter is one wildcard edge.
/// A lookup follows, per token, the literal edge and the wildcard edge
/// (all edges when the new token is a parameter), so it costs the number
/// of compatible prefixes rather than the number of topics.
#[derive(Default)]
pub(super) struct SubtopicIndex {
    nodes: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    /// `None` is the wildcard (a parameter).
    next: HashMap<Option<String>, usize>,
    /// The earliest topic whose subtopic ends here.
    first: Option<usize>,
}

impl SubtopicIndex {
    fn key(token: &Token) -> Option<String> {
        match token {
            Token::Literal(l) => Some(l.clone()),
            Token::Param(_) => None,
        }
    }

    pub(super) fn insert(&mut self, subtopic: &template::Subtopic, topic: usize) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut at = 0;
        for token in &subtopic.tokens {
            let key = Self::key(token);
            at = match self.nodes[at].next.get(&key) {
                Some(&n) => n,
                None => {
                    self.nodes.push(TrieNode::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[at].next.insert(key, n);
                    n
                }
            };
        }
        let first = &mut self.nodes[at].first;
        *first = Some(first.map_or(topic, |f| f.min(topic)));
    }

    /// The earliest indexed topic whose subtopic overlaps `subtopic`.
    pub(super) fn first_overlap(&self, subtopic: &template::Subtopic) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut best: Option<usize> = None;
        let mut work = vec![(0usize, 0usize)];
        while let Some((node, depth)) = work.pop() {
            let Some(token) = subtopic.tokens.get(depth) else {
                if let Some(f) = self.nodes[node].first {
                    best = Some(best.map_or(f, |b| b.min(f)));
                }
                continue;
            };
            match token {
                Token::Param(_) => work.extend(self.nodes[node].next.values().map(|&n| (n, depth + 1))),
                Token::Literal(l) => {
                    for key in [Some(l.clone()), None] {
                        if let Some(&n) = self.nodes[node].next.get(&key) {
                            work.push((n, depth + 1));
                        }
                    }
                }
            }
        }
        best
    }
}
