//! Shared set-up for the criterion benches.

use pushwatch::gen::{mix, GenOptions};

/// Returns `lines` lines of the throughput mix (`pushwatch gen --scenario mix --seed 1`), LF
/// after each line, as one buffer.
pub fn mix_buffer(lines: u64) -> Vec<u8> {
    let options = GenOptions {
        lines,
        seed: 1,
        side_files: None,
    };
    let mut bytes = Vec::new();
    mix::write(&options, &mut bytes).expect("the mix generator writes to memory");
    bytes
}
