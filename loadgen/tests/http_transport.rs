//! The plain-HTTP transport against servers that misbehave in the ways pooled
//! connections meet in practice: hanging up on idle keep-alive connections, not
//! answering within the step's timeout, chunked answers in pieces, `Connection: close`
//! and answers that are not HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use perfwatch_loadgen::engine::{run, Finished, Options};
use perfwatch_loadgen::scenario::parse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn load(toml: &str) -> Finished {
    let s = parse(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    run(&s, Path::new("."), &opts).await.unwrap()
}

/// Answers one request per connection, advertising nothing, then hangs up: every
/// pooled connection is dead by the time it is used again. Counts connections.
async fn one_shot_server() -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let n = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            n.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_closed_are_replaced_without_errors() {
    let (base, accepted) = one_shot_server().await;
    let f = load(&format!(
        "[run]\nname = \"t\"\nbase_url = \"{base}\"\nduration = \"1s\"\n\n[load]\nmodel = \"closed\"\nvus = 2\nthink = \"10ms\"\n\n\
         [[flow]]\nname = \"f\"\nsteps = [{{ op = \"get\", method = \"GET\", path = \"/x\" }}]\n"
    ))
    .await;
    let op = f.report.op("get").unwrap();
    assert!(op.attempts >= 20, "{op:?}");
    assert!(op.errors.is_empty(), "{:?}", op.examples);
    // one connection per request: none was reused after the server hung up
    assert!(
        accepted.load(Ordering::Relaxed) >= op.attempts,
        "{} connections for {} attempts",
        accepted.load(Ordering::Relaxed),
        op.attempts
    );
}

/// Accepts and reads, never answers.
async fn silent_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            open.push(s);
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_fails_with_class_timeout() {
    let base = silent_server().await;
    let f = load(&format!(
        "[run]\nname = \"t\"\nbase_url = \"{base}\"\nduration = \"1s\"\ntimeout = \"200ms\"\n\n[load]\nmodel = \"closed\"\nvus = 1\n\n\
         [[flow]]\nname = \"f\"\nsteps = [{{ op = \"get\", method = \"GET\", path = \"/x\" }}]\n"
    ))
    .await;
    let op = f.report.op("get").unwrap();
    assert!(op.attempts >= 3, "{op:?}");
    assert_eq!(op.errors.keys().collect::<Vec<_>>(), ["timeout"]);
    assert!(
        op.examples["timeout"][0].contains("timed out"),
        "{:?}",
        op.examples
    );
    // each attempt waited its 200 ms, not less
    assert!(op.service.p50 >= 190.0, "{:?}", op.service);
}

/// Keeps connections open and answers by path: `/chunked` with a chunked JSON body
/// written in pieces (the client reads it across several reads), `/item/42` with
/// `Connection: close` (then hangs up), `/bad` with a malformed status line.
async fn awkward_server() -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let n = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            n.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    buf.drain(..end);
                    let path = head.split(' ').nth(1).unwrap_or_default().to_string();
                    let pieces: &[&[u8]] = match path.as_str() {
                        "/chunked" => &[
                            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"id",
                            b"\"\r\n6\r\n:\"42\"}\r\n",
                            b"0\r\n\r\n",
                        ],
                        "/item/42" => &[
                            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
                        ],
                        _ => &[b"HTTP/1.1 abc\r\n\r\n"],
                    };
                    for p in pieces {
                        if s.write_all(p).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    if path != "/chunked" {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_split_and_closing_answers_are_read_and_malformed_ones_classed() {
    let (base, accepted) = awkward_server().await;
    let f = load(&format!(
        "[run]\nname = \"t\"\nbase_url = \"{base}\"\nduration = \"1s\"\n\n[load]\nmodel = \"closed\"\nvus = 2\nthink = \"5ms\"\n\n\
         [[flow]]\nname = \"f\"\nsteps = [\n  {{ op = \"list\", method = \"GET\", path = \"/chunked\", extract = {{ id = \"id\" }} }},\n  \
         {{ op = \"item\", method = \"GET\", path = \"/item/{{{{id}}}}\" }},\n]\n"
    ))
    .await;
    let (list, item) = (f.report.op("list").unwrap(), f.report.op("item").unwrap());
    assert!(list.attempts >= 20, "{list:?}");
    // the id came out of the chunked body: the second step found /item/42
    assert!(list.errors.is_empty(), "{:?}", list.examples);
    assert!(item.errors.is_empty(), "{:?}", item.examples);
    assert!(item.attempts + 2 >= list.attempts, "{item:?}");
    // every `Connection: close` answer cost its connection
    assert!(
        accepted.load(Ordering::Relaxed) >= item.attempts,
        "{} connections for {} closing answers",
        accepted.load(Ordering::Relaxed),
        item.attempts
    );

    let f = load(&format!(
        "[run]\nname = \"t\"\nbase_url = \"{base}\"\nduration = \"1s\"\n\n[load]\nmodel = \"closed\"\nvus = 1\nthink = \"20ms\"\n\n\
         [[flow]]\nname = \"f\"\nsteps = [{{ op = \"bad\", method = \"GET\", path = \"/bad\" }}]\n"
    ))
    .await;
    let bad = f.report.op("bad").unwrap();
    assert!(bad.attempts >= 5, "{bad:?}");
    assert_eq!(bad.errors.keys().collect::<Vec<_>>(), ["other"]);
    assert_eq!(bad.errors["other"], bad.attempts);
    assert!(
        bad.examples["other"][0].contains("invalid HTTP answer"),
        "{:?}",
        bad.examples
    );
}
