//! What the emulator counts: requests, connections, streams and faults.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of what the emulator saw. All methods read atomics.
///
/// ```no_run
/// # async fn run() {
/// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
/// println!("{} requests, at most {} at once", e.stats().requests(), e.stats().max_in_flight());
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) requests: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) max_in_flight: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) connections_open: AtomicU64,
    pub(crate) streams_started: AtomicU64,
    pub(crate) streams_completed: AtomicU64,
    pub(crate) streams_cancelled: AtomicU64,
    pub(crate) faults_applied: AtomicU64,
}

impl Stats {
    /// Requests received.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().requests(), 0);
    /// # }
    /// ```
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests in flight now (a stream counts until its body ends or is dropped).
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().in_flight(), 0);
    /// # }
    /// ```
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests ever in flight at once.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().max_in_flight(), 0);
    /// # }
    /// ```
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().connections(), 0);
    /// # }
    /// ```
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// TCP connections open now (a client's pooled idle connections count).
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().connections_open(), 0);
    /// # }
    /// ```
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Ordering::SeqCst)
    }

    /// Event streams started.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().streams_started(), 0);
    /// # }
    /// ```
    pub fn streams_started(&self) -> u64 {
        self.streams_started.load(Ordering::SeqCst)
    }

    /// Event streams sent to their end.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().streams_completed(), 0);
    /// # }
    /// ```
    pub fn streams_completed(&self) -> u64 {
        self.streams_completed.load(Ordering::SeqCst)
    }

    /// Event streams whose client went away before the end (the server saw the disconnect).
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().streams_cancelled(), 0);
    /// # }
    /// ```
    pub fn streams_cancelled(&self) -> u64 {
        self.streams_cancelled.load(Ordering::SeqCst)
    }

    /// Requests a fault was applied to.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().faults_applied(), 0);
    /// # }
    /// ```
    pub fn faults_applied(&self) -> u64 {
        self.faults_applied.load(Ordering::SeqCst)
    }
}
