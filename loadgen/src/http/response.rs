//! Reading one HTTP/1.x answer from a connection: the head parsed by `httparse`, the
//! body framed by `Content-Length`, chunked transfer coding or the end of the
//! connection, and whether the connection may carry the next request.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::taxonomy::{transport_kind, Failure};

/// A head larger than this is refused (hyper's limit is of the same order).
const MAX_HEAD: usize = 64 * 1024;
/// Header lines parsed per head; more is refused as malformed.
const MAX_HEADERS: usize = 64;

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    /// The connection may carry another request.
    pub reusable: bool,
}

/// How the body of an answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// What the head says, copied out of `httparse`'s borrowed view.
#[derive(Debug)]
struct Head {
    status: u16,
    /// Bytes of the buffer the head took.
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

/// The buffered reading side of a connection: `buf[pos..]` is read but not yet used.
pub struct Reader<'a, R> {
    io: &'a mut R,
    buf: &'a mut Vec<u8>,
    pos: usize,
}

/// Reads the answer to a request (`head_request`: it was `HEAD`, so no body follows).
/// `buf` is the connection's buffer, reused across answers.
pub async fn read<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    head_request: bool,
) -> Result<Answer, Failure> {
    buf.clear();
    let mut r = Reader { io, buf, pos: 0 };
    let head = loop {
        let head = r.head().await?;
        r.pos += head.len;
        // Interim answers (100 Continue, 103 Early Hints) precede the real one.
        if !(100..200).contains(&head.status) || head.status == 101 {
            break head;
        }
    };
    let framing = if head_request || matches!(head.status, 101 | 204 | 304) {
        Framing::None
    } else {
        head.framing
    };
    let body = match framing {
        Framing::None => Bytes::new(),
        Framing::Length(n) => r.exact(n).await?,
        Framing::Chunked => r.chunked().await?,
        Framing::UntilClose => r.until_close().await?,
    };
    // Bytes after the answer were not asked for: the connection is out of step.
    let reusable = head.keep_alive
        && framing != Framing::UntilClose
        && head.status != 101
        && r.pos == r.buf.len();
    Ok(Answer {
        status: head.status,
        body,
        reusable,
    })
}

impl<R: AsyncRead + Unpin> Reader<'_, R> {
    /// Reads more bytes into the buffer; the end of the connection is a failure.
    async fn fill(&mut self) -> Result<(), Failure> {
        if self.fill_or_eof().await? {
            Ok(())
        } else {
            Err(closed())
        }
    }

    /// Reads more bytes; false at the end of the connection.
    async fn fill_or_eof(&mut self) -> Result<bool, Failure> {
        self.buf.reserve(8 * 1024);
        match self.io.read_buf(self.buf).await {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) => Err(io_failure(&e)),
        }
    }

    async fn head(&mut self) -> Result<Head, Failure> {
        loop {
            if let Some(head) = parse_head(&self.buf[self.pos..])? {
                return Ok(head);
            }
            if self.buf.len() - self.pos > MAX_HEAD {
                return Err(malformed(format!("head longer than {MAX_HEAD} bytes")));
            }
            self.fill().await?;
        }
    }

    async fn exact(&mut self, n: usize) -> Result<Bytes, Failure> {
        while self.buf.len() - self.pos < n {
            self.fill().await?;
        }
        let body = Bytes::copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(body)
    }

    async fn chunked(&mut self) -> Result<Bytes, Failure> {
        let mut body = Vec::new();
        loop {
            let (used, size) = match httparse::parse_chunk_size(&self.buf[self.pos..]) {
                Ok(httparse::Status::Complete(c)) => c,
                Ok(httparse::Status::Partial) => {
                    self.fill().await?;
                    continue;
                }
                Err(_) => return Err(malformed("invalid chunk size line".into())),
            };
            self.pos += used;
            if size == 0 {
                self.trailers().await?;
                return Ok(Bytes::from(body));
            }
            let size =
                usize::try_from(size).map_err(|_| malformed(format!("chunk of {size} bytes")))?;
            let chunk = self.exact(size).await?;
            body.extend_from_slice(&chunk);
            while self.buf.len() - self.pos < 2 {
                self.fill().await?;
            }
            if &self.buf[self.pos..self.pos + 2] != b"\r\n" {
                return Err(malformed("chunk not followed by CRLF".into()));
            }
            self.pos += 2;
        }
    }

    /// The trailer fields after the last chunk, up to the empty line; they are ignored.
    async fn trailers(&mut self) -> Result<(), Failure> {
        loop {
            let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match httparse::parse_headers(&self.buf[self.pos..], &mut fields) {
                Ok(httparse::Status::Complete((used, _))) => {
                    self.pos += used;
                    return Ok(());
                }
                Ok(httparse::Status::Partial) => self.fill().await?,
                Err(e) => return Err(malformed(format!("trailer: {e}"))),
            }
        }
    }

    async fn until_close(&mut self) -> Result<Bytes, Failure> {
        while self.fill_or_eof().await? {}
        let body = Bytes::copy_from_slice(&self.buf[self.pos..]);
        self.pos = self.buf.len();
        Ok(body)
    }
}

/// The head at the start of `bytes`, or None when it is not complete yet.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, Failure> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    let len = match resp.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(malformed(e.to_string())),
    };
    let status = resp.code.unwrap_or_default();
    // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told not to.
    let mut keep_alive = resp.version == Some(1);
    let mut coding: Option<Framing> = None;
    let mut length: Option<usize> = None;
    for f in resp.headers.iter() {
        if f.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(f.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| length.is_none_or(|l| l == *n))
                .ok_or_else(|| malformed("invalid content-length".into()))?;
            length = Some(n);
        } else if f.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only a final `chunked` frames the body; any other coding runs to the close.
            coding = Some(if tokens(f.value).last().is_some_and(|t| t == "chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        } else if f.name.eq_ignore_ascii_case("connection") {
            for t in tokens(f.value) {
                match t.as_str() {
                    "close" => keep_alive = false,
                    "keep-alive" if resp.version == Some(0) => keep_alive = true,
                    _ => {}
                }
            }
        }
    }
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
    let framing = coding.unwrap_or(length.map_or(Framing::UntilClose, Framing::Length));
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive,
    }))
}

/// The comma-separated tokens of a header value, lowercased.
fn tokens(value: &[u8]) -> impl Iterator<Item = String> + '_ {
    value
        .split(|b| *b == b',')
        .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
}

/// The connection ended before the answer did.
pub fn closed() -> Failure {
    let message = "connection closed before the answer was complete".to_string();
    Failure::Transport {
        kind: transport_kind(false, false, &message),
        message,
    }
}

/// An I/O error on the connection (reset, broken pipe, …), classed by its text.
pub fn io_failure(e: &std::io::Error) -> Failure {
    let message = format!("connection error: {e}");
    Failure::Transport {
        kind: transport_kind(e.kind() == std::io::ErrorKind::TimedOut, false, &message),
        message,
    }
}

/// Bytes that are not an HTTP/1 answer.
fn malformed(what: String) -> Failure {
    let message = format!("invalid HTTP answer: {what}");
    Failure::Transport {
        kind: transport_kind(false, false, &message),
        message,
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
