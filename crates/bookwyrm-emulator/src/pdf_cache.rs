//! PDFs already read: a client that resumes a stream, or a test suite, sends the same file
//! again and again; it is parsed once and each of its pages is interpreted once. Reading is a
//! pure function of the bytes, so an answer from the cache is the answer a new read gives.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::algo::pdf::{PageText, Pdf};

/// Files kept: the most recently used first, up to this many bytes of PDF in all (a larger
/// file is read and not kept).
const KEPT_BYTES: usize = 64 << 20;

/// The documents read lately, keyed by their bytes.
#[derive(Debug, Default)]
pub(crate) struct PdfCache {
    entries: Mutex<VecDeque<Arc<CachedPdf>>>,
}

/// One file, as read: the document (or why it could not be read) and the pages interpreted.
#[derive(Debug)]
pub(crate) struct CachedPdf {
    bytes: Vec<u8>,
    document: Result<Pdf, String>,
    pages: Mutex<HashMap<usize, Arc<Result<PageText, String>>>>,
}

impl PdfCache {
    /// The file `bytes` read: from the cache when these bytes were read before, else read now
    /// (`parsed` counts the reads) and kept. Blocking: call it off the async threads.
    pub(crate) fn read(&self, bytes: Vec<u8>, parsed: impl FnOnce()) -> Arc<CachedPdf> {
        if let Some(hit) = self.hit(&bytes) {
            return hit;
        }
        parsed();
        let document = Pdf::load(&bytes);
        let read = Arc::new(CachedPdf {
            bytes,
            document,
            pages: Mutex::default(),
        });
        if read.bytes.len() <= KEPT_BYTES {
            let mut entries = self.entries.lock().expect("pdf cache lock");
            entries.push_front(read.clone());
            let mut kept = 0;
            entries.retain(|e| {
                kept += e.bytes.len();
                kept <= KEPT_BYTES
            });
        }
        read
    }

    /// The entry for `bytes`, moved to the front, if there is one.
    fn hit(&self, bytes: &[u8]) -> Option<Arc<CachedPdf>> {
        let mut entries = self.entries.lock().expect("pdf cache lock");
        let at = entries.iter().position(|e| e.bytes == bytes)?;
        let hit = entries.remove(at)?;
        entries.push_front(hit.clone());
        Some(hit)
    }
}

impl CachedPdf {
    /// The document, or the message saying why it could not be read.
    pub(crate) fn document(&self) -> Result<&Pdf, &str> {
        self.document.as_ref().map_err(String::as_str)
    }

    /// The text of 1-based page `number` (see [`Pdf::lines`]), interpreted once. Blocking.
    pub(crate) fn page(&self, number: usize) -> Arc<Result<PageText, String>> {
        if let Some(done) = self.pages.lock().expect("pdf page lock").get(&number) {
            return done.clone();
        }
        let text = Arc::new(match &self.document {
            Ok(pdf) => pdf.lines(number),
            Err(e) => Err(e.clone()),
        });
        let mut pages = self.pages.lock().expect("pdf page lock");
        pages.entry(number).or_insert(text).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_once_and_the_oldest_leaves_first() {
        let cache = PdfCache::default();
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let count = || {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        };
        let a = cache.read(b"not a pdf".to_vec(), count);
        assert!(a.document().unwrap_err().contains("not a PDF"));
        let again = cache.read(b"not a pdf".to_vec(), count);
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(Arc::ptr_eq(&a.page(1), &a.page(1)), "a page is read once");
        // The most recent first: a file that fills the budget with the one before it pushes
        // the oldest out; a file over the whole budget is read and not kept.
        cache.read(b"other".to_vec(), count);
        cache.read(vec![b' '; KEPT_BYTES - 9], count);
        cache.read(b"other".to_vec(), count);
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 3);
        cache.read(b"not a pdf".to_vec(), count);
        assert_eq!(
            reads.load(std::sync::atomic::Ordering::SeqCst),
            4,
            "the oldest left"
        );
        let big = vec![b' '; KEPT_BYTES + 1];
        cache.read(big.clone(), count);
        cache.read(big, count);
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 6);
    }
}
