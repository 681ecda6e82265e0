//! The TCP socket of a direct connection, taken out of the runtime's reactor while a stream's
//! data flows.
//!
//! Why: a socket registered with tokio's reactor stays in its epoll set, edge-triggered, and
//! the kernel wakes the thread waiting in `epoll_wait` on every segment that arrives. In a
//! multi-thread runtime that thread is an idle worker, while the stream is read on another
//! one (the `block_on` thread of `#[tokio::main]`, the blocking client's caller, a busy
//! worker): every segment of a fast stream woke the idle worker for nothing (measured: 9,135
//! context switches for a stream of 200,000 one-chunk events, against 1,101 on a
//! current-thread runtime). Here a read that brings [`QUIET_AFTER`] bytes or more, where
//! another thread drives the reactor, takes the socket out of the epoll set; it is read and
//! written directly while data keeps coming, and registered again when a read or a write
//! would block. Registering a socket that is ready already reports it at once (epoll checks
//! on insertion), so no wake-up is lost between the read that would block and the
//! registration. Small reads (JSON answers, a slow stream's events) leave the registration as
//! tokio would, so that a connection waiting for one answer after another is not registered
//! again for each.
//!
//! Reads go into the unfilled part of hyper's buffer without zeroing it first (`socket2`'s
//! `recv` takes uninitialized memory).
//!
//! Other platforms than Unix keep tokio's `TcpStream`.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

/// A read at least this large takes the socket out of the reactor: more is likely on its way
/// while this is handled. Smaller answers (a JSON call's, a slow stream's events) leave it
/// registered, as tokio would, so that a connection waiting for one answer after another is
/// not registered again for each.
const QUIET_AFTER: usize = 1024;

/// A connected, non-blocking TCP socket.
pub(crate) struct Socket {
    state: State,
    /// The runtime whose reactor it registers with when no runtime is current (a stream
    /// polled by another executor).
    runtime: tokio::runtime::Handle,
    /// A write waits for the socket to become writable: it stays registered until then.
    write_waits: bool,
    /// The waker of the last read that waited, woken when the registration it waits on is
    /// replaced (a write that blocks needs write interest as well).
    reader: Option<Waker>,
}

enum State {
    /// Not in the reactor: reads and writes go straight to the socket.
    Quiet(std::net::TcpStream),
    /// In the reactor, for a read (readable interest only: a writable socket registered with
    /// write interest is reported at once, a wake-up of the reactor's thread for nothing) or
    /// for a write that waits (both interests).
    Registered(AsyncFd<std::net::TcpStream>, Interest),
    /// Lost: the registration failed (the socket was closed with it).
    Gone,
}

impl Socket {
    /// Takes `stream` out of tokio's reactor.
    pub(crate) fn new(stream: tokio::net::TcpStream) -> io::Result<Self> {
        Ok(Self {
            state: State::Quiet(stream.into_std()?),
            runtime: tokio::runtime::Handle::try_current().map_err(io::Error::other)?,
            write_waits: false,
            reader: None,
        })
    }

    fn stream(&self) -> io::Result<&std::net::TcpStream> {
        match &self.state {
            State::Quiet(s) => Ok(s),
            State::Registered(fd, _) => Ok(fd.get_ref()),
            State::Gone => Err(gone()),
        }
    }

    /// Puts the socket in the reactor (of the current runtime, else the one it was made in)
    /// with at least `interest`. A registration without it is replaced, and the read that
    /// waited on it is woken to wait on the new one.
    fn register(&mut self, interest: Interest) -> io::Result<()> {
        let stream = match std::mem::replace(&mut self.state, State::Gone) {
            State::Registered(fd, has) if has | interest == has => {
                self.state = State::Registered(fd, has);
                return Ok(());
            }
            State::Registered(fd, _) => {
                if let Some(reader) = self.reader.take() {
                    reader.wake();
                }
                fd.into_inner()
            }
            State::Quiet(stream) => stream,
            State::Gone => return Err(gone()),
        };
        let _entered = match tokio::runtime::Handle::try_current() {
            Ok(_) => None,
            Err(_) => Some(self.runtime.enter()),
        };
        #[allow(deprecated)] // `register_with_interest` needs tokio 1.54; a std socket is I/O-safe
        let fd = AsyncFd::with_interest(stream, interest)?;
        self.state = State::Registered(fd, interest);
        Ok(())
    }

