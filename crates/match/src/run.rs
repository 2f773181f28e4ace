//! The engine: reads inputs in chunks of whole lines, matches chunks on every core, and hands
//! hits to a [`HitSink`] in input order.
//!
//! One reader thread decompresses and cuts each input into chunks of about
//! [`RunOptions::chunk_bytes`], ending at a newline; worker threads parse and match chunks;
//! the calling thread puts results back in order and feeds the sink. Memory stays bounded
//! whatever the input size: the reader needs a ticket for every chunk it sends, and a ticket
//! comes back only when the chunk's result has been delivered, so at most
//! `4 × threads + 4` chunks exist at once. Line numbers are counted by the workers within
//! their chunk and made absolute on delivery, so the reader never scans for newlines except
//! at a chunk's end. For Zeek TSV the reader also looks for header lines (`\n#`, one SIMD
//! search per chunk) and starts a new chunk where the columns change.
//!
//! A damaged input (a gzip checksum that fails, a zstd frame cut short, a read error) loses
//! nothing that came before the damage: every whole line read up to it is matched, a line
//! the damage cut short is reported as malformed, and the input's report says where reading
//! stopped and why ([`InputReport::error`]), so every output can say the input is incomplete.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use crate::error::InputError;
use crate::event_time::EventTime;
use crate::index::{Index, IndicatorId, Lookup, Matcher};
use crate::input::{
    Format, HeaderUpdate, Input, LineOut, Schema, SchemaKind, apply_header_block, open_stream,
    zeek_json_schema,
};

/// Malformed lines kept per input with their number and reason; the rest are only counted.
pub const MAX_REPORTED_MALFORMED: usize = 100;

const OVERLONG: &str =
    "the line is longer than the longest line allowed (RunOptions::max_line_bytes)";

/// Bytes asked of a decompressor per read, the same whatever the chunk size. A decompressor
/// that fails mid-stream drops what it decoded in the failing read, so how much is asked at
/// once decides which lines before the damage come out: a fixed size makes them the same for
/// every chunk size and thread count, and a small one loses little. (Plain bytes lose nothing
/// that way and are read a chunk at a time, straight past the sniffing buffer.)
const READ_BYTES: usize = 16 * 1024;

const CUT_SHORT: &str = "the line is cut short where the input is damaged; it was not matched";

/// How a run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// The size a chunk is cut at (then extended to the end of its last line).
    pub chunk_bytes: usize,
    /// Lines longer than this are skipped and reported as malformed.
    pub max_line_bytes: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            chunk_bytes: 1 << 20,
            max_line_bytes: 16 << 20,
        }
    }
}

/// One value in one line that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Which input (position in the list given to [`run`]).
    pub input: usize,
    /// Line number in that input, from 1, counting header and blank lines.
    pub line: u64,
    /// The column (or `text` for plain lines).
    pub field: String,
    /// The observed value in normal form.
    pub value: String,
    /// The indicators it matches, by id.
    pub indicators: Vec<IndicatorId>,
    /// When the logged event happened, if the line says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<EventTime>,
    /// Every address on the line, in order, without repeats: they tell whose network it was.
    pub hosts: Vec<IpAddr>,
}

/// Receives hits, in input order.
pub trait HitSink {
    /// Takes one hit.
    fn hit(&mut self, hit: &Hit);
}

impl HitSink for Vec<Hit> {
    fn hit(&mut self, hit: &Hit) {
        self.push(hit.clone());
    }
}

impl<A: HitSink, B: HitSink> HitSink for (A, B) {
    fn hit(&mut self, hit: &Hit) {
        self.0.hit(hit);
        self.1.hit(hit);
    }
}

impl<S: HitSink + ?Sized> HitSink for &mut S {
    fn hit(&mut self, hit: &Hit) {
        (**self).hit(hit);
    }
}

/// Counts hits and drops them, for benchmarks and dry runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CountHits(pub u64);

