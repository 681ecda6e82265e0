//! What the emulator counts: requests, connections, streams and faults.

use std::sync::atomic::{AtomicU64, Ordering};

/// The `Stats` struct, one atomic counter per name, and a getter with an example for each.
macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
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
            $(pub(crate) $name: AtomicU64,)*
        }

        impl Stats {
            $(
                $(#[doc = $doc])*
                ///
                /// ```no_run
                /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
                #[doc = concat!(" assert_eq!(e.stats().", stringify!($name), "(), 0);")]
                /// # }
                /// ```
                pub fn $name(&self) -> u64 {
                    self.$name.load(Ordering::SeqCst)
                }
            )*
        }
    };
}

counters! {
    /// Requests received.
    requests,
    /// Requests in flight now (a stream counts until its body ends or is dropped).
    in_flight,
    /// The most requests ever in flight at once.
    max_in_flight,
    /// TCP connections accepted.
    connections,
    /// TCP connections open now (a client's pooled idle connections count).
    connections_open,
    /// Event streams started.
    streams_started,
    /// Event streams sent to their end.
    streams_completed,
    /// Event streams whose client went away before the end (the server saw the disconnect).
    streams_cancelled,
    /// Requests a fault was applied to.
    faults_applied,
    /// PDF files parsed (a file sent again is read from the emulator's cache of recent files).
    pdfs_parsed,
}
