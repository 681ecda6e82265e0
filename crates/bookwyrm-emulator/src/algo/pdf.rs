//! PDF text extraction with bounding boxes: characters from `pdf-extract`'s content-stream
//! interpreter, grouped into lines; each line is a text layout region in page coordinates
//! (PDF points, origin at the top left).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use pdf_extract::{Document, MediaBox, OutputDev, OutputError, Transform};

/// A block of text on a page (a line, or the lines of a paragraph) and its box.
///
/// ```
/// let l = bookwyrm_emulator::algo::pdf::Line { text: "Hi".into(), x1: 0.0, y1: 0.0, x2: 10.0, y2: 12.0, font_size: 12.0 };
/// assert!(l.x2 > l.x1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The text.
    pub text: String,
    /// Left.
    pub x1: f64,
    /// Top.
    pub y1: f64,
    /// Right.
    pub x2: f64,
    /// Bottom.
    pub y2: f64,
    /// Font size in points.
    pub font_size: f64,
}

/// The text of one page.
///
/// ```no_run
/// let pdf = bookwyrm_emulator::algo::pdf::Pdf::load(&std::fs::read("r.pdf").unwrap()).unwrap();
/// let page = pdf.lines(1).unwrap();
/// println!("{}x{} pt, {} lines", page.width, page.height, page.lines.len());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PageText {
    /// Page width in points.
    pub width: f64,
    /// Page height in points.
    pub height: f64,
    /// The blocks, in reading order (columns left to right, each top to bottom).
    pub lines: Vec<Line>,
}

/// A loaded PDF.
///
/// ```no_run
/// let pdf = bookwyrm_emulator::algo::pdf::Pdf::load(&std::fs::read("r.pdf").unwrap()).unwrap();
/// println!("{} pages", pdf.page_count());
/// ```
#[derive(Debug, Clone)]
pub struct Pdf {
    doc: Arc<Document>,
    pages: Vec<u32>,
}

impl Pdf {
    /// Parses a PDF; a non-PDF or a broken one is an error message.
    ///
    /// ```
    /// assert!(bookwyrm_emulator::algo::pdf::Pdf::load(b"not a pdf").is_err());
    /// ```
    pub fn load(bytes: &[u8]) -> Result<Self, String> {
        if !bytes.starts_with(b"%PDF-") && !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
            return Err("the file is not a PDF (no %PDF- header)".into());
        }
        let parse = |bytes: &[u8]| {
            std::panic::catch_unwind(|| Document::load_mem(bytes))
                .map_err(|_| "the PDF could not be parsed".to_string())?
                .map_err(|e| format!("the PDF could not be parsed: {e}"))
        };
        // Streams without a right `/Length` are measured to their `endstream`; a damaged
        // cross-reference table or trailer is recovered; as mainstream readers do.
        let fixed = super::pdf_repair::fix_stream_lengths(bytes);
        let bytes = fixed.as_deref().unwrap_or(bytes);
        let mut doc = match parse(bytes) {
            Ok(doc) => doc,
            Err(first) => {
                let rebuilt = super::pdf_xref::rebuild(bytes).map_err(|_| first.clone())?;
                parse(&rebuilt)
                    .ok()
                    .filter(|doc| !doc.get_pages().is_empty())
                    .ok_or(first)?
            }
        };
        super::pdf_repair::add_missing_fonts(&mut doc);
        if doc.is_encrypted() {
            return Err("the PDF is encrypted".into());
        }
        let pages = doc.get_pages().keys().copied().collect();
        Ok(Self {
            doc: Arc::new(doc),
            pages,
        })
    }

    /// Pages in the document.
    ///
    /// ```no_run
    /// # let pdf = bookwyrm_emulator::algo::pdf::Pdf::load(b"%PDF-").unwrap();
    /// assert!(pdf.page_count() > 0);
    /// ```
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The text blocks of 1-based page `number`, in reading order;
    /// a failure (including a panic inside the PDF interpreter) is an error message.
    ///
    /// ```no_run
    /// # let pdf = bookwyrm_emulator::algo::pdf::Pdf::load(b"%PDF-").unwrap();
    /// for line in pdf.lines(1).unwrap().lines {
    ///     println!("{:.0},{:.0}: {}", line.x1, line.y1, line.text);
    /// }
    /// ```
    pub fn lines(&self, number: usize) -> Result<PageText, String> {
        let page = *self
            .pages
            .get(number.wrapping_sub(1))
            .ok_or_else(|| format!("page {number} does not exist"))?;
        let doc = self.doc.clone();
        let result = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let mut collector = Collector::default();
            pdf_extract::output_doc_page(&doc, &mut collector, page)
                .map(|()| collector.finish())
                .map_err(|e| format!("page {number}: {e}"))
        }));
        match result {
            Ok(r) => r,
            Err(_) => Err(format!(
                "page {number}: the PDF interpreter failed on this page"
            )),
        }
    }
}