impl HitSink for CountHits {
    fn hit(&mut self, _: &Hit) {
        self.0 += 1;
    }
}

/// A line that couldn't be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedLine {
    /// Its number, from 1.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputReport {
    /// The input's name.
    pub name: String,
    /// The format read (after detection).
    pub format: &'static str,
    /// Lines read.
    pub lines: u64,
    /// Bytes read, after decompression: every line's, those too long to read included.
    pub bytes: u64,
    /// Hits delivered.
    pub hits: u64,
    /// Matches the allow-list suppressed.
    pub suppressed: u64,
    /// Lines that couldn't be read.
    pub malformed: u64,
    /// The first of them.
    pub malformed_lines: Vec<MalformedLine>,
    /// Why reading stopped before the input's end, if it did: the input is damaged or
    /// unreadable, and whatever it holds after that point was not matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl InputReport {
    /// Whether the input was read to its end.
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Worker threads used.
    pub threads: usize,
    /// One report per input, in input order.
    pub inputs: Vec<InputReport>,
}

impl RunReport {
    /// Lines read in all inputs.
    pub fn lines(&self) -> u64 {
        self.inputs.iter().map(|i| i.lines).sum()
    }

    /// Bytes read in all inputs, after decompression.
    pub fn bytes(&self) -> u64 {
        self.inputs.iter().map(|i| i.bytes).sum()
    }

    /// Hits in all inputs.
    pub fn hits(&self) -> u64 {
        self.inputs.iter().map(|i| i.hits).sum()
    }

    /// Malformed lines in all inputs.
    pub fn malformed(&self) -> u64 {
        self.inputs.iter().map(|i| i.malformed).sum()
    }

    /// The inputs that could not be read to their end.
    pub fn incomplete(&self) -> impl Iterator<Item = &InputReport> {
        self.inputs.iter().filter(|i| !i.is_complete())
    }
}

/// Matches `inputs` against `index` on `options.threads` threads and feeds `sink` every hit,
/// ordered by input, line and column. Nothing in the inputs stops the run: malformed lines
/// are counted, and an input that fails to read is matched up to the failure, reported, and
/// the next one read.
pub fn run(
    index: &Index,
    inputs: Vec<Input>,
    options: &RunOptions,
    sink: &mut dyn HitSink,
) -> RunReport {
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let mut reports: Vec<InputReport> = inputs
        .iter()
        .map(|input| InputReport {
            name: input.name.clone(),
            format: crate::input::format_name(&input.format),
            lines: 0,
            bytes: 0,
            hits: 0,
            suppressed: 0,
            malformed: 0,
            malformed_lines: Vec::new(),
            error: None,
        })
        .collect();
    let tickets = 4 * threads + 4;
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(threads);
    let work_rx = Mutex::new(work_rx);
    let (result_tx, result_rx) = mpsc::channel::<Msg>();
    let (ticket_tx, ticket_rx) = mpsc::sync_channel::<()>(tickets);
    for _ in 0..tickets {
        ticket_tx
            .send(())
            .expect("the channel has room for every ticket");
    }
    let (recycle_tx, recycle_rx) = mpsc::sync_channel::<Vec<u8>>(tickets);

    std::thread::scope(|scope| {
        let reader_results = result_tx.clone();
        let reader_options = options.clone();
        scope.spawn(move || {
            let mut reader = Reader {
                options: reader_options,
                work: work_tx,
                notes: reader_results,
                tickets: ticket_rx,
                recycled: recycle_rx,
                seq: 0,
            };
            for (i, input) in inputs.into_iter().enumerate() {
                if reader.read_input(i, input).is_err() {
                    // The run is shutting down: nobody takes chunks any more.
                    break;
                }
            }
        });
        for _ in 0..threads {
            let results = result_tx.clone();
            let recycle = recycle_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || work_loop(index, work_rx, &results, &recycle));
        }
        drop(result_tx);
        drop(recycle_tx);
        collect(&result_rx, &ticket_tx, &mut reports, sink);
    });
    RunReport {
        threads,
        inputs: reports,
    }
}

