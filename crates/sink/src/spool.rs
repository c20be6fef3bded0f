//! The append-only spool file that keeps records the Kafka broker has not acknowledged.
//!
//! Layout: a 16-byte header (`PWSPOOL1` and a 64-bit generation), then frames. A frame is
//! `b"PW"`, the body length (u32 LE), the CRC-32 of the body (u32 LE) and the body, so a torn
//! tail after a crash, or a damaged region, is detected at open, skipped and counted.
//!
//! Acknowledged records are not removed one by one. A side file (`<spool>.acked`) stores the
//! offset below which every record is acknowledged. The spool is truncated when everything is
//! acknowledged, and rewritten without its acknowledged prefix when that prefix grows large.
//! Offsets kept in memory are logical: they grow forever and do not change when the file is
//! truncated or rewritten.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::progress::Seq;
use crate::{OutRecord, Stream};

const FILE_MAGIC: &[u8; 8] = b"PWSPOOL1";
const HEADER_LEN: u64 = 16;
const FRAME_MAGIC: &[u8; 2] = b"PW";
const FRAME_HEADER_LEN: u64 = 10;
const BODY_VERSION: u8 = 1;
/// Largest body the reader accepts; a larger length field means the frame is damaged.
const MAX_BODY_LEN: u32 = 64 << 20;
const ACK_MAGIC: &[u8; 8] = b"PWACKED1";
const ACK_LEN: usize = 28;
/// Minimum time between two writes of the side file.
const ACK_WRITE_INTERVAL: Duration = Duration::from_millis(200);
/// An acknowledged prefix at least this large, and at least half the file, is compacted away.
const COMPACT_MIN_BYTES: u64 = 16 << 20;

/// Position of a record in the spool, as logical offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpoolPos {
    start: u64,
    end: u64,
}

/// Result of checking the spool at open.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OpenReport {
    /// Unacknowledged records found.
    pub(crate) records: u64,
    /// Damaged regions skipped (a torn tail counts as one).
    pub(crate) damaged_regions: u64,
    /// Bytes in those regions.
    pub(crate) damaged_bytes: u64,
}

/// Errors of the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The spool file could not be opened, read or written.
    #[error("spool file {}: {source}", path.display())]
    Io {
        /// The spool file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file exists but is not a spool.
    #[error(
        "file {} is not a pushwatch spool (its header does not start with PWSPOOL1); \
         move it away or choose another spool path",
        path.display()
    )]
    NotASpool {
        /// The file.
        path: PathBuf,
    },
}

/// The spool file and the bookkeeping of which of its records are read and acknowledged.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    ack_path: PathBuf,
    file: File,
    generation: u64,
    /// Logical offset of physical offset 0.
    shift: u64,
    /// Logical end of the last frame.
    len: u64,
    /// Logical offset of the next frame to read.
    read_pos: u64,
    /// Every frame below this logical offset is acknowledged.
    acked_through: u64,
    /// Acknowledged frames above `acked_through`, by start offset.
    acked_ahead: BTreeMap<u64, u64>,
    /// Sequence numbers of the unread frames, in file order.
    unread_seqs: VecDeque<Seq>,
    unacked_records: u64,
    max_bytes: u64,
    compact_min_bytes: u64,
    ack_dirty: bool,
    ack_written: Instant,
    sync_pending: bool,
}

impl Spool {
    /// Opens or creates the spool at `path`, skips damaged regions and numbers the
    /// unacknowledged records from `first_seq` on.
    // NOTE: nothing locks the file (`File::try_lock` needs Rust 1.89, above this workspace's
    // minimum), so two processes configured with the same path damage each other's records.
    pub(crate) fn open(
        path: &Path,
        max_bytes: u64,
        first_seq: Seq,
    ) -> Result<(Spool, OpenReport), SpoolError> {
        let io_error = |source| SpoolError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error)?;
        let file_len = file.metadata().map_err(io_error)?.len();

