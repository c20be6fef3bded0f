//! A keyed word-at-a-time hash for the per-line lookups (event ids, source names, user names).
//! Keys are short, so SipHash's cost per key is a measurable share of the per-line time; this
//! hash reads eight bytes per multiply instead. Each process draws its own key, so user names
//! chosen by a remote party cannot be made to collide on purpose as easily as with a fixed
//! hash.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// An odd 64-bit constant with well-mixed bits (the fractional part of pi).
const MULTIPLIER: u64 = 0x243f_6a88_85a3_08d3;

/// Hashes words with a folded 64×64→128-bit multiply.
#[derive(Debug, Clone, Copy)]
pub struct WordHasher {
    state: u64,
}

impl WordHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.state ^ word) * u128::from(MULTIPLIER);
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let product = u128::from(self.state) * u128::from(MULTIPLIER ^ 0xff);
        (product as u64) ^ ((product >> 64) as u64)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length in the top bits keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
}

/// Builds [`WordHasher`]s keyed once per map with a random key.
#[derive(Debug, Clone, Copy)]
pub struct WordBuild {
    key: u64,
}

impl Default for WordBuild {
    fn default() -> Self {
        WordBuild {
            key: RandomState::new().hash_one(0x5eed_u64),
        }
    }
}

impl BuildHasher for WordBuild {
    type Hasher = WordHasher;

    #[inline]
    fn build_hasher(&self) -> WordHasher {
        WordHasher { state: self.key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(build: &WordBuild, bytes: &[u8]) -> u64 {
        build.hash_one(bytes)
    }

    #[test]
    fn equal_keys_hash_equal_and_near_keys_differ() {
        let build = WordBuild::default();
        assert_eq!(hash(&build, b"fgt-hq01"), hash(&build, b"fgt-hq01"));
        let near = [
            &b"fgt-hq01"[..],
            b"fgt-hq02",
            b"fgt-hq0",
            b"fgt-hq01\0",
            b"",
            b"\0",
            b"user0781234567890",
            b"user0781234567891",
        ];
        let mut hashes: Vec<u64> = near.iter().map(|key| hash(&build, key)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), near.len());
    }

    #[test]
    fn maps_draw_their_own_keys() {
        let first = WordBuild::default();
        let second = WordBuild::default();
        assert_ne!(hash(&first, b"alice"), hash(&second, b"alice"));
    }
}
