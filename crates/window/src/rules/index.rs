//! Lookup structures that keep classification cheap: event ids as integers, the rules that
//! can match each id, and the fields every rule reads, found in one pass over a record.

use std::collections::HashMap;

use pushwatch_parser::{Record, Value};

use crate::hash::WordBuild;

/// Returns an event id (`20002`, `0102043008`) as an integer that keeps its digit count, so that
/// `0100032160` and `100032160` stay distinct. Ids longer than 17 digits have no key.
pub(super) fn id_key(id: &[u8]) -> Option<u64> {
    if id.is_empty() || id.len() > MAX_ID_DIGITS {
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
    /// One bit per (digit count, last three bytes) of every key of `cef` (see [`ending_bit`]).
    /// Most lines carry an id no rule lists, and this rejects nearly all of them before the id
    /// is read whole.
    endings: [[u64; 16]; MAX_ID_DIGITS + 1],
    /// The text of every key of `cef`.
    names: Vec<(u64, String)>,
    /// The fast-path facts of every key of `cef`.
    known: HashMap<u64, KnownId, WordBuild>,
}

/// Fast-path facts about an event id that some rule lists, exactly or as a CEF signature
/// id.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct KnownId {
    /// Per format (by `format_slot`), the rule that a line of that format with this id
    /// matches whatever its other fields hold, when that rule's signal is only counted.
    pub(super) settled: [Option<usize>; 5],
}

/// Maximum length of an event id with a key (see [`id_key`]).
const MAX_ID_DIGITS: usize = 17;

/// Returns the row (the id's length) and the bit of `id` in the endings filter, or `None`
/// when the id is empty or longer than [`MAX_ID_DIGITS`]. The bit is the value of the last
/// three digits (missing leading digits count as `0`). The bytes are not checked for digits:
/// other bytes only land on some bit, and a set bit is always confirmed by the exact lookup.
#[inline]
fn ending_bit(id: &[u8]) -> Option<(usize, usize)> {
    let length = id.len();
    let last_three = match id.get(length.wrapping_sub(3)..) {
        Some(&[hundreds, tens, ones]) if length <= MAX_ID_DIGITS => [hundreds, tens, ones],
        _ => return short_ending_bit(id),
    };
    Some((length, ending_value(last_three)))
}

/// [`ending_bit`] of ids shorter than three bytes (and of those too long to have a bit).
#[cold]
fn short_ending_bit(id: &[u8]) -> Option<(usize, usize)> {
    match *id {
        [ones] => Some((1, ending_value([b'0', b'0', ones]))),
        [tens, ones] => Some((2, ending_value([b'0', tens, ones]))),
        _ => None,
    }
}

