//! Archived log input for `pushwatch replay`: files (plain or gzip, detected by their magic
//! bytes) and stdin, read as LF-delimited lines with a length limit.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

/// The two bytes that open every gzip member (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Size of the read buffer of each input.
const READ_BUFFER_BYTES: usize = 256 << 10;

/// One line as read from an input.
#[derive(Debug, Default, Clone)]
pub struct Line {
    /// The line without its LF, cut to the length limit.
    pub bytes: Vec<u8>,
    /// True when the line was longer than the limit and was cut.
    pub truncated: bool,
}

/// An input file or stdin, read line by line.
pub struct LineInput {
    name: String,
    reader: Box<dyn BufRead + Send>,
    max_line_bytes: usize,
    size: Option<u64>,
}

impl std::fmt::Debug for LineInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineInput")
            .field("name", &self.name)
            .field("max_line_bytes", &self.max_line_bytes)
            .finish_non_exhaustive()
    }
}

impl LineInput {
    /// Opens `path` (`-` is stdin) and detects gzip by its magic bytes. Raw bytes read from the
    /// file (compressed bytes for gzip) are added to `bytes_read`, for progress reporting.
    pub fn open(
        path: &Path,
        max_line_bytes: usize,
        bytes_read: Arc<AtomicU64>,
    ) -> io::Result<Self> {
        let (name, raw, size): (String, Box<dyn Read + Send>, Option<u64>) =
            if path.as_os_str() == "-" {
                ("stdin".to_string(), Box::new(io::stdin()), None)
            } else {
                let file = File::open(path).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot open {}: {error}", path.display()),
                    )
                })?;
                let size = file.metadata().ok().map(|meta| meta.len());
                (path.display().to_string(), Box::new(file), size)
            };
        let counted = Box::new(CountingReader {
            inner: raw,
            count: bytes_read,
        });
        let (gzip, raw) = detect_gzip(counted).map_err(|error| {
            io::Error::new(error.kind(), format!("cannot read {name}: {error}"))
        })?;
        let reader: Box<dyn BufRead + Send> = if gzip {
            let compressed = BufReader::with_capacity(READ_BUFFER_BYTES, raw);
            Box::new(BufReader::with_capacity(
                READ_BUFFER_BYTES,
                MultiGzDecoder::new(compressed),
            ))
        } else {
            Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, raw))
        };
        Ok(LineInput {
            name,
            reader,
            max_line_bytes: max_line_bytes.max(1),
            size,
        })
    }

    /// Returns the file name, or `stdin`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the file size in bytes (compressed size for gzip); `None` for stdin.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Reads the next non-empty line into `line`. Returns false at the end of the input.
    ///
    /// Trailing CR, LF and NUL bytes and a leading UTF-8 byte order mark are removed, as the
    /// parser's framing does for network frames. The limit counts the bytes of the line
    /// before this cleaning, except one CR that ends it, so that a CRLF file has the same
    /// limit as an LF file (as in the parser's framing). A line over the limit keeps its first
    /// `max_line_bytes` bytes. The rest up to the next LF is read and discarded, so memory
    /// stays bounded whatever the input.
    pub fn read_line(&mut self, line: &mut Line) -> io::Result<bool> {
        loop {
            line.bytes.clear();
            line.truncated = false;
            let mut saw_any = false;
            // Bytes past the limit, and the last of them: a lone CR there is only the line end.
            let mut excess = 0;
            let mut last_excess = 0;
            loop {
                let available = match self.reader.fill_buf() {
                    Ok(available) => available,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => {
                        return Err(io::Error::new(
                            error.kind(),
                            format!("cannot read {}: {error}", self.name),
                        ))
                    }
                };
                if available.is_empty() {
                    break;
                }
                saw_any = true;
                let (take, found_lf) = match memchr::memchr(b'\n', available) {
                    Some(position) => (position + 1, true),
                    None => (available.len(), false),
                };
                let room = self.max_line_bytes.saturating_sub(line.bytes.len());
                let content = if found_lf { take - 1 } else { take };
                if content > room {
                    excess += content - room;
                    last_excess = available[content - 1];
                }
                line.bytes
                    .extend_from_slice(&available[..content.min(room)]);
                self.reader.consume(take);
                if found_lf {
                    break;
                }
            }
            if !saw_any {
                return Ok(false);
            }
            line.truncated = excess > 1 || (excess == 1 && last_excess != b'\r');
            clean_in_place(&mut line.bytes);
            if !line.bytes.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// Removes trailing CR, LF and NUL bytes and a leading UTF-8 byte order mark.
fn clean_in_place(bytes: &mut Vec<u8>) {
    let kept = pushwatch_parser::clean(bytes);
    if kept.len() != bytes.len() {
        let start = kept.as_ptr() as usize - bytes.as_ptr() as usize;
        let end = start + kept.len();
        bytes.truncate(end);
        bytes.drain(..start);
    }
}

/// Reads the first two bytes of `reader` and returns whether they are the gzip magic, with a
/// reader that yields every byte again from the start.
fn detect_gzip(mut reader: Box<dyn Read + Send>) -> io::Result<(bool, Box<dyn Read + Send>)> {
    let mut prefix = [0u8; 2];
    let mut filled = 0;
    while filled < prefix.len() {
        match reader.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    let gzip = filled == prefix.len() && prefix == GZIP_MAGIC;
    let replayed = io::Cursor::new(prefix[..filled].to_vec()).chain(reader);
    Ok((gzip, Box::new(replayed)))
}

/// A reader that adds the bytes it returns to a shared counter.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    count: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Opens every path, rejecting `-` more than once.
pub fn open_all(
    paths: &[PathBuf],
    max_line_bytes: usize,
    bytes_read: &Arc<AtomicU64>,
) -> anyhow::Result<Vec<LineInput>> {
    let stdin_count = paths.iter().filter(|path| path.as_os_str() == "-").count();
    if stdin_count > 1 {
        anyhow::bail!("stdin (`-`) is named {stdin_count} times; it can be read only once");
    }
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        inputs.push(LineInput::open(
            path,
            max_line_bytes,
            Arc::clone(bytes_read),
        )?);
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn lines_of(path: &Path, max: usize) -> Vec<(String, bool)> {
        let counter = Arc::new(AtomicU64::new(0));
        let mut input = LineInput::open(path, max, Arc::clone(&counter)).expect("open input");
        let mut line = Line::default();
        let mut out = Vec::new();
        while input.read_line(&mut line).expect("read line") {
            out.push((
                String::from_utf8_lossy(&line.bytes).into_owned(),
                line.truncated,
            ));
        }
        assert_eq!(
            counter.load(Ordering::Relaxed),
            std::fs::metadata(path).expect("metadata").len(),
            "every byte of the file is counted"
        );
        out
    }

    const TEXT: &[u8] = b"\xEF\xBB\xBFone\r\n\nsecond\x00\nthird-is-long\nlast without lf";

    fn expected() -> Vec<(String, bool)> {
        vec![
            ("one".to_string(), false),
            ("second".to_string(), false),
            ("third-is".to_string(), true),
            ("last wit".to_string(), true),
        ]
    }

    #[test]
    fn plain_file_lines_cleaned_and_cut() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("plain.log");
        std::fs::write(&path, TEXT).expect("write file");
        assert_eq!(lines_of(&path, 8), expected());
    }

    #[test]
    fn gzip_detected_by_magic() {
        let dir = tempfile::tempdir().expect("temporary directory");
        // The name does not end in .gz: detection must not rely on it.
        let path = dir.path().join("compressed.log");
        let file = File::create(&path).expect("create file");
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        encoder.write_all(&TEXT[..20]).expect("write first member");
        let file = encoder.finish().expect("finish first member");
        // A second gzip member, as `cat a.gz b.gz` produces.
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        encoder.write_all(&TEXT[20..]).expect("write second member");
        encoder.finish().expect("finish second member");
        assert_eq!(lines_of(&path, 8), expected());
    }

    #[test]
    fn crlf_line_at_the_limit_is_whole() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("crlf.log");
        let text = b"abcdefgh\r\nabcdefghi\r\nabcdefgh9\nabcdefgh\r9\nabcdefgh\r";
        std::fs::write(&path, text).expect("write file");
        assert_eq!(
            lines_of(&path, 8),
            vec![
                ("abcdefgh".to_string(), false),
                ("abcdefgh".to_string(), true),
                ("abcdefgh".to_string(), true),
                ("abcdefgh".to_string(), true),
                ("abcdefgh".to_string(), false),
            ]
        );
    }

    #[test]
    fn empty_file_has_no_lines() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("empty.log");
        std::fs::write(&path, b"").expect("write file");
        assert!(lines_of(&path, 8).is_empty());
    }

    #[test]
    fn one_byte_file_is_plain() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("one.log");
        std::fs::write(&path, [0x1f]).expect("write file");
        assert_eq!(lines_of(&path, 8), vec![("\u{1f}".to_string(), false)]);
    }

    #[test]
    fn missing_file_names_path() {
        let counter = Arc::new(AtomicU64::new(0));
        let error =
            LineInput::open(Path::new("/nonexistent/x.log"), 8, counter).expect_err("missing file");
        assert!(error.to_string().contains("/nonexistent/x.log"), "{error}");
    }

    #[test]
    fn stdin_twice_is_rejected() {
        let counter = Arc::new(AtomicU64::new(0));
        let paths = vec![PathBuf::from("-"), PathBuf::from("-")];
        let error = open_all(&paths, 8, &counter).expect_err("stdin twice");
        assert!(error.to_string().contains("only once"), "{error}");
    }
}
