//! `read_file`: a text file, whole or in part (line range, head, tail, byte
//! range). Binary files are refused unless asked for as base64; images then
//! also come back as image content.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use base64::Engine as _;
use mcp_core::prelude::*;
use rustix::fs::OFlags;

use crate::sandbox::{Kind, os_error};
use crate::{Fs, blocking};

/// What to do with a file that is not UTF-8 text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BinaryMode {
    /// Refuse with a message saying what the file is (default).
    #[default]
    Refuse,
    /// Return the bytes base64-encoded (images also as image content).
    Base64,
}

/// Arguments. Use at most one way of choosing a part: a line range
/// (`start_line`/`end_line`), `head`, `tail`, or a byte range (`offset`/`length`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Path of the file, absolute or relative to the first root.
    pub path: String,
    /// First line to return (1-based).
    pub start_line: Option<u64>,
    /// Last line to return (inclusive).
    pub end_line: Option<u64>,
    /// Return only the first N lines.
    pub head: Option<u64>,
    /// Return only the last N lines.
    pub tail: Option<u64>,
    /// Byte offset to start reading at (to continue a truncated read, pass the previous `next_offset`).
    pub offset: Option<u64>,
    /// Most bytes to return; defaults to, and is capped at, the server's read limit.
    pub length: Option<u64>,
    /// What to do when the file is not UTF-8 text: "refuse" (default) or "base64".
    #[serde(default)]
    pub binary: BinaryMode,
}

/// The part of the file read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The canonical path read.
    pub path: String,
    /// Size of the whole file in bytes.
    pub size: u64,
    /// "utf-8" or "base64".
    pub encoding: String,
    /// The content (text, or base64 when `encoding` is "base64").
    pub content: String,
    /// Byte offset of the first byte returned.
    pub offset: u64,
    /// Number of file bytes returned.
    pub bytes: u64,
    /// First line returned, for line-based reads.
    pub start_line: Option<u64>,
    /// Last line returned, for line-based reads.
    pub end_line: Option<u64>,
    /// True when more of the requested part exists than was returned.
    pub truncated: bool,
    /// Where to continue: a byte offset for byte reads, a line number for line reads.
    pub next: Option<u64>,
    /// Detected MIME type for binary content.
    pub mime_type: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "read_file",
        "Read a file under the roots. By default returns the whole text (up to the server's read limit, with \
         `truncated` and `next` telling how to continue). Choose a part with start_line/end_line, head, tail, or \
         offset/length. Binary files are refused unless binary is \"base64\".",
        Annotations::read_only(),
        run,
    )
    .title("Read file")
}

enum Mode {
    Bytes { offset: u64, length: Option<u64> },
    Lines { start: u64, end: Option<u64> },
    Tail(u64),
}

fn mode(a: &Args) -> Result<Mode, ToolError> {
    let lines = a.start_line.is_some() || a.end_line.is_some();
    let bytes = a.offset.is_some() || a.length.is_some();
    let chosen = [lines, a.head.is_some(), a.tail.is_some(), bytes].iter().filter(|x| **x).count();
    if chosen > 1 {
        return Err(ToolError::invalid(
            "choose one way to select a part: start_line/end_line, head, tail, or offset/length",
        ));
    }
    if let (Some(s), Some(e)) = (a.start_line, a.end_line)
        && e < s
    {
        return Err(ToolError::invalid(format!("end_line {e} is before start_line {s}")));
    }
    if a.start_line == Some(0) {
        return Err(ToolError::invalid("start_line is 1-based; use 1 for the first line"));
    }
    Ok(if let Some(n) = a.head {
        Mode::Lines { start: 1, end: Some(n) }
    } else if let Some(n) = a.tail {
        Mode::Tail(n)
    } else if lines {
        Mode::Lines { start: a.start_line.unwrap_or(1), end: a.end_line }
    } else {
        Mode::Bytes { offset: a.offset.unwrap_or(0), length: a.length }
    })
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mode = mode(&a)?;
    // Reads are bounded by the read limit and hit the page cache almost
    // always; doing them inline saves two thread hand-offs per call, which
    // cost more than the read itself (docs/benchmarks.md).
    let (out, image) = read(&fs, &a, mode)?;
    let mut text = if out.encoding == "base64" {
        format!(
            "{}: {}, {} bytes; bytes {}..{} base64-encoded in structuredContent.content",
            out.path,
            out.mime_type.as_deref().unwrap_or("binary"),
            out.size,
            out.offset,
            out.offset + out.bytes
        )
    } else {
        out.content.clone()
    };
    if out.truncated {
        let how = match (out.next, out.start_line) {
            (Some(n), Some(_)) => format!("call read_file again with start_line={n}"),
            (Some(n), None) => format!("call read_file again with offset={n}"),
            _ => "ask for a smaller part".to_owned(),
        };
        text.push_str(&format!(
            "\n[truncated: returned {} of {} bytes of the file; {how} to read on]",
            out.bytes, out.size
        ));
    }
    let mut o = Out::new(out).text(text);
    if let Some(img) = image {
        o = o.with(img);
    }
    Ok(o)
}

