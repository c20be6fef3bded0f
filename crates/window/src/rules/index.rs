//! Lookup structures that keep classification cheap: event ids as integers, the rules that
//! can match each id, and the fields every rule reads, found in one pass over a record.

use std::collections::HashMap;

use pushwatch_parser::{Record, Value};

use crate::hash::WordBuild;

/// Returns an event id (`20002`, `0102043008`) as an integer that keeps its digit count, so that
/// `0100032160` and `100032160` stay distinct. Ids longer than 17 digits have no key.
pub(super) fn id_key(id: &[u8]) -> Option<u64> {
    if id.is_empty() || id.len() > 17 {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in id {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    Some(value << 5 | id.len() as u64)
}

/// Rules to try for each event id, in table order.
#[derive(Debug, Clone, Default)]
pub(super) struct IdIndex {
    /// Exact ids: the rules listing the id, merged with the text-only rules.
    exact: HashMap<u64, Vec<usize>, WordBuild>,
    /// CEF signature ids (the last five digits of a FortiOS logid): the rules whose logid ends
    /// with them or equals them, merged with the text-only rules.
    cef: HashMap<u64, Vec<usize>, WordBuild>,
    /// Rules with no event id, tried on every line of their formats.
    text_only: Vec<usize>,
    /// One bit per (digit count, last three digits) of every key of `cef`: most lines carry
    /// an id no rule lists, and this rejects nearly all of them before the id is read whole.
    endings: Vec<[u64; 16]>,
    /// The text of every key of `cef`.
    names: Vec<(u64, String)>,
}

/// Returns the digit count and the value of the last three digits (fewer for shorter ids) of an id,
/// or `None` when the id is too long or ends in a non-digit.
fn ending(id: &[u8]) -> Option<(usize, usize)> {
    let length = id.len();
    if length == 0 || length > 17 {
        return None;
    }
    let mut value = 0;
    for &byte in &id[length.saturating_sub(3)..] {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + usize::from(digit);
    }
    Some((length, value))
}

impl IdIndex {
    /// Builds the index from each rule's event ids, in table order.
    pub(super) fn new<'r>(rules: impl Iterator<Item = &'r [String]>) -> IdIndex {
        let rules_ids: Vec<&[String]> = rules.collect();
        let mut index = IdIndex::default();
        let mut exact: HashMap<u64, Vec<usize>, WordBuild> = HashMap::default();
        let mut cef: HashMap<u64, Vec<usize>, WordBuild> = HashMap::default();
        for (position, ids) in rules_ids.iter().enumerate() {
            if ids.is_empty() {
                index.text_only.push(position);
            }
            for id in ids.iter() {
                let Some(key) = id_key(id.as_bytes()) else {
                    continue;
                };
                exact.entry(key).or_default().push(position);
                cef.entry(key).or_default().push(position);
                index.names.push((key, id.clone()));
                if id.len() == 10 {
                    if let Some(suffix) = id_key(&id.as_bytes()[5..]) {
                        cef.entry(suffix).or_default().push(position);
                        index.names.push((suffix, id[5..].to_owned()));
                    }
                }
            }
        }
        let merge = |mut list: Vec<usize>, text_only: &[usize]| {
            list.extend_from_slice(text_only);
            list.sort_unstable();
            list.dedup();
            list
        };
        index.exact = exact
            .into_iter()
            .map(|(key, list)| (key, merge(list, &index.text_only)))
            .collect();
        index.cef = cef
            .into_iter()
            .map(|(key, list)| (key, merge(list, &index.text_only)))
            .collect();
        index.names.sort_unstable();
        index.names.dedup();
        index.endings = vec![[0; 16]; 18];
        for ids in &rules_ids {
            for id in ids.iter() {
                let bytes = id.as_bytes();
                let suffix = if bytes.len() == 10 {
                    &bytes[5..]
                } else {
                    bytes
                };
                for id in [bytes, suffix] {
                    if let Some((length, value)) = ending(id) {
                        index.endings[length][value / 64] |= 1 << (value % 64);
                    }
                }
            }
        }
        index
    }

    /// Returns every id any rule can match (exact ids and CEF signature ids), with its key.
    pub(super) fn keys(&self) -> impl Iterator<Item = (u64, String)> + '_ {
        self.names.iter().map(|(key, name)| (*key, name.clone()))
    }

    /// Returns whether some rule lists `id`, exactly or as a CEF signature id.
    #[inline]
    pub(super) fn knows(&self, id: &[u8]) -> bool {
        let Some((length, value)) = ending(id) else {
            return false;
        };
        self.endings[length][value / 64] & (1 << (value % 64)) != 0
            && id_key(id).is_some_and(|key| self.cef.contains_key(&key))
    }

    /// Returns the rules that can match a line with event id `id`, in table order.
    pub(super) fn candidates(&self, id: Option<&[u8]>, cef: bool) -> &[usize] {
        let map = if cef { &self.cef } else { &self.exact };
        id.and_then(id_key)
            .and_then(|key| map.get(&key))
            .map_or(self.text_only.as_slice(), Vec::as_slice)
    }
}

