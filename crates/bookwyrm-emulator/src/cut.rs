//! The faults that cut a response at a byte offset (`reset-after-bytes=N`,
//! `close-after-bytes=N`): every accepted connection is wrapped in [`Cut`], which counts the
//! bytes written and, once a request armed it, lets through exactly N more bytes of the
//! answer (its head included) and then resets the connection or closes it cleanly. The next
//! request on the connection disarms it: a fault applies to the answer of the request that
//! carried it only, even when that answer is shorter than N.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What happens at the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CutMode {
    /// A TCP reset (the connection closes with SO_LINGER 0).
    Reset,
    /// A clean close (FIN) after the bytes let through.
    Close,
}

/// The state a connection's [`Cut`] shares with the request handler that arms it.
#[derive(Debug, Default)]
pub(crate) struct CutPoint {
    written: AtomicU64,
    /// The byte count at which to cut (`u64::MAX`: never).
    limit: AtomicU64,
    /// 0: reset, 1: close.
    mode: AtomicU8,
}

impl CutPoint {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            written: AtomicU64::new(0),
            limit: AtomicU64::new(u64::MAX),
            mode: AtomicU8::new(0),
        })
    }

    /// No cut (a new request on the connection: the answer before it was written whole).
    pub(crate) fn disarm(&self) {
        self.limit.store(u64::MAX, Ordering::SeqCst);
    }

    /// Lets `bytes` more bytes through from now (the answer being prepared), then cuts.
    pub(crate) fn arm(&self, bytes: u64, mode: CutMode) {
        self.mode
            .store(u8::from(mode == CutMode::Close), Ordering::SeqCst);
        let now = self.written.load(Ordering::SeqCst);
        self.limit
            .store(now.saturating_add(bytes), Ordering::SeqCst);
    }
}

/// A TCP connection that is cut where its [`CutPoint`] says.
pub(crate) struct Cut {
    io: TcpStream,
    point: Arc<CutPoint>,
}

impl Cut {
    pub(crate) fn new(io: TcpStream, point: Arc<CutPoint>) -> Self {
        Self { io, point }
    }
}

impl AsyncRead for Cut {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Cut {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = this.point.written.load(Ordering::SeqCst);
        let limit = this.point.limit.load(Ordering::SeqCst);
        let allowed = limit.saturating_sub(written);
        if allowed == 0 {
            let mode = this.point.mode.load(Ordering::SeqCst);
            if mode == 0 {
                // Dropped with linger 0, the socket sends a reset instead of a FIN.
                let _ = this.io.set_zero_linger();
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "fault: reset after bytes",
                )));
            }
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "fault: closed after bytes",
            )));
        }
        let take = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        match Pin::new(&mut this.io).poll_write(cx, &buf[..take]) {
            Poll::Ready(Ok(n)) => {
                this.point.written.fetch_add(n as u64, Ordering::SeqCst);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
