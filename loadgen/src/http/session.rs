//! What one virtual user (or one open-model iteration) keeps between its requests: its
//! request timer and its plain-HTTP connection. A closed-model user sends every request
//! on its own connection with no lock or hand-over; connections go back to the shared
//! idle stack when their holder ends, for the next open-model iteration to take.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::conn::{Answered, Conn, Exchange, Peer};
use crate::taxonomy::{Failure, TransportKind};

/// The idle connections to one peer, most recently used on top.
pub struct Pool {
    peer: Peer,
    #[expect(
        clippy::vec_box,
        reason = "a connection is boxed so it moves between a session and the stack as a pointer"
    )]
    idle: Mutex<Vec<Box<Conn>>>,
}

impl Pool {
    pub fn new(peer: Peer) -> Self {
        Self {
            peer,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self) -> Option<Box<Conn>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        std::iter::from_fn(|| idle.pop()).find(|c| c.usable())
    }

    fn put_back(&self, c: Box<Conn>) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
    }

    /// Sends `request` on `held` when it is still open, else on an idle or new
    /// connection. A request whose write failed on a reused connection (the server
    /// closed it meanwhile) goes once more on a fresh one, as hyper's pooled client did.
    async fn send(
        &self,
        held: Option<Box<Conn>>,
        request: &[u8],
        head_request: bool,
    ) -> Result<Answered, Failure> {
        let reused = held.filter(|c| c.usable()).or_else(|| self.checkout());
        let (mut conn, mut retry) = match reused {
            Some(c) => (c, true),
            None => (Conn::connect(&self.peer).await?, false),
        };
        loop {
            match conn.exchange(request, head_request).await {
                Ok(a) => return Ok(a),
                Err(Exchange::NotSent(_)) if retry => {
                    conn = Conn::connect(&self.peer).await?;
                    retry = false;
                }
                Err(Exchange::NotSent(f) | Exchange::Failed(f)) => return Err(f),
            }
        }
    }
}

/// One virtual user's timer and connection. Dropping it returns the connection to the
/// pool it came from.
#[derive(Default)]
pub struct Session {
    /// One tokio timer entry re-armed per request: moving a registered entry to a later
    /// deadline is one atomic update, where a fresh `tokio::time::timeout` per request
    /// registered and removed an entry in the timer wheel each time.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    conn: Option<Box<Conn>>,
    pool: Option<Arc<Pool>>,
}

impl Session {
    fn arm(&mut self, at: tokio::time::Instant) -> Pin<&mut tokio::time::Sleep> {
        match &mut self.timer {
            Some(s) => s.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        self.timer.as_mut().expect("armed above").as_mut()
    }

    /// Bounds `f` by `timeout` from now.
    pub async fn timed<T>(
        &mut self,
        timeout: Duration,
        f: impl std::future::Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let timer = self.arm(tokio::time::Instant::now() + timeout);
        tokio::select! {
            biased;
            r = f => r,
            _ = timer => Err(timed_out(timeout)),
        }
    }

    /// One plain-HTTP exchange on this session's connection, bounded by `timeout`. A
    /// connection that timed out or failed is dropped, not reused.
    pub async fn send_plain(
        &mut self,
        pool: &Arc<Pool>,
        request: &[u8],
        head_request: bool,
        timeout: Duration,
    ) -> Result<(u16, Bytes), Failure> {
        if self.pool.is_none() {
            self.pool = Some(pool.clone());
        }
        let held = self.conn.take();
        let (status, body, conn) = self
            .timed(timeout, pool.send(held, request, head_request))
            .await?;
        self.conn = conn;
        Ok((status, body))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let (Some(c), Some(p)) = (self.conn.take(), &self.pool) {
            p.put_back(c);
        }
    }
}

/// What a request that ran out of time reports.
pub fn timed_out(after: Duration) -> Failure {
    Failure::Transport {
        kind: TransportKind::Timeout,
        message: format!("request timed out after {after:?}"),
    }
}