/// Returns the value of three decimal digits, or some value below 1024 for other bytes.
#[inline]
fn ending_value([hundreds, tens, ones]: [u8; 3]) -> usize {
    let value = usize::from(hundreds) * 100 + usize::from(tens) * 10 + usize::from(ones);
    value.wrapping_sub(usize::from(b'0') * 111) & 1023
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
        for (key, name) in &index.names {
            index.known.insert(*key, KnownId::default());
            if let Some((row, bit)) = ending_bit(name.as_bytes()) {
                index.endings[row][bit / 64] |= 1 << (bit % 64);
            }
        }
        index
    }

    /// Returns every id any rule can match (exact ids and CEF signature ids), with its key.
    pub(super) fn keys(&self) -> impl Iterator<Item = (u64, String)> + '_ {
        self.names.iter().map(|(key, name)| (*key, name.clone()))
    }

    /// Returns the fast-path facts about `id`, or `None` when no rule lists it, exactly or as
    /// a CEF signature id.
    #[inline(always)]
    pub(super) fn lookup(&self, id: &[u8]) -> Option<&KnownId> {
        let (row, bit) = ending_bit(id)?;
        if self.endings[row][bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        self.lookup_exact(id)
    }

    /// Looks `id` up in the table behind the endings filter of [`IdIndex::lookup`]. It is
    /// kept out of line because few ids reach it.
    #[inline(never)]
    fn lookup_exact(&self, id: &[u8]) -> Option<&KnownId> {
        self.known.get(&id_key(id)?)
    }

    /// Records that lines of format `slot` with the id of `key` match rule `position`
    /// whatever their other fields hold. Keys no rule lists are ignored.
    pub(super) fn settle(&mut self, key: u64, slot: usize, position: usize) {
        if let Some(known) = self.known.get_mut(&key) {
            known.settled[slot] = Some(position);
        }
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

/// Buckets of the field-name hash table: a power of two well above the number of names the
/// built-in rules read (18), so that most keys of a line land in an empty bucket.
const BUCKETS: usize = 64;

/// Returns the bucket of a non-empty field name, from its first and last byte and its length.
#[inline]
fn bucket(first: u8, last: u8, length: usize) -> usize {
    (usize::from(first) * 31 + usize::from(last) * 7 + length) % BUCKETS
}

/// A slotted name in the hash table of [`FieldTable`].
#[derive(Debug, Clone)]
struct SlotName {
    name: Box<[u8]>,
    slot: u8,
    /// The next name of the same bucket, as its index in `slotted` plus one (0 ends the chain).
    next: u8,
}

/// The distinct field names the rules read, in a small chained hash table for the one-pass
/// lookup.
#[derive(Debug, Clone)]
pub(super) struct FieldTable {
    names: Vec<String>,
    /// Per bucket, the first name of the chain as its index in `slotted` plus one (0: empty).
    heads: [u8; BUCKETS],
    /// The names with a slot (the first [`MAX_SLOTS`] names).
    slotted: Vec<SlotName>,
}

impl Default for FieldTable {
    fn default() -> Self {
        FieldTable {
            names: Vec::new(),
            heads: [0; BUCKETS],
            slotted: Vec::new(),
        }
    }
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
                let bytes = name.as_bytes();
                // An empty name matches no key, so it needs no slot.
                if let (true, Some(&first), Some(&last)) =
                    (position < MAX_SLOTS, bytes.first(), bytes.last())
                {
                    let head = &mut self.heads[bucket(first, last, bytes.len())];
                    self.slotted.push(SlotName {
                        name: bytes.into(),
                        slot: position as u8,
                        next: *head,
                    });
                    *head = self.slotted.len() as u8;
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
    /// `resolved`, which must be fresh from [`Resolved::new`] (it is filled in place because
    /// it is too large to return by value on every line).
    pub(super) fn resolve<'a>(&self, record: &Record<'a>, resolved: &mut Resolved<'a>) {
        record.for_each_field(|key, value| {
            let (Some(&first), Some(&last)) = (key.first(), key.last()) else {
                return;
            };
            let mut next = self.heads[bucket(first, last, key.len())];
            while next != 0 {
                let entry = &self.slotted[usize::from(next - 1)];
                if *entry.name == *key {
                    let found = &mut resolved.values[usize::from(entry.slot)];
                    if found.is_none() {
                        *found = Some(value);
                    } else {
                        resolved.repeated = true;
                    }
                    return;
                }
                next = entry.next;
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
    /// Whether some slotted field occurs more than once in the record.
    pub(super) repeated: bool,
}

impl Resolved<'_> {
    /// Returns an empty set of values.
    pub(super) fn new() -> Self {
        Resolved {
            values: [None; MAX_SLOTS],
            repeated: false,
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
        assert!(index.lookup(b"43008").is_some());
        assert!(index.lookup(b"99999").is_none());
        // Same digit count and ending as a listed id, but not listed.
        assert!(index.lookup(b"0000043008").is_none());
        assert!(index.lookup(b"2x002").is_none());
    }

    #[test]
    fn lookup_finds_every_listed_id() {
        let ids = ["7", "42", "20002", "0102043008", "99999999999999999"];
        let rules: Vec<Vec<String>> = ids.iter().map(|id| vec![(*id).to_owned()]).collect();
        let index = IdIndex::new(rules.iter().map(Vec::as_slice));
        for id in ids {
            assert!(index.lookup(id.as_bytes()).is_some(), "{id}");
        }
        // The CEF signature id of the 10-digit id.
        assert!(index.lookup(b"43008").is_some());
        // Same last digits, other lengths.
        assert!(index.lookup(b"07").is_none());
        assert!(index.lookup(b"042").is_none());
        assert!(index.lookup(b"120002").is_none());
        assert!(index.lookup(b"").is_none());
        assert!(index.lookup(b"999999999999999999").is_none());
    }

    #[test]
    fn lookup_rejects_non_digits_on_a_set_bit() {
        let rules = [vec!["20002".to_owned()]];
        let index = IdIndex::new(rules.iter().map(Vec::as_slice));
        // Same length and last three bytes as a listed id, so the filter lets it through.
        assert_eq!(ending_bit(b"2a002"), ending_bit(b"20002"));
        assert!(index.lookup(b"2a002").is_none());
    }

    #[test]
    fn settle_records_the_rule_per_format() {
        let rules = [vec!["0102043008".to_owned()]];
        let mut index = IdIndex::new(rules.iter().map(Vec::as_slice));
        let key = id_key(b"43008").expect("digits");
        index.settle(key, 3, 0);
        index.settle(id_key(b"55555").expect("digits"), 0, 0);
        let settled = |id: &[u8]| index.lookup(id).map(|known| known.settled);
        assert_eq!(settled(b"43008"), Some([None, None, None, Some(0), None]));
        assert_eq!(settled(b"0102043008"), Some([None; 5]));
        assert_eq!(settled(b"55555"), None);
    }

    /// Resolves the fields of `table` in `record`, as raw bytes by slot.
    fn resolved<'a>(
        table: &FieldTable,
        record: &pushwatch_parser::Record<'a>,
    ) -> Vec<Option<&'a [u8]>> {
        let mut resolved = Resolved::new();
        table.resolve(record, &mut resolved);
        resolved
            .values
            .iter()
            .map(|value| value.map(|value| value.raw()))
            .collect()
    }

    #[test]
    fn field_table_resolves_names_of_one_bucket() {
        let mut table = FieldTable::default();
        // Same first byte, last byte and length, so the same bucket.
        let names = ["ab_z", "axxz", "a__z"];
        let references: Vec<FieldRef> = names.iter().map(|name| table.reference(name)).collect();
        assert_eq!(
            references,
            [FieldRef::Slot(0), FieldRef::Slot(1), FieldRef::Slot(2)]
        );
        assert_eq!(table.reference("axxz"), FieldRef::Slot(1));
        let line = b"a__z=3 other=x axxz=2 ab_z=1 axxz=late abcz=no";
        let mut parser = pushwatch_parser::Parser::new();
        let record = parser.parse(line, &pushwatch_parser::Context::new(0));
        let values = resolved(&table, &record);
        assert_eq!(values[0], Some(&b"1"[..]));
        // The first occurrence wins.
        assert_eq!(values[1], Some(&b"2"[..]));
        assert_eq!(values[2], Some(&b"3"[..]));
        assert!(values[3..].iter().all(Option::is_none));
    }

    #[test]
    fn field_table_names_past_the_slots() {
        let mut table = FieldTable::default();
        for slot in 0..MAX_SLOTS {
            assert_eq!(table.reference(&format!("f{slot}")), FieldRef::Slot(slot));
        }
        assert_eq!(table.reference("late"), FieldRef::Named(MAX_SLOTS));
        assert_eq!(
            table.reference(super::super::HOSTNAME_FIELD),
            FieldRef::Hostname
        );
        assert_eq!(
            table.reference(super::super::MESSAGE_FIELD),
            FieldRef::Message
        );
        let line = b"late=yes f0=zero f31=last";
        let mut parser = pushwatch_parser::Parser::new();
        let record = parser.parse(line, &pushwatch_parser::Context::new(0));
        let values = resolved(&table, &record);
        assert_eq!(values[0], Some(&b"zero"[..]));
        assert_eq!(values[31], Some(&b"last"[..]));
        let mut filled = Resolved::new();
        table.resolve(&record, &mut filled);
        let late = table.value(FieldRef::Named(MAX_SLOTS), &record, &filled);
        assert_eq!(late.map(|value| value.raw()), Some(&b"yes"[..]));
    }
}
