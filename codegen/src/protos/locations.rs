//! A file's detached source locations ([`super::DetachedInfo`]), packed.
//!
//! A proto file has about a hundred locations, and prost's `Location` is a
//! 120-byte struct owning two to five heap blocks, nearly always two small
//! integer lists and no comments. Kept that way for every file of a
//! generation they were its largest single holder of memory (12 MB of
//! structs and as much again in blocks at 1,000 files), and memory first
//! touched is page faults. Packed, a location is its integers in one
//! shared list plus a 12-byte entry; comments, when there are any, sit
//! beside. A `Location` is made again only when one is read.

use prost_reflect::prost_types::source_code_info::Location;

#[derive(Clone, Debug, Default)]
pub struct Locations {
    entries: Vec<Entry>,
    /// Every location's path, then its span.
    ints: Vec<i32>,
    comments: Vec<Comments>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Where the path starts in `ints`.
    start: u32,
    path_len: u16,
    span_len: u16,
    /// Index in `comments`, or `NONE`.
    comments: u32,
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Comments {
    leading: Option<String>,
    trailing: Option<String>,
    detached: Vec<String>,
}

impl Locations {
    pub fn with_capacity(n: usize) -> Locations {
        Locations { entries: Vec::with_capacity(n), ints: Vec::with_capacity(n * 8), comments: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends `l`. A location too large to pack (a path or span of more
    /// than 65,535 numbers, more than 4 G numbers in all; no parser makes
    /// one) is kept with its numbers cut, never dropped.
    pub fn push(&mut self, l: Location) {
        let start = u32::try_from(self.ints.len()).unwrap_or(u32::MAX);
        let path_len = l.path.len().min(usize::from(u16::MAX));
        let span_len = l.span.len().min(usize::from(u16::MAX));
        self.ints.extend_from_slice(&l.path[..path_len]);
        self.ints.extend_from_slice(&l.span[..span_len]);
        let has_comments = l.leading_comments.is_some() || l.trailing_comments.is_some() || !l.leading_detached_comments.is_empty();
        let comments = if has_comments {
            self.comments.push(Comments {
                leading: l.leading_comments,
                trailing: l.trailing_comments,
                detached: l.leading_detached_comments,
            });
            u32::try_from(self.comments.len() - 1).unwrap_or(NONE)
        } else {
            NONE
        };
        // Both lengths fit: they were cut to u16::MAX above.
        self.entries.push(Entry { start, path_len: path_len as u16, span_len: span_len as u16, comments });
    }

    fn path_of(&self, e: &Entry) -> &[i32] {
        let start = e.start as usize;
        self.ints.get(start..start + usize::from(e.path_len)).unwrap_or(&[])
    }

    fn unpack(&self, e: &Entry) -> Location {
        let start = e.start as usize + usize::from(e.path_len);
        let span = self.ints.get(start..start + usize::from(e.span_len)).unwrap_or(&[]);
        let c = self.comments.get(e.comments as usize);
        Location {
            path: self.path_of(e).to_vec(),
            span: span.to_vec(),
            leading_comments: c.and_then(|c| c.leading.clone()),
            trailing_comments: c.and_then(|c| c.trailing.clone()),
            leading_detached_comments: c.map(|c| c.detached.clone()).unwrap_or_default(),
        }
    }

    /// Every location, in order, as prost's type.
    pub fn iter(&self) -> impl Iterator<Item = Location> + '_ {
        self.entries.iter().map(|e| self.unpack(e))
    }

    /// The first location whose path is `path`.
    pub fn find(&self, path: &[i32]) -> Option<Location> {
        self.entries.iter().find(|e| self.path_of(e) == path).map(|e| self.unpack(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_come_back_as_they_went_in() {
        let all = vec![
            Location { path: vec![4, 0], span: vec![3, 0, 9, 1], ..Default::default() },
            Location {
                path: vec![4, 0, 2, 1],
                span: vec![5, 2, 30],
                leading_comments: Some(" The price.\n".into()),
                trailing_comments: None,
                leading_detached_comments: vec![" detached\n".into()],
            },
            Location { path: vec![], span: vec![0, 0, 12, 0], trailing_comments: Some(" end\n".into()), ..Default::default() },
        ];
        let mut packed = Locations::with_capacity(1);
        for l in all.clone() {
            packed.push(l);
        }
        assert_eq!(packed.len(), 3);
        assert_eq!(packed.iter().collect::<Vec<_>>(), all);
        assert_eq!(packed.find(&[4, 0, 2, 1]), Some(all[1].clone()));
        assert_eq!(packed.find(&[]), Some(all[2].clone()));
        assert_eq!(packed.find(&[4]), None);
    }
}