        let mut ack_path = path.as_os_str().to_owned();
        ack_path.push(".acked");
        let mut spool = Spool {
            path: path.to_path_buf(),
            ack_path: PathBuf::from(ack_path),
            file,
            generation: 0,
            shift: 0,
            len: HEADER_LEN,
            read_pos: HEADER_LEN,
            acked_through: HEADER_LEN,
            acked_ahead: BTreeMap::new(),
            unread_seqs: VecDeque::new(),
            unacked_records: 0,
            max_bytes,
            compact_min_bytes: COMPACT_MIN_BYTES,
            ack_dirty: false,
            ack_written: Instant::now(),
            sync_pending: false,
        };

        if file_len < HEADER_LEN {
            spool.generation = new_generation();
            spool.write_header().map_err(io_error)?;
            return Ok((spool, OpenReport::default()));
        }

        let mut header = [0u8; HEADER_LEN as usize];
        spool.file.read_exact_at(&mut header, 0).map_err(io_error)?;
        if &header[..8] != FILE_MAGIC {
            return Err(SpoolError::NotASpool {
                path: path.to_path_buf(),
            });
        }
        spool.generation = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());

        let start = spool
            .read_ack_file()
            .filter(|&offset| (HEADER_LEN..=file_len).contains(&offset))
            .unwrap_or(HEADER_LEN);
        let report = spool.scan(start, file_len, first_seq).map_err(io_error)?;
        Ok((spool, report))
    }

    /// Validates the frames from `start` to `file_len`, truncates a torn tail and rewrites the
    /// file when a damaged region sits between good frames.
    fn scan(&mut self, start: u64, file_len: u64, first_seq: Seq) -> io::Result<OpenReport> {
        let mut report = OpenReport::default();
        let mut frames = Vec::new();
        let mut pos = start;
        while pos < file_len {
            if let Some(end) = self.check_frame(pos, file_len)? {
                frames.push((pos, end));
                pos = end;
                continue;
            }
            report.damaged_regions += 1;
            match self.find_next_frame(pos + 1, file_len)? {
                Some(next) => {
                    report.damaged_bytes += next - pos;
                    pos = next;
                }
                None => {
                    report.damaged_bytes += file_len - pos;
                    break;
                }
            }
        }
        report.records = frames.len() as u64;

        // Frames that do not follow each other without a gap mean a damaged region between
        // good frames: the file is rewritten with the good frames only. Damage after the last
        // good frame is a torn tail and is cut off.
        let damaged_inside = frames.windows(2).any(|pair| pair[0].1 != pair[1].0)
            || frames.first().is_some_and(|&(first, _)| first != start);
        let good_end = frames.last().map_or(start, |&(_, end)| end);
        if damaged_inside {
            self.rewrite_fresh(frames.iter().copied(), &[])?;
        } else {
            if good_end < file_len {
                self.file.set_len(good_end)?;
            }
            self.shift = 0;
            self.len = good_end;
            self.read_pos = start;
            self.acked_through = start;
        }
        self.unread_seqs = (first_seq..first_seq + report.records).collect();
        self.unacked_records = report.records;
        Ok(report)
    }

    /// Returns the end of the frame at physical `pos` if it is whole and its checksum matches.
    fn check_frame(&self, pos: u64, file_len: u64) -> io::Result<Option<u64>> {
        if file_len - pos < FRAME_HEADER_LEN {
            return Ok(None);
        }
        let mut header = [0u8; FRAME_HEADER_LEN as usize];
        self.file.read_exact_at(&mut header, pos)?;
        let Some((body_len, crc)) = parse_frame_header(&header) else {
            return Ok(None);
        };
        let end = pos + FRAME_HEADER_LEN + u64::from(body_len);
        if end > file_len {
            return Ok(None);
        }
        let mut body = vec![0u8; body_len as usize];
        self.file.read_exact_at(&mut body, pos + FRAME_HEADER_LEN)?;
        if crc32fast::hash(&body) != crc || decode_body(&body).is_none() {
            return Ok(None);
        }
        Ok(Some(end))
    }

    /// Finds the next valid frame at or after physical `from`.
    fn find_next_frame(&self, from: u64, file_len: u64) -> io::Result<Option<u64>> {
        let mut rest = vec![0u8; (file_len - from) as usize];
        self.file.read_exact_at(&mut rest, from)?;
        for (index, pair) in rest.windows(2).enumerate() {
            let candidate = from + index as u64;
            if pair == FRAME_MAGIC && self.check_frame(candidate, file_len)?.is_some() {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    /// Returns whether the file has records that are not yet read into memory.
    pub(crate) fn has_unread(&self) -> bool {
        !self.unread_seqs.is_empty()
    }

    /// Physical size of the file in bytes.
    pub(crate) fn file_bytes(&self) -> u64 {
        self.len - self.shift
    }

    /// Records in the file that are not yet acknowledged.
    pub(crate) fn unacked_records(&self) -> u64 {
        self.unacked_records
    }

    /// Appends a record; returns `Ok(false)` without writing when the file would grow past
    /// its maximum size.
    pub(crate) fn append(&mut self, seq: Seq, record: &OutRecord) -> io::Result<bool> {
        let frame = encode_frame(record);
        if self.file_bytes() + frame.len() as u64 > self.max_bytes {
            return Ok(false);
        }
        self.file.write_all_at(&frame, self.len - self.shift)?;
        self.len += frame.len() as u64;
        self.unread_seqs.push_back(seq);
        self.unacked_records += 1;
        self.sync_pending = true;
        Ok(true)
    }

    /// Reads the next unread record with its sequence number and position.
    pub(crate) fn read_next(&mut self) -> io::Result<Option<(Seq, OutRecord, SpoolPos)>> {
        let Some(&seq) = self.unread_seqs.front() else {
            return Ok(None);
        };
        let physical = self.read_pos - self.shift;
        let mut header = [0u8; FRAME_HEADER_LEN as usize];
        self.file.read_exact_at(&mut header, physical)?;
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let (body_len, crc) =
            parse_frame_header(&header).ok_or_else(|| invalid("damaged frame header"))?;
        let mut body = vec![0u8; body_len as usize];
        self.file
            .read_exact_at(&mut body, physical + FRAME_HEADER_LEN)?;
        if crc32fast::hash(&body) != crc {
            return Err(invalid("frame checksum mismatch"));
        }
        let record = decode_body(&body).ok_or_else(|| invalid("undecodable frame body"))?;
        let pos = SpoolPos {
            start: self.read_pos,
            end: self.read_pos + FRAME_HEADER_LEN + u64::from(body_len),
        };
        self.read_pos = pos.end;
        self.unread_seqs.pop_front();
        Ok(Some((seq, record, pos)))
    }

    /// Gives up the unread records (after a read failure) and returns their sequence numbers.
    /// They count as acknowledged, so a restart does not read them again.
    pub(crate) fn discard_unread(&mut self) -> Vec<Seq> {
        let seqs: Vec<Seq> = self.unread_seqs.drain(..).collect();
        if self.read_pos < self.len {
            self.acked_ahead.insert(self.read_pos, self.len);
            self.read_pos = self.len;
        }
        self.unacked_records = self.unacked_records.saturating_sub(seqs.len() as u64);
        if self.acked_through == self.read_pos {
            self.ack_dirty = true;
        }
        seqs
    }

    /// Marks the record at `pos` acknowledged (or given up), so it is not sent again.
    pub(crate) fn ack(&mut self, pos: SpoolPos) {
        if pos.start < self.acked_through {
            return;
        }
        self.unacked_records = self.unacked_records.saturating_sub(1);
        if pos.start != self.acked_through {
            self.acked_ahead.insert(pos.start, pos.end);
            return;
        }
        self.acked_through = pos.end;
        while let Some(end) = self.acked_ahead.remove(&self.acked_through) {
            self.acked_through = end;
        }
        self.ack_dirty = true;
    }

    /// Syncs appended frames to disk, records acknowledgement progress and shrinks the file
    /// when its acknowledged prefix allows. Cheap when there is nothing to do.
    pub(crate) fn maintain(&mut self, force: bool) -> io::Result<()> {
        if self.sync_pending {
            self.file.sync_data()?;
            self.sync_pending = false;
        }
        if self.acked_through == self.len && self.len > HEADER_LEN + self.shift {
            // Everything is acknowledged: mark the file empty first, so that a crash between
            // the two steps sends the records again rather than skipping new ones.
            self.write_ack_file(HEADER_LEN)?;
            self.file.set_len(HEADER_LEN)?;
            self.shift = self.len - HEADER_LEN;
            self.ack_dirty = false;
            return Ok(());
        }
        let acked_bytes = self.acked_through - self.shift - HEADER_LEN;
        if acked_bytes >= self.compact_min_bytes && acked_bytes * 2 >= self.file_bytes() {
            return self.compact();
        }
        if self.ack_dirty && (force || self.ack_written.elapsed() >= ACK_WRITE_INTERVAL) {
            self.write_ack_file(self.acked_through - self.shift)?;
            self.ack_dirty = false;
        }
        Ok(())
    }

    /// Rewrites the spool for shutdown: first `records` (held in memory, in order), then the
    /// unread part of the file. Acknowledged and in-memory frames of the old file are dropped.
    pub(crate) fn rewrite_for_close(&mut self, records: &[(Seq, &OutRecord)]) -> io::Result<()> {
        let frames: Vec<Vec<u8>> = records
            .iter()
            .map(|(_, record)| encode_frame(record))
            .collect();
        let unread = (self.read_pos - self.shift, self.len - self.shift);
        self.rewrite_fresh(std::iter::once(unread), &frames)?;
        let mut seqs: VecDeque<Seq> = records.iter().map(|(seq, _)| *seq).collect();
        seqs.append(&mut self.unread_seqs);
        self.unacked_records = seqs.len() as u64;
        self.unread_seqs = seqs;
        Ok(())
    }

    /// Replaces the file with one made of `prefix` frames and the physical byte ranges `ranges`
    /// of the current file, all unread and unacknowledged. The unread sequence numbers stay as
    /// they are, so the caller must keep them matching the new file.
    fn rewrite_fresh(
        &mut self,
        ranges: impl Iterator<Item = (u64, u64)>,
        prefix: &[Vec<u8>],
    ) -> io::Result<()> {
        let written = self.write_new_file(ranges, prefix)?;
        // The new file starts after every logical offset used so far, so the position of a
        // record still in memory can never be mistaken for a position in the new file.
        self.shift = self.len.max(self.read_pos);
        self.len = self.shift + written;
        self.read_pos = self.shift + HEADER_LEN;
        self.acked_through = self.read_pos;
        self.acked_ahead.clear();
        self.write_ack_file(HEADER_LEN)
    }

    /// Drops the acknowledged prefix from the file. Logical offsets keep their meaning, so the
    /// positions of records in memory stay valid.
    fn compact(&mut self) -> io::Result<()> {
        let from = self.acked_through - self.shift;
        let to = self.len - self.shift;
        self.write_new_file(std::iter::once((from, to)), &[])?;
        self.shift = self.acked_through - HEADER_LEN;
        self.write_ack_file(HEADER_LEN)
    }

    /// Writes a new file with a new generation: `prefix` frames, then the physical byte ranges
    /// `ranges` of the current file. It replaces the current file by rename, so a crash leaves
    /// either the old or the new file. Returns the new file's length.
    fn write_new_file(
        &mut self,
        ranges: impl Iterator<Item = (u64, u64)>,
        prefix: &[Vec<u8>],
    ) -> io::Result<u64> {
        let mut temp_path = self.path.as_os_str().to_owned();
        temp_path.push(".tmp");
        let temp_path = PathBuf::from(temp_path);
        let generation = new_generation();

        let mut temp = File::create(&temp_path)?;
        temp.write_all(FILE_MAGIC)?;
        temp.write_all(&generation.to_le_bytes())?;
        let mut written = HEADER_LEN;
        for frame in prefix {
            temp.write_all(frame)?;
            written += frame.len() as u64;
        }
        let mut buffer = vec![0u8; 1 << 20];
        for (from, to) in ranges {
            let mut pos = from;
            while pos < to {
                let chunk = usize::try_from(to - pos).map_or(buffer.len(), |n| n.min(buffer.len()));
                self.file.read_exact_at(&mut buffer[..chunk], pos)?;
                temp.write_all(&buffer[..chunk])?;
                pos += chunk as u64;
            }
            written += to - from;
        }
        temp.sync_all()?;
        drop(temp);

        std::fs::rename(&temp_path, &self.path)?;
        self.file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        self.generation = generation;
        self.ack_dirty = false;
        self.sync_pending = false;
        Ok(written)
    }

    fn write_header(&mut self) -> io::Result<()> {
        let mut header = Vec::with_capacity(HEADER_LEN as usize);
        header.extend_from_slice(FILE_MAGIC);
        header.extend_from_slice(&self.generation.to_le_bytes());
        self.file.set_len(0)?;
        self.file.write_all_at(&header, 0)?;
        self.file.sync_all()
    }

    fn read_ack_file(&self) -> Option<u64> {
        let bytes = std::fs::read(&self.ack_path).ok()?;
        if bytes.len() != ACK_LEN || &bytes[..8] != ACK_MAGIC {
            return None;
        }
        let crc = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
        if crc32fast::hash(&bytes[..24]) != crc {
            return None;
        }
        let generation = u64::from_le_bytes(bytes[8..16].try_into().ok()?);
        if generation != self.generation {
            return None;
        }
        Some(u64::from_le_bytes(bytes[16..24].try_into().ok()?))
    }

    /// Writes the side file atomically (temporary file, then rename).
    fn write_ack_file(&mut self, physical_offset: u64) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(ACK_LEN);
        bytes.extend_from_slice(ACK_MAGIC);
        bytes.extend_from_slice(&self.generation.to_le_bytes());
        bytes.extend_from_slice(&physical_offset.to_le_bytes());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let mut temp_path = self.ack_path.as_os_str().to_owned();
        temp_path.push(".tmp");
        std::fs::write(&temp_path, &bytes)?;
        std::fs::rename(&temp_path, &self.ack_path)?;
        self.ack_written = Instant::now();
        Ok(())
    }
}

fn new_generation() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn parse_frame_header(header: &[u8; FRAME_HEADER_LEN as usize]) -> Option<(u32, u32)> {
    if &header[..2] != FRAME_MAGIC {
        return None;
    }
    let body_len = u32::from_le_bytes(header[2..6].try_into().ok()?);
    let crc = u32::from_le_bytes(header[6..10].try_into().ok()?);
    (body_len <= MAX_BODY_LEN).then_some((body_len, crc))
}

fn encode_frame(record: &OutRecord) -> Vec<u8> {
    let fields: [&[u8]; 4] = [
        record.key.as_bytes(),
        record.id.as_bytes(),
        record.ce_type.as_bytes(),
        &record.payload,
    ];
    let body_len = 14 + fields.iter().map(|field| 4 + field.len()).sum::<usize>();
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN as usize + body_len);
    frame.extend_from_slice(FRAME_MAGIC);
    frame.extend_from_slice(&[0; 8]);
    frame.push(BODY_VERSION);
    frame.push(record.stream.code());
    frame.extend_from_slice(&record.time.timestamp().to_le_bytes());
    frame.extend_from_slice(&record.time.timestamp_subsec_nanos().to_le_bytes());
    for field in fields {
        frame.extend_from_slice(&(field.len() as u32).to_le_bytes());
        frame.extend_from_slice(field);
    }
    let body = &frame[FRAME_HEADER_LEN as usize..];
    let body_len = body.len() as u32;
    let crc = crc32fast::hash(body);
    frame[2..6].copy_from_slice(&body_len.to_le_bytes());
    frame[6..10].copy_from_slice(&crc.to_le_bytes());
    frame
}