/// A chunk of whole lines for a worker.
struct Work {
    seq: u64,
    input: usize,
    schema: Arc<Schema>,
    data: Vec<u8>,
    /// The CSV header line, to be counted but not read as a record.
    skip_first_line: bool,
    /// Longer lines are malformed.
    max_line: usize,
}

/// What the collector puts in order.
struct Msg {
    seq: u64,
    input: usize,
    body: Body,
}

enum Body {
    Chunk(ChunkResult),
    Format(&'static str),
    Overlong,
    /// The last line of a damaged input, cut short by the damage.
    CutShort,
    /// The input's end, with the bytes it held after decompression.
    End {
        bytes: u64,
    },
    /// Reading stopped early; formatted on delivery, when the lines before it are counted.
    Failed(InputError),
}

struct ChunkResult {
    lines: u64,
    hits: Vec<LocalHit>,
    suppressed: u64,
    malformed: u64,
    malformed_lines: Vec<(u64, String)>,
}

/// A hit with its line number within its chunk.
struct LocalHit {
    line: u64,
    field: String,
    value: String,
    indicators: Vec<IndicatorId>,
    time: Option<EventTime>,
    hosts: Vec<IpAddr>,
}

/// The reader's side: turns inputs into chunks.
struct Reader {
    options: RunOptions,
    work: SyncSender<Work>,
    notes: Sender<Msg>,
    tickets: Receiver<()>,
    recycled: Receiver<Vec<u8>>,
    seq: u64,
}

/// The collector or the workers are gone.
struct Closed;

impl Reader {
    fn next_seq(&mut self) -> Result<u64, Closed> {
        self.tickets.recv().map_err(|_| Closed)?;
        let seq = self.seq;
        self.seq += 1;
        Ok(seq)
    }

    fn note(&mut self, input: usize, body: Body) -> Result<(), Closed> {
        let seq = self.next_seq()?;
        self.notes
            .send(Msg { seq, input, body })
            .map_err(|_| Closed)
    }

    fn send(
        &mut self,
        input: usize,
        schema: &Arc<Schema>,
        data: Vec<u8>,
        skip_first_line: bool,
    ) -> Result<(), Closed> {
        let seq = self.next_seq()?;
        self.work
            .send(Work {
                seq,
                input,
                schema: Arc::clone(schema),
                data,
                skip_first_line,
                max_line: self.options.max_line_bytes,
            })
            .map_err(|_| Closed)
    }

    fn buffer(&self) -> Vec<u8> {
        self.recycled.try_recv().unwrap_or_default()
    }

