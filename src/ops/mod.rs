//! The operations of [`AsyncBookWyrmClient`](crate::AsyncBookWyrmClient), one file per API
//! area, and the runners they share ([`call`]): every call goes through `with_retries`
//! (attempts, backoff, concurrency limit, spans); JSON answers through `run_json`, event streams
//! through `run_stream`, hand-written multipart requests through `send_handwritten`.

pub(crate) mod call;
pub mod cite;
pub mod classify;
pub mod pdf;
pub mod phrasal;
mod pydantic_schema;
pub mod summarize;