fn decode_body(body: &[u8]) -> Option<OutRecord> {
    let mut reader = Reader { rest: body };
    if reader.take(1)? != [BODY_VERSION] {
        return None;
    }
    let stream = Stream::from_code(reader.take(1)?[0])?;
    let seconds = i64::from_le_bytes(reader.take(8)?.try_into().ok()?);
    let nanos = u32::from_le_bytes(reader.take(4)?.try_into().ok()?);
    let time = DateTime::<Utc>::from_timestamp(seconds, nanos)?;
    let key = String::from_utf8(reader.field()?.to_vec()).ok()?;
    let id = String::from_utf8(reader.field()?.to_vec()).ok()?;
    let ce_type = String::from_utf8(reader.field()?.to_vec()).ok()?;
    let payload = reader.field()?.to_vec();
    if !reader.rest.is_empty() {
        return None;
    }
    Some(OutRecord {
        stream,
        key,
        id,
        time,
        ce_type,
        payload,
    })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.rest.len() < count {
            return None;
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Some(head)
    }

    fn field(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        self.take(usize::try_from(len).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record(index: u32) -> OutRecord {
        OutRecord {
            stream: Stream::ALL[index as usize % 3],
            key: format!("push_silence|site:{index}"),
            id: format!("id-{index}"),
            time: Utc.timestamp_opt(1_700_000_000, index * 1000).unwrap(),
            ce_type: "io.pushwatch.finding.opened".to_string(),
            payload: format!(r#"{{"index":{index}}}"#).into_bytes(),
        }
    }

    fn read_all(spool: &mut Spool) -> Vec<(Seq, OutRecord, SpoolPos)> {
        let mut out = Vec::new();
        while let Some(item) = spool.read_next().unwrap() {
            out.push(item);
        }
        out
    }

    fn open(path: &Path, first_seq: Seq) -> (Spool, OpenReport) {
        Spool::open(path, 1 << 30, first_seq).unwrap()
    }

    #[test]
    fn append_then_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, report) = open(&dir.path().join("spool"), 1);
        assert_eq!(report, OpenReport::default());
        for index in 0..3 {
            assert!(spool.append(10 + u64::from(index), &record(index)).unwrap());
        }
        assert!(spool.has_unread());
        let items = read_all(&mut spool);
        let seqs: Vec<Seq> = items.iter().map(|item| item.0).collect();
        assert_eq!(seqs, [10, 11, 12]);
        for (index, item) in items.iter().enumerate() {
            assert_eq!(item.1, record(index as u32));
        }
        assert!(!spool.has_unread());
        assert_eq!(spool.unacked_records(), 3);
    }

    #[test]
    fn reopen_renumbers_unacked_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        for index in 0..3 {
            spool
                .append(100 + u64::from(index), &record(index))
                .unwrap();
        }
        spool.maintain(true).unwrap();
        drop(spool);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 3);
        assert_eq!(report.damaged_regions, 0);
        let items = read_all(&mut spool);
        let seqs: Vec<Seq> = items.iter().map(|item| item.0).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(items[2].1, record(2));
    }

    #[test]
    fn acked_prefix_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        for index in 0..3 {
            spool.append(u64::from(index) + 1, &record(index)).unwrap();
        }
        let items = read_all(&mut spool);
        // Acknowledged out of order: the second, then the first.
        spool.ack(items[1].2);
        spool.maintain(true).unwrap();
        spool.ack(items[0].2);
        spool.maintain(true).unwrap();
        assert_eq!(spool.unacked_records(), 1);
        drop(spool);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 1);
        let items = read_all(&mut spool);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].1, record(2));
    }

    #[test]
    fn fully_acked_spool_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        for index in 0..2 {
            spool.append(u64::from(index) + 1, &record(index)).unwrap();
        }
        for item in read_all(&mut spool) {
            spool.ack(item.2);
        }
        spool.maintain(false).unwrap();
        assert_eq!(spool.file_bytes(), HEADER_LEN);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), HEADER_LEN);
        // Appending after the truncation starts a clean file again.
        spool.append(3, &record(7)).unwrap();
        spool.maintain(true).unwrap();
        drop(spool);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 1);
        assert_eq!(read_all(&mut spool)[0].1, record(7));
    }

    #[test]
    fn torn_tail_is_cut_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        for index in 0..3 {
            spool.append(u64::from(index) + 1, &record(index)).unwrap();
        }
        let full = spool.file_bytes();
        drop(spool);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(full - 5).unwrap();
        drop(file);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 2);
        assert_eq!(report.damaged_regions, 1);
        assert!(report.damaged_bytes > 0);
        let items = read_all(&mut spool);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].1, record(1));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), spool.file_bytes());
    }

    #[test]
    fn damaged_middle_record_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        spool.append(1, &record(0)).unwrap();
        let second_start = spool.file_bytes();
        spool.append(2, &record(1)).unwrap();
        spool.append(3, &record(2)).unwrap();
        drop(spool);
        let mut bytes = std::fs::read(&path).unwrap();
        let target = second_start as usize + FRAME_HEADER_LEN as usize + 3;
        bytes[target] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 2);
        assert_eq!(report.damaged_regions, 1);
        let items = read_all(&mut spool);
        let records: Vec<&OutRecord> = items.iter().map(|item| &item.1).collect();
        assert_eq!(records, [&record(0), &record(2)]);
        drop(spool);
        let (_, report) = open(&path, 1);
        assert_eq!(report.damaged_regions, 0, "the rewrite leaves a clean file");
    }

    #[test]
    fn append_stops_at_max_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, _) = Spool::open(&dir.path().join("spool"), 200, 1).unwrap();
        let mut accepted = 0;
        while spool.append(accepted + 1, &record(1)).unwrap() {
            accepted += 1;
        }
        assert!(accepted >= 1);
        assert!(spool.file_bytes() <= 200);
        assert_eq!(spool.unacked_records(), accepted);
    }

    #[test]
    fn compaction_keeps_positions_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        spool.compact_min_bytes = 1;
        for index in 0..6 {
            spool.append(u64::from(index) + 1, &record(index)).unwrap();
        }
        let items: Vec<_> = (0..5)
            .map(|_| spool.read_next().unwrap().unwrap())
            .collect();
        for item in &items[..4] {
            spool.ack(item.2);
        }
        let before = spool.file_bytes();
        spool.maintain(false).unwrap();
        assert!(
            spool.file_bytes() < before,
            "the acknowledged prefix is gone"
        );
        // A record read before the compaction is acknowledged by its old position.
        spool.ack(items[4].2);
        assert_eq!(spool.unacked_records(), 1);
        let rest = read_all(&mut spool);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].1, record(5));
        spool.maintain(true).unwrap();
        drop(spool);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 1);
        assert_eq!(read_all(&mut spool)[0].1, record(5));
    }

    #[test]
    fn close_rewrite_puts_memory_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let (mut spool, _) = open(&path, 1);
        for index in 10..13 {
            spool.append(u64::from(index), &record(index)).unwrap();
        }
        let read = spool.read_next().unwrap().unwrap();
        assert_eq!(read.1, record(10));
        let memory = [record(1), record(2), read.1.clone()];
        let memory: Vec<(Seq, &OutRecord)> = [1, 2, read.0].into_iter().zip(&memory).collect();
        spool.rewrite_for_close(&memory).unwrap();
        assert_eq!(spool.unacked_records(), 5);
        let seqs: Vec<Seq> = read_all(&mut spool).iter().map(|item| item.0).collect();
        assert_eq!(seqs, [1, 2, 10, 11, 12]);
        drop(spool);
        let (mut spool, report) = open(&path, 1);
        assert_eq!(report.records, 5);
        let records: Vec<OutRecord> = read_all(&mut spool).into_iter().map(|i| i.1).collect();
        assert_eq!(
            records,
            [record(1), record(2), record(10), record(11), record(12)]
        );
    }

    #[test]
    fn foreign_file_is_not_a_spool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        std::fs::write(&path, b"this is some other file, long enough").unwrap();
        let error = Spool::open(&path, 1 << 20, 1).unwrap_err();
        assert!(matches!(error, SpoolError::NotASpool { .. }), "{error}");
    }
}