    fn read_input(&mut self, i: usize, input: Input) -> Result<(), Closed> {
        let Input {
            name,
            reader,
            mut format,
        } = input;
        let (reader, compressed) = match open_stream(reader) {
            Ok(opened) => opened,
            Err(source) => {
                let e = InputError::Read {
                    name,
                    bytes: 0,
                    lines: 0,
                    source,
                };
                return self.note(i, Body::Failed(e));
            }
        };
        let mut chunker = Chunker::new(
            reader,
            compressed,
            self.options.chunk_bytes,
            self.options.max_line_bytes,
        );
        let mut schema: Option<Arc<Schema>> = None;
        loop {
            let buf = self.buffer();
            let data = match chunker.next(buf) {
                Piece::End => {
                    let bytes = chunker.bytes;
                    return self.note(i, Body::End { bytes });
                }
                Piece::Failed(source) => {
                    let e = InputError::Read {
                        name,
                        bytes: chunker.bytes,
                        lines: 0,
                        source,
                    };
                    self.note(
                        i,
                        Body::End {
                            bytes: chunker.bytes,
                        },
                    )?;
                    return self.note(i, Body::Failed(e));
                }
                Piece::Overlong => {
                    self.note(i, Body::Overlong)?;
                    continue;
                }
                Piece::CutShort => {
                    self.note(i, Body::CutShort)?;
                    continue;
                }
                Piece::Lines(data) => data,
            };
            let mut skip_first_line = false;
            let schema = match &mut schema {
                Some(schema) => schema,
                None => {
                    if format == Format::Auto {
                        format = crate::input::detect(&data);
                    }
                    self.note(i, Body::Format(crate::input::format_name(&format)))?;
                    let first = match &format {
                        Format::ZeekTsv | Format::Auto => {
                            Schema::empty(SchemaKind::ZeekTsv(crate::input::TsvSyntax::default()))
                        }
                        Format::ZeekJson => zeek_json_schema(),
                        Format::Plain => Schema::plain(),
                        Format::Csv(mapping) => {
                            let end = memchr::memchr(b'\n', &data).map_or(data.len(), |n| n + 1);
                            match crate::input::csv_schema(mapping, &data[..end], &name) {
                                Ok(schema) => {
                                    skip_first_line = true;
                                    schema
                                }
                                Err(e) => {
                                    self.note(
                                        i,
                                        Body::End {
                                            bytes: chunker.bytes,
                                        },
                                    )?;
                                    return self.note(i, Body::Failed(e));
                                }
                            }
                        }
                    };
                    schema.insert(Arc::new(first))
                }
            };
            if matches!(schema.kind, SchemaKind::ZeekTsv(_)) {
                self.send_tsv(i, schema, data)?;
            } else {
                let schema = Arc::clone(schema);
                self.send(i, &schema, data, skip_first_line)?;
            }
        }
    }

    /// Sends a Zeek TSV chunk, cut wherever a header block changes the columns.
    fn send_tsv(
        &mut self,
        i: usize,
        schema: &mut Arc<Schema>,
        data: Vec<u8>,
    ) -> Result<(), Closed> {
        let mut piece_start = 0;
        let mut at = 0;
        loop {
            let header = if data.get(at) == Some(&b'#') && (at == 0 || data[at - 1] == b'\n') {
                Some(at)
            } else {
                memchr::memmem::find(&data[at..], b"\n#").map(|n| at + n + 1)
            };
            let Some(header) = header else { break };
            let mut next = (**schema).clone();
            let mut update = HeaderUpdate::default();
            apply_header_block(&data[header..], &mut next, &mut update);
            if update.changed {
                if header > piece_start {
                    let before = data[piece_start..header].to_vec();
                    self.send(i, &Arc::clone(schema), before, false)?;
                    piece_start = header;
                }
                *schema = Arc::new(next);
            }
            at = header + update.bytes.max(1);
        }
        let rest = if piece_start == 0 {
            data
        } else {
            data[piece_start..].to_vec()
        };
        let schema = Arc::clone(schema);
        self.send(i, &schema, rest, false)
    }
}

/// Cuts a byte stream into chunks of whole lines.
struct Chunker {
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    eof: bool,
    /// Why the stream ended early, once it has; handed out after the lines read before it.
    failure: Option<io::Error>,
    /// Inside a line too long to keep: drop bytes up to its newline.
    skipping: bool,
    target: usize,
    max_line: usize,
    /// Bytes read from the (decompressed) stream so far.
    bytes: u64,
    /// Whether the stream is a decompressor's, read [`READ_BYTES`] at a time.
    compressed: bool,
}

enum Piece {
    Lines(Vec<u8>),
    Overlong,
    /// The partial line a damaged stream ended in (dropped: matching half a value could
    /// report a hit the log never held).
    CutShort,
    /// The stream failed; every whole line before the failure was handed out first.
    Failed(io::Error),
    End,
}

impl Chunker {
    fn new(reader: Box<dyn Read + Send>, compressed: bool, target: usize, max_line: usize) -> Self {
        Self {
            reader,
            compressed,
            carry: Vec::new(),
            eof: false,
            failure: None,
            skipping: false,
            target: target.max(1),
            max_line: max_line.max(target.max(1)),
            bytes: 0,
        }
    }

