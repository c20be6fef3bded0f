//! Event-time merge of several inputs for `pushwatch replay`.
//!
//! The merge is a k-way merge on the event time of each input's next line. It keeps exactly
//! one line per input, so memory is bounded by the number of inputs times the line length
//! limit, whatever the file sizes. The limits that follow from this:
//!
//! - Each input must be in event-time order by itself, as archived syslog files are. Lines out
//!   of order inside one input keep their file order; the window engine's allowed lateness then
//!   decides whether they still count.
//! - A line without an event time takes the time of the previous line of the same input (or
//!   sorts first when it opens the input), so it stays next to its neighbours.
//! - Lines with equal times come out in the order of the inputs on the command line.
//!
//! With one input the merge reads straight through and never computes a time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use crate::input::{Line, LineInput};

/// Lines of several inputs, merged by event time.
pub struct Merge<F> {
    inputs: Vec<Slot>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    event_time: F,
    /// Input whose line was returned last and must be refilled before the next pick.
    returned: Option<usize>,
    started: bool,
}

struct Slot {
    input: LineInput,
    line: Line,
    last_time: i64,
}

impl<F> Merge<F>
where
    F: FnMut(&[u8]) -> Option<i64>,
{
    /// Builds a merge over `inputs`. `event_time` returns the event time of a line in any
    /// unit that sorts correctly (the caller's choice), or `None` when the line has none.
    pub fn new(inputs: Vec<LineInput>, event_time: F) -> Self {
        let inputs = inputs
            .into_iter()
            .map(|input| Slot {
                input,
                line: Line::default(),
                last_time: i64::MIN,
            })
            .collect();
        Merge {
            inputs,
            heap: BinaryHeap::new(),
            event_time,
            returned: None,
            started: false,
        }
    }

    /// Returns the next line and the index of its input, or `None` when every input is
    /// exhausted.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, &Line)>> {
        if self.inputs.len() == 1 {
            let slot = &mut self.inputs[0];
            return Ok(slot
                .input
                .read_line(&mut slot.line)?
                .then_some((0, &slot.line)));
        }
        if !self.started {
            self.started = true;
            for index in 0..self.inputs.len() {
                self.refill(index)?;
            }
        }
        if let Some(index) = self.returned.take() {
            self.refill(index)?;
        }
        let Some(Reverse((_, index))) = self.heap.pop() else {
            return Ok(None);
        };
        self.returned = Some(index);
        Ok(Some((index, &self.inputs[index].line)))
    }

    /// Returns the inputs, for names and sizes.
    pub fn inputs(&self) -> impl Iterator<Item = &LineInput> {
        self.inputs.iter().map(|slot| &slot.input)
    }

    fn refill(&mut self, index: usize) -> io::Result<()> {
        let slot = &mut self.inputs[index];
        if slot.input.read_line(&mut slot.line)? {
            let time = (self.event_time)(&slot.line.bytes).unwrap_or(slot.last_time);
            slot.last_time = time;
            self.heap.push(Reverse((time, index)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    use super::*;

    /// Reads the leading number of a line as its time; lines without one have no time.
    fn leading_number(line: &[u8]) -> Option<i64> {
        let digits: String = line
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .map(|&byte| byte as char)
            .collect();
        digits.parse().ok()
    }

    fn merged(files: &[&str]) -> Vec<(usize, String)> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let counter = Arc::new(AtomicU64::new(0));
        let inputs = files
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let path = dir.path().join(format!("{index}.log"));
                std::fs::write(&path, text).expect("write input");
                LineInput::open(Path::new(&path), 1024, Arc::clone(&counter)).expect("open")
            })
            .collect();
        let mut merge = Merge::new(inputs, leading_number);
        let mut out = Vec::new();
        while let Some((index, line)) = merge.next_line().expect("read") {
            out.push((index, String::from_utf8_lossy(&line.bytes).into_owned()));
        }
        out
    }

    #[test]
    fn two_inputs_interleave_by_time() {
        let out = merged(&["1 a\n4 b\n6 c\n", "2 x\n3 y\n7 z\n"]);
        let order: Vec<&str> = out.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(order, ["1 a", "2 x", "3 y", "4 b", "6 c", "7 z"]);
    }

    #[test]
    fn untimed_line_stays_with_neighbour() {
        let out = merged(&["1 a\nno time\n5 b\n", "3 x\n"]);
        let order: Vec<&str> = out.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(order, ["1 a", "no time", "3 x", "5 b"]);
    }

    #[test]
    fn equal_times_follow_input_order() {
        let out = merged(&["5 first\n", "5 second\n", "5 third\n"]);
        let inputs: Vec<usize> = out.iter().map(|(index, _)| *index).collect();
        assert_eq!(inputs, [0, 1, 2]);
    }

    #[test]
    fn disorder_inside_input_keeps_file_order() {
        let out = merged(&["1 a\n9 b\n2 c\n", "5 x\n"]);
        let order: Vec<&str> = out.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(order, ["1 a", "5 x", "9 b", "2 c"]);
    }

    #[test]
    fn single_input_reads_through() {
        let out = merged(&["3 a\n1 b\n"]);
        let order: Vec<&str> = out.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(order, ["3 a", "1 b"]);
    }

    #[test]
    fn empty_inputs_are_skipped() {
        let out = merged(&["", "2 x\n", ""]);
        assert_eq!(out, [(1, "2 x".to_string())]);
    }
}