/// Merges consecutive lines of a paragraph into one block (same left edge and font size, the
/// next line right below), then orders the blocks column by column (left half of the page
/// first), top to bottom.
fn blocks(lines: Vec<Line>, width: f64) -> Vec<Line> {
    let mut blocks: Vec<Line> = Vec::new();
    for l in lines {
        let s = l.font_size;
        let into = blocks.iter().rposition(|b| {
            (b.x1 - l.x1).abs() < s
                && (b.font_size - s).abs() < 0.5
                && l.y1 >= b.y2 - s * 0.5
                && l.y1 - b.y2 < s * 0.6
        });
        match into {
            Some(i) => {
                let b = &mut blocks[i];
                b.text.push(' ');
                b.text.push_str(&l.text);
                b.x1 = b.x1.min(l.x1);
                b.x2 = b.x2.max(l.x2);
                b.y2 = b.y2.max(l.y2);
            }
            None => blocks.push(l),
        }
    }
    let column = |b: &Line| u8::from(b.x1 >= width / 2.0);
    blocks.sort_by(|a, b| column(a).cmp(&column(b)).then(a.y1.total_cmp(&b.y1)));
    blocks
}

#[derive(Default)]
struct Collector {
    width: f64,
    height: f64,
    lines: Vec<Line>,
    cur: Option<Line>,
    last_end: f64,
    last_y: f64,
    word_start: bool,
}

impl Collector {
    fn flush(&mut self) {
        if let Some(mut l) = self.cur.take() {
            let trimmed = l.text.trim();
            if !trimmed.is_empty() {
                l.text = trimmed.to_string();
                self.lines.push(l);
            }
        }
    }

    fn finish(mut self) -> PageText {
        self.flush();
        let (width, height) = (self.width, self.height);
        PageText {
            width,
            height,
            lines: blocks(self.lines, width),
        }
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _n: u32,
        media_box: &MediaBox,
        _art: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.height = media_box.ury - media_box.lly;
        self.width = media_box.urx - media_box.llx;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.flush();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        // Position in top-left coordinates, font size through the text matrix.
        let x = trm.m31;
        let y = self.height - trm.m32;
        let vx = font_size * trm.m11 + font_size * trm.m21;
        let vy = font_size * trm.m12 + font_size * trm.m22;
        let size = (vx * vy).abs().sqrt().max(0.1);
        if !x.is_finite() || !y.is_finite() {
            return Ok(());
        }
        // A new line when the baseline moves, the text goes back left, or it jumps right
        // across a gap wider than any word space (another column).
        let new_line = match &self.cur {
            None => true,
            Some(_) => {
                (y - self.last_y).abs() > size * 0.5
                    || x < self.last_end - size * 2.0
                    || x > self.last_end + size * 1.5
            }
        };
        if new_line {
            self.flush();
            self.cur = Some(Line {
                text: String::new(),
                x1: x,
                y1: y - size * 0.8,
                x2: x,
                y2: y + size * 0.2,
                font_size: size,
            });
        } else if self.word_start
            && x > self.last_end + size * 0.1
            && let Some(l) = &mut self.cur
            && !l.text.ends_with(' ')
        {
            l.text.push(' ');
        }
        self.word_start = false;
        let end = x + width * size;
        let cur = self.cur.as_mut().expect("a line is open");
        let clean: String = ch.chars().filter(|c| !c.is_control()).collect();
        cur.text.push_str(&clean);
        cur.x1 = cur.x1.min(x);
        cur.x2 = cur.x2.max(end);
        cur.y1 = cur.y1.min(y - size * 0.8);
        cur.y2 = cur.y2.max(y + size * 0.2);
        cur.font_size = cur.font_size.max(size);
        self.last_end = end;
        self.last_y = y;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
