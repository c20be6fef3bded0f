//! FNV-1a hashing for the per-line lookups (event ids, source names): keys are short, come
//! from the configuration or a handful of devices, and SipHash's flooding resistance buys
//! nothing there while costing a measurable share of the per-line time.

use std::hash::{BuildHasherDefault, Hasher};

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Builds [`FnvHasher`]s for `HashMap` and `HashSet`.
pub type FnvBuild = BuildHasherDefault<FnvHasher>;
