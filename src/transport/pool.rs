//! The idle HTTP/1 connections of one client, kept between requests: per scheme, host and
//! port, bounded, each dropped after an idle timeout or when found closed.
//!
//! Nothing drives an idle connection (no task is spawned for it): a connection is checked when
//! it is taken, by polling it once, which is when hyper notices that the server closed it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;

use super::conn::Conn;

/// How long a connection may wait in the pool (reqwest's default).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Most idle connections kept per host.
pub(crate) const MAX_IDLE_PER_HOST: usize = 32;

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// One HTTP/1 connection: the handle that sends requests and the future that drives the
/// protocol. Whoever holds it polls `driver`; nothing else does.
pub(crate) struct Http1 {
    pub(crate) send: SendRequest<Full<Bytes>>,
    pub(crate) driver: Pin<Box<Connection<TokioIo<Conn>, Full<Bytes>>>>,
}

impl Http1 {
    /// Drives the connection as far as it goes without waiting; `true` while it is open.
    /// Closed means the driver finished (the server closed it, or it failed).
    pub(crate) fn poll_open(&mut self, cx: &mut Context<'_>) -> bool {
        self.driver.as_mut().poll(cx).is_pending() && !self.send.is_closed()
    }
}

struct Idle {
    conn: Http1,
    since: Instant,
}

/// The idle connections of one client.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<Key, Vec<Idle>>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle: usize = self
            .idle
            .lock()
            .map(|m| m.values().map(Vec::len).sum())
            .unwrap_or(0);
        f.debug_struct("Pool").field("idle", &idle).finish()
    }
}

impl Pool {
    /// The most recently used open connection to `key`, if any. Expired and closed ones met on
    /// the way are dropped.
    pub(crate) fn take(&self, key: &Key) -> Option<Http1> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.get_mut(key)?;
        while let Some(mut entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && entry.conn.poll_open(&mut cx) {
                return Some(entry.conn);
            }
            tracing::trace!(host = %key.host, "dropping a closed or expired pooled connection");
        }
        None
    }

    /// Keeps `conn` for the next request to `key`, unless the pool is closed or full.
    pub(crate) fn put(&self, key: Key, mut conn: Http1) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let mut cx = Context::from_waker(Waker::noop());
        if !conn.poll_open(&mut cx) {
            return;
        }
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.entry(key).or_default();
        list.retain(|e| e.since.elapsed() < IDLE_TIMEOUT);
        if list.len() >= MAX_IDLE_PER_HOST {
            list.remove(0);
        }
        list.push(Idle {
            conn,
            since: Instant::now(),
        });
    }

    /// Closes every idle connection; connections given back later are closed at once.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().expect("pool lock").clear();
    }

    /// How many connections are idle now.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .expect("pool lock")
            .values()
            .map(Vec::len)
            .sum()
    }
}