/// Most fields the table resolves in one pass; rules naming more distinct fields read the
/// rest with a search of the record.
pub(super) const MAX_SLOTS: usize = 32;

/// Source of a value that a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldRef {
    /// The syslog header host name.
    Hostname,
    /// The line's message.
    Message,
    /// A field resolved in the one pass.
    Slot(usize),
    /// A field beyond [`MAX_SLOTS`], searched by its name (index into the names).
    Named(usize),
}

/// The distinct field names the rules read, grouped by length for the one-pass lookup.
#[derive(Debug, Clone, Default)]
pub(super) struct FieldTable {
    names: Vec<String>,
    /// `by_length[n]`: (name, slot) of the slotted names of `n` bytes.
    by_length: Vec<Vec<(Box<[u8]>, usize)>>,
}

impl FieldTable {
    /// Returns the reference for `name`, adding it to the table when new.
    pub(super) fn reference(&mut self, name: &str) -> FieldRef {
        match name {
            super::HOSTNAME_FIELD => return FieldRef::Hostname,
            super::MESSAGE_FIELD => return FieldRef::Message,
            _ => {}
        }
        let position = match self.names.iter().position(|known| known == name) {
            Some(position) => position,
            None => {
                self.names.push(name.to_owned());
                let position = self.names.len() - 1;
                if position < MAX_SLOTS {
                    let length = name.len();
                    if self.by_length.len() <= length {
                        self.by_length.resize(length + 1, Vec::new());
                    }
                    self.by_length[length].push((name.as_bytes().into(), position));
                }
                position
            }
        };
        if position < MAX_SLOTS {
            FieldRef::Slot(position)
        } else {
            FieldRef::Named(position)
        }
    }

    /// Reads the first occurrence of every slotted field of `record` in one pass into
    /// `resolved` (filled in place: it is too large to return by value on every line).
    pub(super) fn resolve<'a>(&self, record: &Record<'a>, resolved: &mut Resolved<'a>) {
        resolved.values = [None; MAX_SLOTS];
        record.for_each_field(|key, value| {
            let Some(candidates) = self.by_length.get(key.len()) else {
                return;
            };
            for (name, slot) in candidates {
                // Names of one length are few; the first byte settles most comparisons.
                if name.first() == key.first() && **name == *key {
                    let entry = &mut resolved.values[*slot];
                    if entry.is_none() {
                        *entry = Some(value);
                    }
                    return;
                }
            }
        });
    }

    /// Reads a field through its reference.
    pub(super) fn value<'a>(
        &self,
        reference: FieldRef,
        record: &Record<'a>,
        resolved: &Resolved<'a>,
    ) -> Option<Value<'a>> {
        match reference {
            FieldRef::Hostname => record.header().hostname,
            FieldRef::Message => record.msg(),
            FieldRef::Slot(slot) => resolved.values[slot],
            FieldRef::Named(position) => record.field(&self.names[position]),
        }
    }
}

/// The slotted fields of one record.
pub(super) struct Resolved<'a> {
    values: [Option<Value<'a>>; MAX_SLOTS],
}

impl Resolved<'_> {
    /// Returns an empty set of values.
    pub(super) fn new() -> Self {
        Resolved {
            values: [None; MAX_SLOTS],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_keys_keep_leading_zeros_apart() {
        assert_ne!(id_key(b"0100032160"), id_key(b"100032160"));
        assert_eq!(id_key(b"20002"), id_key(b"20002"));
        assert_eq!(id_key(b"2000a"), None);
        assert_eq!(id_key(b""), None);
        assert_eq!(id_key(b"123456789012345678"), None);
        assert!(id_key(b"99999999999999999").is_some());
    }

    #[test]
    fn candidates_merge_text_rules_in_table_order() {
        let rules: Vec<Vec<String>> = vec![
            vec![],
            vec!["20002".into()],
            vec!["0102043008".into()],
            vec![],
            vec!["20002".into(), "20001".into()],
        ];
        let index = IdIndex::new(rules.iter().map(Vec::as_slice));
        assert_eq!(index.candidates(Some(b"20002"), false), &[0, 1, 3, 4]);
        assert_eq!(index.candidates(Some(b"20001"), false), &[0, 3, 4]);
        assert_eq!(index.candidates(Some(b"43008"), false), &[0, 3]);
        assert_eq!(index.candidates(Some(b"43008"), true), &[0, 2, 3]);
        assert_eq!(index.candidates(Some(b"0102043008"), true), &[0, 2, 3]);
        assert_eq!(index.candidates(None, false), &[0, 3]);
        assert!(index.knows(b"43008"));
        assert!(!index.knows(b"99999"));
        // Same digit count and ending as a listed id, but not listed.
        assert!(!index.knows(b"0000043008"));
        assert!(!index.knows(b"2x002"));
    }
}
