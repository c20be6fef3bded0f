//! `pushwatch parse`: prints what the parser makes of each message, one JSON object per line.
//!
//! Output keys, in this order: `pri`, `facility`, `severity`, `timestamp`, `time_source`,
//! `hostname`, `appname`, `procid`, `msgid`, `structured_data`, `format`, `message`, `fields`,
//! `cef` and `errors`. The `timestamp` is the resolved event time in RFC 3339 UTC.
//! `structured_data` is `{"id":{"param":"value"}}`, `fields` contains the first value of each key,
//! unescaped, in frame order, `cef` the seven CEF header fields and `errors`
//! `[{"kind","offset"}]`. A part the message does not have is `null`; `fields` and `errors`
//! are always present and may be empty. `truncated: true` is added only for a frame that was
//! cut at the length limit. Invalid UTF-8 is printed with U+FFFD in its place.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use pushwatch_parser::{
    parse_offset, parse_rfc3339, CefHeader, Context, Frame, FrameDecoder, FrameStats, FramingMode,
    Parser, Record, Value, DEFAULT_MAX_FRAME_LEN,
};

/// Arguments of `pushwatch parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files, plain or gzip (detected by magic bytes); `-` or none reads stdin.
    pub files: Vec<PathBuf>,
    /// Framing of the input: `lf` (one message per line, the usual form of files), `octet`
    /// (RFC 6587 octet counting, as captured from TCP) or `auto` (octet counting when the first
    /// message starts with a length, else LF).
    #[arg(long, default_value = "lf")]
    pub framing: FramingMode,
    /// Receive time (RFC 3339 with offset): a year-less header time takes the year that puts
    /// it nearest this time, and a line without any time gets this one. Set it to the
    /// archive's date when parsing old files. Default: now.
    #[arg(long)]
    pub receive_time: Option<String>,
    /// Default zone for local times written without one, as `+02:00`, `-0500` or `UTC`.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// Maximum message length in bytes. Longer messages are cut and marked `truncated`.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
    pub max_frame_len: usize,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let receive_time = match &args.receive_time {
        Some(text) => parse_rfc3339(text).with_context(|| {
            format!("invalid --receive-time {text:?}: expected RFC 3339 with offset, such as 2024-05-13T08:00:00Z")
        })?,
        None => Context::now().receive_time,
    };
    let Some(default_offset) = parse_offset(args.timezone.as_bytes()) else {
        bail!(
            "invalid --timezone {:?}: expected an offset such as +02:00, -0500 or UTC",
            args.timezone
        );
    };
    let context = Context::new(receive_time).with_default_offset(default_offset);
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let mut parser = Parser::new();
    let inputs = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    for path in &inputs {
        let reader = open(path)?;
        let mut print = |frame: Frame<'_>| -> io::Result<()> {
            let record = parser.parse(frame.bytes, &context);
            write_record(&mut out, &record, frame.truncated)
        };
        let result = decode(reader, args.framing, args.max_frame_len, &mut print);
        let stats = match result {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                return Ok(ExitCode::SUCCESS)
            }
            other => other.with_context(|| format!("failed to read {}", path.display()))?,
        };
        report_losses(path, &stats, args.max_frame_len);
    }
    match out.flush() {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("failed to write to stdout")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports on stderr what the decoder cut or threw away: messages cut at the length limit,
/// invalid octet-count prefixes and the bytes dropped. Octet framing on an LF file
/// resynchronises at every line and prints nothing, so without this the loss would be silent.
fn report_losses(path: &Path, stats: &FrameStats, max_frame_len: usize) {
    let name = path.display();
    if stats.truncated > 0 {
        eprintln!(
            "pushwatch parse: {name}: messages longer than --max-frame-len ({max_frame_len} \
             bytes) or unfinished at the end of the input: {}, printed cut and marked \
             \"truncated\": true",
            stats.truncated
        );
    }
    if stats.resynced > 0 {
        eprintln!(
            "pushwatch parse: {name}: invalid octet-count prefixes: {}, each skipped to the \
             next LF (is --framing right for this input?)",
            stats.resynced
        );
    }
    if stats.discarded_bytes > 0 {
        eprintln!(
            "pushwatch parse: {name}: {} bytes discarded",
            stats.discarded_bytes
        );
    }
}

/// Opens a file or stdin, decompressing gzip when the first bytes are its magic number.
pub(crate) fn open(path: &PathBuf) -> anyhow::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(path)
            .with_context(|| format!("cannot open input file {}", path.display()))?;
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 16, raw);
    let head = reader
        .fill_buf()
        .with_context(|| format!("failed to read {}", path.display()))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Feeds `reader` through a frame decoder and calls `handle` for each frame.
