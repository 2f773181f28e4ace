//! Connection limits, so that one client cannot make the node unreachable for everyone else:
//! at most `limits.max_connections_per_address` open connections per client address and
//! `limits.max_connections` in all (a connection over either is closed at once and logged),
//! and a client that does not finish sending a request's headers within
//! `limits.header_read_timeout_secs` (also between requests on a kept-alive connection) is
//! disconnected. Bodies and handlers are bounded by the router's size limit and timeout.

use std::{
    collections::HashMap,
    future::{Ready, ready},
    io,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum_server::accept::Accept;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

use crate::config::Limits;

/// Open connections, per client address and in all.
#[derive(Debug, Default)]
struct Counts {
    per_address: HashMap<IpAddr, u32>,
    total: u32,
}

/// An acceptor that refuses connections over the limits (see the module documentation).
#[derive(Debug, Clone)]
pub struct LimitAcceptor {
    counts: Arc<Mutex<Counts>>,
    per_address: u32,
    total: u32,
}

impl LimitAcceptor {
    /// An acceptor enforcing `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            counts: Arc::default(),
            per_address: limits.max_connections_per_address.max(1),
            total: limits.max_connections.max(1),
        }
    }

    /// Counts a new connection from `ip`, or says which limit it is over.
    fn admit(&self, ip: IpAddr) -> Result<Slot, &'static str> {
        let mut counts = self.counts.lock().expect("never poisoned");
        if counts.total >= self.total {
            return Err("the node's limit of open connections");
        }
        let mine = counts.per_address.entry(ip).or_insert(0);
        if *mine >= self.per_address {
            return Err("the limit of open connections per address");
        }
        *mine += 1;
        counts.total += 1;
        Ok(Slot {
            counts: Arc::clone(&self.counts),
            ip,
        })
    }
}

/// One admitted connection's place in the counts, given back when the connection closes.
#[derive(Debug)]
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("never poisoned");
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_address.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_address.remove(&self.ip);
            }
        }
    }
}

/// An admitted connection: the stream, holding its slot until it is dropped.
#[derive(Debug)]
pub struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl<S> Accept<TcpStream, S> for LimitAcceptor {
    type Stream = Counted;
    type Service = S;
    type Future = Ready<io::Result<(Counted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let ip = match stream.peer_addr() {
            Ok(addr) => addr.ip(),
            Err(e) => return ready(Err(e)),
        };
        ready(match self.admit(ip) {
            Ok(slot) => Ok((
                Counted {
                    stream,
                    _slot: slot,
                },
                service,
            )),
            Err(limit) => {
                tracing::warn!(client = %ip, limit, "closed a connection over the limit");
                Err(io::Error::other(format!("{ip} is over {limit}")))
            }
        })
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acceptor(per_address: u32, total: u32) -> LimitAcceptor {
        LimitAcceptor::new(&Limits {
            max_connections_per_address: per_address,
            max_connections: total,
            ..Limits::default()
        })
    }

    #[test]
    fn an_address_over_its_limit_is_refused_and_others_are_not() {
        let a = acceptor(2, 10);
        let one: IpAddr = [127, 0, 0, 2].into();
        let other: IpAddr = [127, 0, 0, 1].into();
        let held = [a.admit(one).expect("first"), a.admit(one).expect("second")];
        assert!(a.admit(one).is_err());
        assert!(a.admit(other).is_ok());
        drop(held);
        assert!(a.admit(one).is_ok(), "a closed connection frees its slot");
    }

    #[test]
    fn the_total_limit_holds_across_addresses() {
        let a = acceptor(5, 2);
        let _held = [
            a.admit([10, 0, 0, 1].into()).expect("first"),
            a.admit([10, 0, 0, 2].into()).expect("second"),
        ];
        assert_eq!(
            a.admit([10, 0, 0, 3].into()).err(),
            Some("the node's limit of open connections")
        );
    }
}
