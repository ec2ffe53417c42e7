//! One plain-HTTP/1.1 connection, driven by the task that sends on it: write the
//! request's bytes, read the answer into the connection's reused buffer. No channel and
//! no connection task sit between the virtual user and its socket (hyper's were ~40 %
//! of the generator's CPU per request; docs/benchmarks.md "Load runner").

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::response::{self, io_failure};
use crate::taxonomy::{transport_kind, Failure};

/// Where new connections go: an address, or a name resolved per connection (as a
/// browser or reqwest would, so a DNS change during a long run is followed).
#[derive(Debug, Clone)]
pub enum Peer {
    Addr(SocketAddr),
    Name(String, u16),
}

pub struct Conn {
    stream: TcpStream,
    /// Read buffer, kept between answers so a request allocates nothing to read.
    buf: Vec<u8>,
}

/// Why an exchange failed, and whether the request may go again on a new connection.
pub enum Exchange {
    /// Writing failed: the server never had the whole request.
    NotSent(Failure),
    Failed(Failure),
}

/// An answer's status and body, and the connection when it may carry the next request.
pub type Answered = (u16, Bytes, Option<Box<Conn>>);

impl Conn {
    pub async fn connect(peer: &Peer) -> Result<Box<Self>, Failure> {
        let stream = match peer {
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
        Ok(Box::new(Self {
            stream,
            buf: Vec::with_capacity(8 * 1024),
        }))
    }

    /// Whether the idle connection is still open and quiet. A server that hung up on it
    /// (a FIN or reset) or sent something unasked makes it unusable. tokio answers the
    /// read from the readiness its event loop has seen, so on a healthy connection it
    /// normally costs no system call (strace: one sendto and one recvfrom per request).
    pub fn usable(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Sends `request` and reads its whole answer; the connection comes back when it
    /// may carry the next request.
    pub async fn exchange(
        mut self: Box<Self>,
        request: &[u8],
        head_request: bool,
    ) -> Result<Answered, Exchange> {
        if let Err(e) = self.stream.write_all(request).await {
            return Err(Exchange::NotSent(io_failure(&e)));
        }
        let Self { stream, buf } = &mut *self;
        let a = response::read(stream, buf, head_request)
            .await
            .map_err(Exchange::Failed)?;
        // A large answer's buffer is not kept for the small ones that usually follow.
        if buf.capacity() > 1024 * 1024 {
            *buf = Vec::with_capacity(8 * 1024);
        }
        Ok((a.status, a.body, a.reusable.then_some(self)))
    }
}
