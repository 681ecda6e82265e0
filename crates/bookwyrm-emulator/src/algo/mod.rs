//! The deterministic algorithms behind the operations; no model, no network.

pub mod cite;
pub mod classify;
#[cfg(feature = "pdf")]
pub mod pdf;
#[cfg(feature = "pdf")]
pub mod pdf_repair;
#[cfg(feature = "pdf")]
pub mod pdf_xref;
pub mod phrasal;
pub mod structured;
pub mod summarize;
pub mod text;