/// Read as `read_file` does and return the structured part (for `read_many`).
pub async fn read_one(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Output, ToolError> {
    let mode = mode(&a)?;
    Ok(blocking(move || read(&fs, &a, mode)).await?.0)
}

/// Sniff a MIME type from magic bytes, for the formats worth showing as images.
pub fn sniff_image(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// True when the first bytes look binary (a NUL byte, as git and grep decide).
pub fn looks_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

fn read(fs: &Fs, a: &Args, mode: Mode) -> Result<(Output, Option<Content>), ToolError> {
    let r = fs.sandbox.existing(&a.path)?;
    let path = r.abs().display().to_string();
    let fd = fs.sandbox.open(&r, OFlags::RDONLY).map_err(|e| os_error(e, &a.path))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| os_error(e, &a.path))?;
    match Kind::of(&st) {
        Kind::File => {}
        Kind::Dir => return Err(ToolError::invalid(format!("{} is a directory; use list_directory or tree", a.path))),
        _ => return Err(ToolError::invalid(format!("{} is not a regular file", a.path))),
    }
    let size = st.st_size as u64;
    let cap = fs.config.max_read_bytes as u64;
    let mut file = std::fs::File::from(fd);
    let mut head = vec![0u8; 8192.min(size as usize)];
    file.read_exact(&mut head).map_err(|e| crate::sandbox::io_error(e, &a.path))?;
    let image = sniff_image(&head);
    if looks_binary(&head) || image.is_some() {
        return binary(&mut file, a, &path, size, cap, image, &mode);
    }
    file.seek(SeekFrom::Start(0)).map_err(ToolError::internal)?;
    let out = match &mode {
        Mode::Bytes { offset, length } => read_bytes(&mut file, &path, size, *offset, length.unwrap_or(cap).min(cap))?,
        Mode::Lines { start, end } => read_lines(&mut file, &path, size, *start, *end, cap)?,
        Mode::Tail(n) => read_tail(&mut file, &path, size, *n, cap)?,
    };
    // Not UTF-8 although it has no NUL byte (Latin-1, say): binary after all.
    match out {
        Some(out) => Ok((out, None)),
        None => binary(&mut file, a, &path, size, cap, None, &mode),
    }
}

fn binary(
    file: &mut std::fs::File,
    a: &Args,
    path: &str,
    size: u64,
    cap: u64,
    image: Option<&'static str>,
    mode: &Mode,
) -> Result<(Output, Option<Content>), ToolError> {
    let what = image.unwrap_or("application/octet-stream");
    if a.binary == BinaryMode::Refuse {
        return Err(ToolError::invalid(format!(
            "{} is a binary file ({what}, {size} bytes). Pass binary: \"base64\" to get its bytes base64-encoded{}.",
            a.path,
            if image.is_some() { " and as an image" } else { "" }
        )));
    }
    let (offset, length) = match mode {
        Mode::Bytes { offset, length } => (*offset, length.unwrap_or(cap).min(cap)),
        _ if a.start_line.is_some() || a.end_line.is_some() || a.head.is_some() || a.tail.is_some() => {
            return Err(ToolError::invalid("line-based reads need a text file; use offset/length for binary files"));
        }
        _ => (0, cap),
    };
    if offset > size {
        return Err(ToolError::invalid(format!("offset {offset} is past the end of the file ({size} bytes)")));
    }
    file.seek(SeekFrom::Start(offset)).map_err(ToolError::internal)?;
    let mut buf = Vec::with_capacity(length.min(size - offset) as usize);
    file.take(length).read_to_end(&mut buf).map_err(ToolError::internal)?;
    let end = offset + buf.len() as u64;
    let truncated = end < size;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&buf);
    let out = Output {
        path: path.to_owned(),
        size,
        encoding: "base64".into(),
        content: b64.clone(),
        offset,
        bytes: buf.len() as u64,
        start_line: None,
        end_line: None,
        truncated,
        next: truncated.then_some(end),
        mime_type: Some(what.to_owned()),
    };
    let img = match (image, truncated || offset > 0) {
        (Some(mime), false) => Some(Content::Image { data: b64, mime_type: mime.to_owned() }),
        _ => None,
    };
    Ok((out, img))
}