    fn next(&mut self, mut buf: Vec<u8>) -> Piece {
        buf.clear();
        buf.append(&mut self.carry);
        loop {
            if self.skipping {
                match memchr::memchr(b'\n', &buf) {
                    Some(nl) => {
                        buf.drain(..=nl);
                        self.skipping = false;
                    }
                    None => buf.clear(),
                }
            }
            if !self.skipping && (buf.len() >= self.target || self.eof) {
                if let Some(nl) = memchr::memrchr(b'\n', &buf) {
                    self.carry.extend_from_slice(&buf[nl + 1..]);
                    buf.truncate(nl + 1);
                    return Piece::Lines(buf);
                }
                if self.eof {
                    return match (buf.is_empty(), &self.failure) {
                        (false, None) => Piece::Lines(buf),
                        (false, Some(_)) => Piece::CutShort,
                        (true, _) => self.failure.take().map_or(Piece::End, Piece::Failed),
                    };
                }
                if buf.len() >= self.max_line {
                    self.skipping = true;
                    buf.clear();
                    return Piece::Overlong;
                }
            }
            if self.eof {
                return self.failure.take().map_or(Piece::End, Piece::Failed);
            }
            let want = self.target.saturating_sub(buf.len()).max(64 * 1024);
            buf.reserve(want);
            if self.compressed {
                let until = buf.len() + want;
                while buf.len() < until && !self.eof {
                    self.read_fixed(&mut buf);
                }
            } else {
                let before = buf.len();
                // `take` + `read_to_end` fills spare capacity without zeroing it first.
                let read = (&mut self.reader).take(want as u64).read_to_end(&mut buf);
                let n = buf.len() - before;
                self.record(n, read.map(|_| n < want));
            }
        }
    }

    /// Appends one read of [`READ_BYTES`] to `buf`.
    fn read_fixed(&mut self, buf: &mut Vec<u8>) {
        let len = buf.len();
        buf.resize(len + READ_BYTES, 0);
        let read = self.reader.read(&mut buf[len..]);
        let n = *read.as_ref().unwrap_or(&0);
        buf.truncate(len + n);
        self.record(n, read.map(|n| n == 0));
    }

    /// Counts `n` bytes read; at the end of the stream (`Ok(true)`) or on a failure, sets
    /// `eof` (and `failure`). What was read before a failure stays: those lines get matched.
    fn record(&mut self, n: usize, ended: io::Result<bool>) {
        self.bytes += n as u64;
        match ended {
            Ok(ended) => self.eof = ended,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.failure = Some(e);
                self.eof = true;
            }
        }
    }
}

fn work_loop(
    index: &Index,
    work: &Mutex<Receiver<Work>>,
    results: &Sender<Msg>,
    recycle: &SyncSender<Vec<u8>>,
) {
    let mut matcher = index.matcher();
    loop {
        let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(work) = next else { return };
        let result = match_chunk(&mut matcher, &work);
        if results
            .send(Msg {
                seq: work.seq,
                input: work.input,
                body: Body::Chunk(result),
            })
            .is_err()
        {
            return;
        }
        // A full recycling channel just means the buffer is freed.
        let _ = recycle.try_send(work.data);
    }
}

fn match_chunk(matcher: &mut Matcher<'_>, work: &Work) -> ChunkResult {
    let schema = &*work.schema;
    let data = &work.data[..];
    let mut result = ChunkResult {
        lines: 0,
        hits: Vec::new(),
        suppressed: 0,
        malformed: 0,
        malformed_lines: Vec::new(),
    };
    let mut out = LineOut::default();
    let mut start = 0;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |n| start + n);
        let line = &data[start..end];
        start = end + 1;
        result.lines += 1;
        if work.skip_first_line && result.lines == 1 {
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let number = result.lines;
        if line.len() > work.max_line {
            result.malformed += 1;
            if result.malformed_lines.len() < MAX_REPORTED_MALFORMED {
                result.malformed_lines.push((number, OVERLONG.to_owned()));
            }
            continue;
        }
        let (hits, suppressed) = (&mut result.hits, &mut result.suppressed);
        let parsed = schema.parse_line(line, &mut out, &mut |found| {
            match_line(matcher, schema, found, number, hits, suppressed);
        });
        if let Err(reason) = parsed {
            result.malformed += 1;
            if result.malformed_lines.len() < MAX_REPORTED_MALFORMED {
                result.malformed_lines.push((number, reason));
            }
        }
    }
    result
}