fn decode(
    mut reader: Box<dyn Read>,
    framing: FramingMode,
    max_frame_len: usize,
    handle: &mut dyn FnMut(Frame<'_>) -> io::Result<()>,
) -> io::Result<FrameStats> {
    let mut decoder = FrameDecoder::new(framing, max_frame_len);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let read = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        decoder.push(&chunk[..read]);
        while let Some(frame) = decoder.next_frame() {
            handle(frame)?;
        }
    }
    decoder.finish();
    while let Some(frame) = decoder.next_frame() {
        handle(frame)?;
    }
    Ok(decoder.stats())
}

fn write_string(out: &mut impl Write, text: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(io::Error::from)
}

fn write_value(out: &mut impl Write, value: Option<Value<'_>>) -> io::Result<()> {
    match value {
        Some(value) => write_string(out, &value.as_str()),
        None => out.write_all(b"null"),
    }
}

/// Writes one record as a JSON object and a newline.
pub(crate) fn write_record(
    out: &mut impl Write,
    record: &Record<'_>,
    truncated: bool,
) -> io::Result<()> {
    write_header(out, record)?;
    write!(
        out,
        ",\"format\":\"{}\",\"message\":",
        record.format().as_str()
    )?;
    write_value(out, record.message())?;
    write_fields(out, record)?;

    out.write_all(b",\"cef\":")?;
    match record.cef() {
        Some(cef) => write_cef(out, cef)?,
        None => out.write_all(b"null")?,
    }

    out.write_all(b",\"errors\":[")?;
    for (index, error) in record.errors().iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        write!(
            out,
            "{{\"kind\":\"{}\",\"offset\":{}}}",
            error.kind.as_str(),
            error.offset
        )?;
    }
    out.write_all(b"]")?;
    if truncated {
        out.write_all(b",\"truncated\":true")?;
    }
    out.write_all(b"}\n")
}

/// Writes `{` and the priority, event time and syslog header keys.
fn write_header(out: &mut impl Write, record: &Record<'_>) -> io::Result<()> {
    match record.pri() {
        Some(pri) => write!(
            out,
            "{{\"pri\":{},\"facility\":\"{}\",\"severity\":\"{}\"",
            pri.value(),
            pri.facility_name(),
            pri.severity_name()
        )?,
        None => out.write_all(b"{\"pri\":null,\"facility\":null,\"severity\":null")?,
    }
    let time = record.time();
    write!(
        out,
        ",\"timestamp\":\"{}\",\"time_source\":\"{}\"",
        time.to_rfc3339(),
        time.source.as_str()
    )?;

    let header = record.header();
    for (name, value) in [
        ("hostname", header.hostname),
        ("appname", header.appname),
        ("procid", header.procid),
        ("msgid", header.msgid),
    ] {
        write!(out, ",\"{name}\":")?;
        write_value(out, value)?;
    }
    out.write_all(b",\"structured_data\":")?;
    if header.structured_data.is_some() {
        write_structured_data(out, record)
    } else {
        out.write_all(b"null")
    }
}

/// Writes the seven CEF header fields as an object.
fn write_cef(out: &mut impl Write, cef: &CefHeader<'_>) -> io::Result<()> {
    let fields = [
        ("version", cef.version),
        ("device_vendor", cef.device_vendor),
        ("device_product", cef.device_product),
        ("device_version", cef.device_version),
        ("signature_id", cef.signature_id),
        ("name", cef.name),
        ("severity", cef.severity),
    ];
    for (index, (name, value)) in fields.into_iter().enumerate() {
        out.write_all(if index == 0 { b"{" } else { b"," })?;
        write!(out, "\"{name}\":")?;
        write_value(out, value)?;
    }
    out.write_all(b"}")
}

/// Writes `"fields":{…}` keeping the first value of each key, in frame order.
fn write_fields(out: &mut impl Write, record: &Record<'_>) -> io::Result<()> {
    out.write_all(b",\"fields\":{")?;
    let mut first = true;
    for (index, field) in record.fields().enumerate() {
        let repeated = record
            .fields()
            .take(index)
            .any(|earlier| earlier.key == field.key);
        if repeated {
            continue;
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write_string(out, field.key)?;
        out.write_all(b":")?;
        write_string(out, &field.value.as_str())?;
    }
    out.write_all(b"}")
}

/// Writes structured data as `{"id":{"param":"value"}}`; the first of repeated names wins.
fn write_structured_data(out: &mut impl Write, record: &Record<'_>) -> io::Result<()> {
    let mut map = serde_json::Map::new();
    for element in record.structured_data() {
        let mut params = serde_json::Map::new();
        for (name, value) in element.params() {
            params
                .entry(name.as_str().into_owned())
                .or_insert_with(|| value.as_str().into_owned().into());
        }
        map.entry(element.id.as_str().into_owned())
            .or_insert(params.into());
    }
    serde_json::to_writer(&mut *out, &map).map_err(io::Error::from)
}