/// The longest UTF-8 prefix of `buf`, allowing only a character cut at the
/// end of the window; `None` when the bytes are not UTF-8 text.
fn utf8_prefix(buf: &[u8]) -> Option<&str> {
    match std::str::from_utf8(buf) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&buf[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

fn read_bytes(
    file: &mut std::fs::File,
    path: &str,
    size: u64,
    offset: u64,
    length: u64,
) -> Result<Option<Output>, ToolError> {
    if offset > size {
        return Err(ToolError::invalid(format!("offset {offset} is past the end of the file ({size} bytes)")));
    }
    file.seek(SeekFrom::Start(offset)).map_err(ToolError::internal)?;
    let mut buf = Vec::with_capacity(length.min(size - offset) as usize);
    file.take(length).read_to_end(&mut buf).map_err(ToolError::internal)?;
    // An offset inside a multi-byte character: skip to the next character.
    let skip = buf.iter().take(3).take_while(|b| (**b & 0xC0) == 0x80).count();
    let Some(text) = utf8_prefix(&buf[skip..]) else { return Ok(None) };
    let consumed = (skip + text.len()) as u64;
    let end = offset + consumed;
    let truncated = end < size;
    Ok(Some(Output {
        path: path.to_owned(),
        size,
        encoding: "utf-8".into(),
        content: text.to_owned(),
        offset: offset + skip as u64,
        bytes: text.len() as u64,
        start_line: None,
        end_line: None,
        truncated,
        next: truncated.then_some(end),
        mime_type: None,
    }))
}

fn read_lines(
    file: &mut std::fs::File,
    path: &str,
    size: u64,
    start: u64,
    end: Option<u64>,
    cap: u64,
) -> Result<Option<Output>, ToolError> {
    let mut rd = BufReader::with_capacity(64 << 10, &mut *file);
    let mut line = Vec::new();
    let mut out = Vec::new();
    let (mut n, mut pos, mut first_off) = (0u64, 0u64, None);
    let mut last = None;
    let mut truncated = false;
    loop {
        line.clear();
        let got = rd.read_until(b'\n', &mut line).map_err(ToolError::internal)?;
        if got == 0 {
            break;
        }
        n += 1;
        if n >= start && end.is_none_or(|e| n <= e) {
            if (out.len() + line.len()) as u64 > cap {
                truncated = true;
                break;
            }
            first_off.get_or_insert(pos);
            out.extend_from_slice(&line);
            last = Some(n);
        }
        pos += got as u64;
        if end.is_some_and(|e| n >= e) {
            break;
        }
    }
    let Ok(text) = String::from_utf8(out) else { return Ok(None) };
    if start > n && n > 0 {
        return Err(ToolError::invalid(format!("start_line {start} is past the end of the file ({n} lines)")));
    }
    Ok(Some(Output {
        path: path.to_owned(),
        size,
        encoding: "utf-8".into(),
        bytes: text.len() as u64,
        content: text,
        offset: first_off.unwrap_or(0),
        start_line: last.map(|_| start),
        end_line: last,
        truncated,
        next: truncated.then(|| last.map_or(start, |l| l + 1)),
        mime_type: None,
    }))
}

fn read_tail(file: &mut std::fs::File, path: &str, size: u64, n: u64, cap: u64) -> Result<Option<Output>, ToolError> {
    // Read backwards in chunks until n+1 newlines are in view, or the cap.
    let want = n as usize;
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = size;
    let chunk = 64u64 << 10;
    loop {
        let newlines = buf.iter().filter(|b| **b == b'\n').count();
        // A final newline ends the last line rather than starting a new one.
        let needed = want + usize::from(buf.last() == Some(&b'\n') || (buf.is_empty() && size > 0));
        if newlines > needed || pos == 0 || buf.len() as u64 >= cap {
            break;
        }
        let step = chunk.min(pos);
        pos -= step;
        file.seek(SeekFrom::Start(pos)).map_err(ToolError::internal)?;
        let mut part = vec![0u8; step as usize];
        file.read_exact(&mut part).map_err(ToolError::internal)?;
        part.extend_from_slice(&buf);
        buf = part;
    }
    // Keep the last n lines.
    let body_end = if buf.last() == Some(&b'\n') { buf.len() - 1 } else { buf.len() };
    let mut count = 0;
    let mut start = 0;
    for (i, b) in buf[..body_end].iter().enumerate().rev() {
        if *b == b'\n' {
            count += 1;
            if count == want {
                start = i + 1;
                break;
            }
        }
    }
    if want == 0 {
        start = buf.len();
    }
    let mut slice = &buf[start..];
    let mut truncated = false;
    if slice.len() as u64 > cap {
        slice = &slice[slice.len() - cap as usize..];
        truncated = true;
    }
    let skip = slice.iter().take(3).take_while(|b| (**b & 0xC0) == 0x80).count();
    let Ok(text) = std::str::from_utf8(&slice[skip..]) else { return Ok(None) };
    let offset = pos + start as u64 + skip as u64;
    Ok(Some(Output {
        path: path.to_owned(),
        size,
        encoding: "utf-8".into(),
        content: text.to_owned(),
        offset,
        bytes: text.len() as u64,
        start_line: None,
        end_line: None,
        truncated,
        next: None,
        mime_type: None,
    }))
}
