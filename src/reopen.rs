//! What a stream needs to open itself again (a retry before its first event, a resume after
//! a break): its body type and the future of a new attempt.

use std::pin::Pin;

use bytes::Bytes;
use futures_core::stream::Stream;

use crate::error::BookWyrmClientError;

/// The response body, with transport failures already mapped.
pub(crate) type Body = Pin<Box<dyn Stream<Item = Result<Bytes, BookWyrmClientError>> + Send>>;

/// A new attempt at opening the same stream, under way: the body and the last attempt number
/// used.
pub(crate) type Reopening = Pin<
    Box<
        dyn std::future::Future<Output = Result<(Body, Option<String>, u32), BookWyrmClientError>>
            + Send,
    >,
>;

/// Starts a new attempt at opening the same stream, numbered from its argument (with the
/// call's retries).
pub(crate) type Reopen = std::sync::Arc<dyn Fn(u32) -> Reopening + Send + Sync>;

/// A request that fails at once with a validation error on `field` (a resume request that
/// could not be built).
pub(crate) fn refused(field: &'static str, why: String) -> Reopen {
    std::sync::Arc::new(move |_| {
        let e = BookWyrmClientError::validation(field, why.clone());
        Box::pin(async move { Err(e) })
    })
}
