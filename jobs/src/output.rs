//! Where step output goes: lines to a [`LogSink`] as they arrive, stdout kept (capped)
//! for parsers, and a tail of the last lines for error messages.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Stdout kept per step for parsing; more is streamed to the sink but not kept.
pub const STDOUT_CAP: usize = 8 * 1024 * 1024;
/// A longer line is cut into pieces so one runaway line cannot exhaust memory.
pub const MAX_LINE: usize = 64 * 1024;
/// Lines kept for [`crate::process::StepError::Failed`]'s tail.
const TAIL_LINES: usize = 30;

/// Which stream a log line came from; `System` lines are the runner's own notes
/// ("service ready after 1.2s", "killing process group").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
    System,
}

/// Receives every line of every step as it is produced (the backend stores them).
/// Called from async tasks: it must not block for long.
pub trait LogSink: Send + Sync {
    fn line(&self, step: &str, stream: Stream, text: &str);
}

/// What one process's output left behind.
#[derive(Default)]
pub(crate) struct Capture {
    stdout: Mutex<Vec<u8>>,
    truncated: Mutex<bool>,
    tail: Mutex<VecDeque<String>>,
}

impl Capture {
    /// The kept stdout, lossily decoded.
    pub fn stdout(&self) -> String {
        let b = self.stdout.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&b).into_owned()
    }

    pub fn truncated(&self) -> bool {
        *self.truncated.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last lines of stdout and stderr, interleaved as they arrived.
    pub fn tail(&self) -> String {
        let t = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        t.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }

    fn keep(&self, bytes: &[u8]) {
        let mut b = self.stdout.lock().unwrap_or_else(|e| e.into_inner());
        let room = STDOUT_CAP.saturating_sub(b.len());
        if bytes.len() > room {
            *self.truncated.lock().unwrap_or_else(|e| e.into_inner()) = true;
        }
        b.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn push_tail(&self, line: &str) {
        let mut t = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        if t.len() == TAIL_LINES {
            t.pop_front();
        }
        t.push_back(line.to_string());
    }
}

/// Reads `r` to its end, sending each line to `sink` and, for stdout, keeping the raw
/// bytes in `cap`. Read errors end the stream quietly: the process's exit status is
/// what decides the step.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    r: R,
    step: &str,
    stream: Stream,
    sink: &dyn LogSink,
    cap: &Capture,
) {
    let mut r = BufReader::new(r);
    let mut line: Vec<u8> = Vec::new();
    while let Ok(buf) = r.fill_buf().await {
        if buf.is_empty() {
            break;
        }
        let newline = buf.iter().position(|&b| b == b'\n');
        let take = newline.map_or(buf.len(), |i| i + 1);
        if stream == Stream::Stdout {
            cap.keep(&buf[..take]);
        }
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&buf[..take.min(room)]);
        r.consume(take);
        if newline.is_some() || line.len() >= MAX_LINE {
            emit(&mut line, step, stream, sink, cap);
        }
    }
    if !line.is_empty() {
        emit(&mut line, step, stream, sink, cap);
    }
}

fn emit(line: &mut Vec<u8>, step: &str, stream: Stream, sink: &dyn LogSink, cap: &Capture) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    sink.line(step, stream, text);
    cap.push_tail(text);
    line.clear();
}