    /// Takes the socket out of the reactor.
    fn quiet(&mut self) {
        self.state = match std::mem::replace(&mut self.state, State::Gone) {
            State::Registered(fd, _) => State::Quiet(fd.into_inner()),
            other => other,
        };
    }
}

/// Whether the reactor may be driven by another thread than this one, asleep in `epoll_wait`
/// (a multi-thread runtime, or none current); a current-thread runtime drives it from the
/// thread that reads, which no arrival wakes while it works.
fn others_drive_the_reactor() -> bool {
    tokio::runtime::Handle::try_current().map_or(true, |h| {
        h.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread
    })
}

/// Reads from `socket` into the unfilled part of `buf` and marks what was read as filled.
fn recv(socket: &std::net::TcpStream, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
    // SAFETY: `recv` only writes into the slice (never de-initializes a byte of it).
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = socket2::SockRef::from(socket).recv(unfilled)?;
    // SAFETY: `recv` initialized the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the socket was lost")
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let read = match &this.state {
                State::Registered(fd, _) => match fd.poll_read_ready(cx) {
                    Poll::Pending => {
                        if !this
                            .reader
                            .as_ref()
                            .is_some_and(|w| w.will_wake(cx.waker()))
                        {
                            this.reader = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(mut ready)) => {
                        let room = buf.remaining();
                        match ready.try_io(|fd| recv(fd.get_ref(), buf)) {
                            // Less than asked for: the socket is drained, as tokio assumes
                            // too; the next read waits for the next readiness instead of
                            // finding out with a read that would block.
                            Ok(Ok(n)) if n > 0 && n < room => {
                                ready.clear_ready();
                                Ok(n)
                            }
                            Ok(read) => read,
                            Err(_would_block) => continue, // readiness cleared: wait
                        }
                    }
                },
                State::Quiet(s) => match recv(s, buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        this.register(Interest::READABLE)?;
                        continue;
                    }
                    read => read,
                },
                State::Gone => Err(gone()),
            };
            match read {
                Ok(read) => {
                    // Data flows: out of the reactor while it is being handled (unless a write
                    // waits on the registration).
                    if read >= QUIET_AFTER && !this.write_waits && others_drive_the_reactor() {
                        this.quiet();
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Socket {
    fn poll_io<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut io: impl FnMut(&std::net::TcpStream) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match io(self.stream()?) {
                Ok(r) => {
                    self.write_waits = false;
                    return Poll::Ready(Ok(r));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.register(Interest::READABLE | Interest::WRITABLE)?;
                    let State::Registered(fd, _) = &self.state else {
                        return Poll::Ready(Err(gone()));
                    };
                    match fd.poll_write_ready(cx) {
                        Poll::Pending => {
                            self.write_waits = true;
                            return Poll::Pending;
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Ready(Ok(mut ready)) => ready.clear_ready(),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io(cx, |mut s| s.write(data))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io(cx, |mut s| s.write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(
            self.stream()
                .and_then(|s| s.shutdown(std::net::Shutdown::Write)),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::Socket;

    /// A peer on loopback and our socket to it.
    async fn pair() -> (Socket, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ours = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (theirs, _) = listener.accept().unwrap();
        (Socket::new(ours).unwrap(), theirs)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn reads_wait_for_data_that_comes_in_bursts_and_see_the_end() {
        let (mut ours, mut theirs) = pair().await;
        let sent = pattern(200 * 1000);
        let expected = sent.clone();
        let peer = std::thread::spawn(move || {
            for burst in sent.chunks(1000) {
                theirs.write_all(burst).unwrap();
                std::thread::sleep(Duration::from_micros(300));
            }
        });
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), ours.read_to_end(&mut got))
            .await
            .expect("every burst wakes the reader")
            .unwrap();
        peer.join().unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes arrive intact and in order");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_write_larger_than_the_buffers_waits_for_the_peer_and_finishes() {
        let (mut ours, mut theirs) = pair().await;
        let sent = pattern(16 << 20);
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200)); // the writer must wait
            let mut got = Vec::new();
            theirs.read_to_end(&mut got).unwrap();
            got
        });
        tokio::time::timeout(Duration::from_secs(20), async {
            ours.write_all(&sent).await.unwrap();
            ours.shutdown().await.unwrap();
        })
        .await
        .expect("the writer is woken when the peer reads");
        let got = peer.join().unwrap();
        assert_eq!(got.len(), sent.len());
        assert!(got == sent);
    }

    /// A reader woken while a writer waits keeps the registration the writer waits on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_reader_and_a_waiting_writer_both_finish() {
        let (ours, mut theirs) = pair().await;
        let (mut read_half, mut write_half) = tokio::io::split(ours);
        let sent = pattern(16 << 20);
        let len = sent.len();
        let peer = std::thread::spawn(move || {
            // Talk first while not reading, so the writer waits as the reader is woken.
            let mut talker = theirs.try_clone().unwrap();
            let talk = std::thread::spawn(move || {
                for _ in 0..50 {
                    talker.write_all(&[7; 100]).unwrap();
                    std::thread::sleep(Duration::from_millis(4));
                }
                talker.shutdown(std::net::Shutdown::Write).unwrap();
            });
            std::thread::sleep(Duration::from_millis(300));
            let mut got = Vec::new();
            theirs.read_to_end(&mut got).unwrap();
            talk.join().unwrap();
            got.len()
        });
        let writing = async {
            write_half.write_all(&sent).await.unwrap();
            write_half.shutdown().await.unwrap();
        };
        let reading = async {
            let mut got = Vec::new();
            read_half.read_to_end(&mut got).await.unwrap();
            got.len()
        };
        let (_, read) = tokio::time::timeout(Duration::from_secs(20), async {
            tokio::join!(writing, reading)
        })
        .await
        .expect("neither side is left waiting");
        assert_eq!(read, 50 * 100);
        assert_eq!(peer.join().unwrap(), len);
    }

    /// A read waiting in one task while a write in another blocks (and replaces the read-only
    /// registration with one for both): the reader is woken to wait on the new one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_in_another_task_survives_a_write_that_blocks() {
        let (ours, mut theirs) = pair().await;
        let (mut read_half, mut write_half) = tokio::io::split(ours);
        let sent = pattern(16 << 20);
        let len = sent.len();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            read_half.read_to_end(&mut got).await.unwrap();
            got
        });
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300)); // reader waiting, writer blocked
            let mut got = vec![0u8; len];
            theirs.read_exact(&mut got).unwrap();
            theirs.write_all(b"answer").unwrap();
            theirs.shutdown(std::net::Shutdown::Write).unwrap();
            got.len()
        });
        tokio::time::sleep(Duration::from_millis(50)).await; // the reader waits first
        write_half.write_all(&sent).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(20), reader)
            .await
            .expect("the reader is not left waiting on a replaced registration")
            .unwrap();
        assert_eq!(got, b"answer");
        assert_eq!(peer.join().unwrap(), len);
    }

    /// Polled by another executor (no runtime current), the socket waits on the reactor of
    /// the runtime it was made in.
    #[test]
    fn read_outside_any_runtime_waits_on_the_runtime_it_was_made_in() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (mut ours, mut theirs) = rt.block_on(pair());
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100)); // the read must wait
            theirs.write_all(b"late").unwrap();
        });
        let mut got = [0u8; 4];
        futures_executor_block_on(ours.read_exact(&mut got)).unwrap();
        peer.join().unwrap();
        assert_eq!(&got, b"late");
    }

    /// A minimal executor that is not tokio's: parks the thread until woken.
    fn futures_executor_block_on<F: std::future::Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        let started = std::time::Instant::now();
        loop {
            if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "never woken");
            std::thread::park_timeout(Duration::from_secs(20));
        }
    }
}