fn match_line(
    matcher: &mut Matcher<'_>,
    schema: &Schema,
    found: &LineOut<'_>,
    line: u64,
    hits: &mut Vec<LocalHit>,
    suppressed: &mut u64,
) {
    for (field, observable) in &found.observables {
        match matcher.lookup(observable) {
            Lookup::Miss => {}
            Lookup::Suppressed => *suppressed += 1,
            Lookup::Hit { indicators, value } => {
                let mut hosts: Vec<IpAddr> = Vec::with_capacity(found.hosts.len());
                for ip in &found.hosts {
                    if !hosts.contains(ip) {
                        hosts.push(*ip);
                    }
                }
                hits.push(LocalHit {
                    line,
                    field: schema.field_name(*field).to_owned(),
                    value: value.to_owned(),
                    indicators: indicators.to_vec(),
                    time: found.time.parse(),
                    hosts,
                });
            }
        }
    }
}

/// Delivers results in sequence order and returns a ticket for each.
fn collect(
    results: &Receiver<Msg>,
    tickets: &SyncSender<()>,
    reports: &mut [InputReport],
    sink: &mut dyn HitSink,
) {
    let mut pending: BTreeMap<u64, Msg> = BTreeMap::new();
    let mut next = 0;
    while let Ok(msg) = results.recv() {
        pending.insert(msg.seq, msg);
        while let Some(msg) = pending.remove(&next) {
            deliver(msg, reports, sink);
            next += 1;
            // The reader may be gone already; then nobody needs the ticket.
            let _ = tickets.try_send(());
        }
    }
}

fn deliver(msg: Msg, reports: &mut [InputReport], sink: &mut dyn HitSink) {
    let report = &mut reports[msg.input];
    match msg.body {
        Body::Format(format) => report.format = format,
        Body::End { bytes } => report.bytes = bytes,
        Body::Failed(mut error) => {
            if let InputError::Read { lines, .. } = &mut error {
                *lines = report.lines;
            }
            report.error = Some(error.to_string());
        }
        Body::Overlong => malformed_line(report, OVERLONG),
        Body::CutShort => malformed_line(report, CUT_SHORT),
        Body::Chunk(chunk) => {
            let base = report.lines;
            for local in chunk.hits {
                let hit = Hit {
                    input: msg.input,
                    line: base + local.line,
                    field: local.field,
                    value: local.value,
                    indicators: local.indicators,
                    time: local.time,
                    hosts: local.hosts,
                };
                sink.hit(&hit);
                report.hits += 1;
            }
            for (line, reason) in chunk.malformed_lines {
                if report.malformed_lines.len() < MAX_REPORTED_MALFORMED {
                    report.malformed_lines.push(MalformedLine {
                        line: base + line,
                        reason,
                    });
                }
            }
            report.malformed += chunk.malformed;
            report.suppressed += chunk.suppressed;
            report.lines += chunk.lines;
        }
    }
}

/// Counts one line the reader could not hand to a worker as the input's next line.
fn malformed_line(report: &mut InputReport, reason: &str) {
    report.lines += 1;
    report.malformed += 1;
    if report.malformed_lines.len() < MAX_REPORTED_MALFORMED {
        report.malformed_lines.push(MalformedLine {
            line: report.lines,
            reason: reason.to_owned(),
        });
    }
}
