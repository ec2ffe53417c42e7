//! The answer reader against byte streams cut where servers and the network cut them.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::*;
use crate::taxonomy::{Taxonomy, TransportKind};

/// Hands out one piece per read, then the end of the stream: an answer that arrives
/// across several TCP reads.
struct Pieces(Vec<Vec<u8>>);

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.0.is_empty() {
            let piece = self.0.remove(0);
            out.put_slice(&piece);
        }
        Poll::Ready(Ok(()))
    }
}

async fn answer(pieces: &[&str], head_request: bool) -> Result<Answer, Failure> {
    let mut io = Pieces(pieces.iter().map(|p| p.as_bytes().to_vec()).collect());
    read(&mut io, &mut Vec::new(), head_request).await
}

fn class(f: &Failure) -> String {
    Taxonomy::default().classify(f)
}

#[tokio::test]
async fn a_sized_answer_keeps_the_connection() {
    let a = answer(
        &["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (a.status, &a.body[..], a.reusable),
        (200, &b"hello"[..], true)
    );
}

#[tokio::test]
async fn an_answer_split_across_reads_is_joined() {
    let a = answer(
        &[
            "HTT",
            "P/1.1 201 Created\r\ncontent-le",
            "ngth: 11\r\n",
            "\r\nhello",
            " world",
        ],
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (a.status, &a.body[..], a.reusable),
        (201, &b"hello world"[..], true)
    );
}

#[tokio::test]
async fn a_chunked_body_is_decoded_with_its_trailers_skipped() {
    let a = answer(
        &[
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            "lo\r\n6;ext=1\r\n world\r",
            "\n0\r\nx-trailer: t\r\n",
            "\r\n",
        ],
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (a.status, &a.body[..], a.reusable),
        (200, &b"hello world"[..], true)
    );
}

#[tokio::test]
async fn connection_close_ends_reuse() {
    let a = answer(
        &["HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 2\r\n\r\nok"],
        false,
    )
    .await
    .unwrap();
    assert_eq!((&a.body[..], a.reusable), (&b"ok"[..], false));
    // An answer without a length runs to the end of the connection.
    let a = answer(&["HTTP/1.1 200 OK\r\n\r\nall ", "of it"], false)
        .await
        .unwrap();
    assert_eq!((&a.body[..], a.reusable), (&b"all of it"[..], false));
    // HTTP/1.0 closes unless asked to keep the connection.
    let a = answer(&["HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"], false)
        .await
        .unwrap();
    assert!(!a.reusable);
    let a = answer(
        &["HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"],
        false,
    )
    .await
    .unwrap();
    assert!(a.reusable);
}

#[tokio::test]
async fn answers_without_a_body_need_no_length() {
    let a = answer(&["HTTP/1.1 204 No Content\r\n\r\n"], false)
        .await
        .unwrap();
    assert_eq!((a.status, a.body.len(), a.reusable), (204, 0, true));
    let a = answer(&["HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n"], true)
        .await
        .unwrap();
    assert_eq!((a.status, a.body.len(), a.reusable), (200, 0, true));
    let a = answer(
        &["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx"],
        false,
    )
    .await
    .unwrap();
    assert_eq!((a.status, &a.body[..]), (200, &b"x"[..]));
}

#[tokio::test]
async fn a_malformed_status_line_is_a_clear_failure() {
    let f = answer(&["HTTP/1.1 abc OK\r\n\r\n"], false)
        .await
        .unwrap_err();
    assert!(
        matches!(&f, Failure::Transport { kind: TransportKind::Other, message }
            if message.starts_with("invalid HTTP answer:")),
        "{f:?}"
    );
    assert_eq!(class(&f), "other");
    let f = answer(&["SMTP ready\r\n\r\n"], false).await.unwrap_err();
    assert_eq!(class(&f), "other", "{f:?}");
    let f = answer(
        &["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"],
        false,
    )
    .await
    .unwrap_err();
    assert!(f.message().contains("chunk size"), "{f:?}");
    let f = answer(&["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"], false)
        .await
        .unwrap_err();
    assert!(f.message().contains("content-length"), "{f:?}");
}

#[tokio::test]
async fn an_answer_cut_short_is_a_connection_failure() {
    for cut in [
        &["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"][..],
        &["HTTP/1.1 200 OK\r\ncontent-le"][..],
        &["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab"][..],
        &[][..],
    ] {
        let f = answer(cut, false).await.unwrap_err();
        assert_eq!(class(&f), "connection", "{cut:?}: {f:?}");
        assert!(f.message().contains("connection closed"), "{f:?}");
    }
}

#[tokio::test]
async fn bytes_after_the_answer_end_reuse() {
    let a = answer(
        &["HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxHTTP/1.1"],
        false,
    )
    .await
    .unwrap();
    assert_eq!((&a.body[..], a.reusable), (&b"x"[..], false));
}
