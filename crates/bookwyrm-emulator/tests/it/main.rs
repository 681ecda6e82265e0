//! The emulator's tests, one binary (a module per area) so that the emulator, axum and tokio
//! are linked once: the algorithms on real text and PDFs, the HTTP surface, the PDF corpus.

mod algorithms;
mod http;
mod pdf_corpus;
