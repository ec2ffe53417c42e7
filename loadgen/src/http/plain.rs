//! Plain-HTTP transport: hyper's HTTP/1 client connections, kept idle in a LIFO stack
//! and each driven inside the task of the request that uses it. There is no connection
//! task: a request costs no cross-task wake-ups, and a request dropped by its timeout
//! drops its connection with it. This is where the generator's CPU per request went
//! (reqwest's pool, connector and request layers; docs/benchmarks.md "Load runner").

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::taxonomy::{transport_kind, Failure, TransportKind};

type Body = Full<Bytes>;
type Io = TokioIo<TcpStream>;

/// Where new connections go: an address, or a name resolved per connection (as a
/// browser or reqwest would, so a DNS change during a long run is followed).
#[derive(Debug, Clone)]
pub enum Peer {
    Addr(SocketAddr),
    Name(String, u16),
}

struct Conn {
    tx: http1::SendRequest<Body>,
    conn: http1::Connection<Io, Body>,
}

pub struct Pool {
    peer: Peer,
    /// Boxed: a connection's state (buffers, dispatcher) is a few hundred bytes, and
    /// moving it in and out of the stack per request showed up as `memmove` in profiles.
    #[expect(
        clippy::vec_box,
        reason = "a connection moves out of and back into the stack per request"
    )]
    idle: Mutex<Vec<Box<Conn>>>,
}

/// Why an exchange failed, and whether the request can go again on a new connection.
enum Exchange {
    /// The connection was found closed before the request was written: `req` is intact.
    NotSent(Box<Request<Body>>, Failure),
    Failed(Failure),
}

impl Pool {
    pub fn new(peer: Peer) -> Self {
        Self {
            peer,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `req` (origin-form URI, Host header set) and reads the whole answer. A
    /// request that met a connection the server had closed while it sat idle goes once
    /// more on a fresh connection, as hyper-util's pooled client does.
    pub async fn send(&self, mut req: Request<Body>) -> Result<(StatusCode, Bytes), Failure> {
        let (mut conn, mut reused) = match self.checkout() {
            Some(c) => (c, true),
            None => (self.connect().await?, false),
        };
        loop {
            match exchange(&mut conn, req).await {
                Ok((status, body, reusable)) => {
                    if reusable {
                        self.idle
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(conn);
                    }
                    return Ok((status, body));
                }
                Err(Exchange::NotSent(r, _)) if reused => {
                    req = *r;
                    conn = self.connect().await?;
                    reused = false;
                }
                Err(Exchange::NotSent(_, f)) => return Err(f),
                Err(Exchange::Failed(f)) => return Err(f),
            }
        }
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self) -> Option<Box<Conn>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut c) = idle.pop() {
            // One poll without a waker reads a FIN or reset the server sent meanwhile.
            let mut cx = Context::from_waker(Waker::noop());
            if Pin::new(&mut c.conn).poll(&mut cx).is_pending() && !c.tx.is_closed() {
                return Some(c);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Box<Conn>, Failure> {
        let stream = match &self.peer {
            Peer::Addr(a) => TcpStream::connect(a).await,
            Peer::Name(host, port) => TcpStream::connect((host.as_str(), *port)).await,
        }
        .map_err(|e| {
            let message = format!("tcp connect error: {e}");
            Failure::Transport {
                kind: transport_kind(false, true, &message),
                message,
            }
        })?;
        // Requests are small and answered one at a time: Nagle would hold each one back.
        let _ = stream.set_nodelay(true);
        let (tx, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| hyper_failure(&e))?;
        Ok(Box::new(Conn { tx, conn }))
    }
}

/// One request and its whole answer on `c`; the flag says whether `c` may be reused.
async fn exchange(c: &mut Conn, req: Request<Body>) -> Result<(StatusCode, Bytes, bool), Exchange> {
    let Conn { tx, conn } = c;
    // A reused connection is normally ready already (its last poll asked for the next
    // request); waiting for readiness would poll the whole dispatcher once more.
    if !tx.is_ready() {
        match drive(conn, tx.ready()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Exchange::NotSent(Box::new(req), hyper_failure(&e))),
            Err(f) => return Err(Exchange::NotSent(Box::new(req), f)),
        }
    }
    let resp = match drive(conn, tx.try_send_request(req)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(mut e)) => {
            return Err(match e.take_message() {
                Some(req) => Exchange::NotSent(Box::new(req), hyper_failure(e.error())),
                None => Exchange::Failed(hyper_failure(e.error())),
            })
        }
        Err(f) => return Err(Exchange::Failed(f)),
    };
    let status = resp.status();
    let body = match drive(conn, resp.into_body().collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => return Err(Exchange::Failed(hyper_failure(&e))),
        Err(f) => return Err(Exchange::Failed(f)),
    };
    // A connection that finished (`Connection: close`, or the server hung up) is not kept.
    let mut cx = Context::from_waker(Waker::noop());
    let open = Pin::new(conn).poll(&mut cx).is_pending() && !tx.is_closed();
    Ok((status, body, open))
}

/// Runs `f` while driving the connection that serves it. The connection is polled
/// first so the answer it reads reaches `f` in the same wake-up.
async fn drive<F: Future>(
    conn: &mut http1::Connection<Io, Body>,
    f: F,
) -> Result<F::Output, Failure> {
    let mut f = pin!(f);
    let mut finished: Option<hyper::Result<()>> = None;
    std::future::poll_fn(|cx| {
        if finished.is_none() {
            if let Poll::Ready(r) = Pin::new(&mut *conn).poll(cx) {
                finished = Some(r);
            }
        }
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match finished.take() {
            // The connection ended and `f` was not answered: hyper hands a connection's
            // error to the waiting request first, so this is a close without one.
            Some(Err(e)) => Poll::Ready(Err(hyper_failure(&e))),
            Some(Ok(())) => Poll::Ready(Err(closed())),
            None => Poll::Pending,
        }
    })
    .await
}

/// A connection that ended without handing its request an answer or an error.
fn closed() -> Failure {
    let message = "connection closed before the answer was complete".to_string();
    Failure::Transport {
        kind: transport_kind(false, false, &message),
        message,
    }
}

fn hyper_failure(e: &(dyn StdError + 'static)) -> Failure {
    let mut chain = e.to_string();
    let mut src = e.source();
    let mut timeout = false;
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        timeout |= s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        src = s.source();
    }
    Failure::Transport {
        kind: transport_kind(timeout, false, &chain),
        message: chain,
    }
}

/// What a request that ran out of time reports.
pub fn timed_out(after: std::time::Duration) -> Failure {
    Failure::Transport {
        kind: TransportKind::Timeout,
        message: format!("request timed out after {after:?}"),
    }
}
