//! From extracted PDF pages to plain text with exactly one bounding box per character, and
//! back from a character range to the boxes and pages it covers.
//!
//! Text elements are the regions with text, page by page, in each page's reading order; the
//! raw text joins them with `\n`. Every character of the raw text, separators included, has
//! one [`CharacterMapping`] whose `char_index` is its position in code points, so a range of
//! the text is a range of the mapping.
//!
//! ```
//! use bookwyrm::pdf_text::PdfTextMapping;
//! use bookwyrm::types::PdfPage;
//!
//! let page: PdfPage = serde_json::from_value(serde_json::json!({
//!     "page_number": 1,
//!     "layout_regions": [
//!         {"bbox": [], "coordinates": {"x1": 10, "y1": 10, "x2": 90, "y2": 20},
//!          "content": {"content_type": "text", "label": "title", "text": "Café"}},
//!         {"bbox": [], "coordinates": {"x1": 10, "y1": 30, "x2": 90, "y2": 40},
//!          "content": {"content_type": "text", "label": "text", "text": "Body"}}
//!     ]
//! })).unwrap();
//! let mapping = PdfTextMapping::from_pages(&[page], None);
//! assert_eq!(mapping.raw_text, "Café\nBody");
//! assert_eq!(mapping.character_mappings.len(), mapping.raw_text.chars().count());
//! let q = mapping.query(5, 9).unwrap();
//! assert_eq!(q.sample_text, "Body");
//! assert_eq!(q.pages, vec![1]);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::BookWyrmClientError;
use crate::types::PdfPage;

/// The box of one character of the raw text.
///
/// ```
/// let m = bookwyrm::pdf_text::CharacterMapping { char_index: 0, page_number: 1, x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0, confidence: 1.0, original_text_element_index: 0 };
/// assert_eq!(m.page_number, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterMapping {
    /// Position of the character in the raw text, in code points.
    pub char_index: u64,
    /// Page number (1-based).
    pub page_number: u64,
    /// Left of the element's box.
    pub x1: f64,
    /// Top of the element's box.
    pub y1: f64,
    /// Right of the element's box.
    pub x2: f64,
    /// Bottom of the element's box.
    pub y2: f64,
    /// Recognition confidence of the element (1.0 when not given).
    pub confidence: f64,
    /// Index of the text element on its page.
    pub original_text_element_index: u64,
}

/// Raw text of a PDF extraction and one [`CharacterMapping`] per character.
///
/// ```
/// let m = bookwyrm::pdf_text::PdfTextMapping::from_pages(&[], Some("x.json".into()));
/// assert_eq!((m.total_characters, m.total_pages), (0, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PdfTextMapping {
    /// The text: elements joined with `\n`.
    pub raw_text: String,
    /// One entry per character of `raw_text`, in order.
    pub character_mappings: Vec<CharacterMapping>,
    /// Pages the extraction had.
    pub total_pages: u64,
    /// Characters in `raw_text` (code points).
    pub total_characters: u64,
    /// Where the extraction came from, when known.
    #[serde(default)]
    pub source_file: Option<String>,
}

/// The box of one text element of a page, with how many of the range's characters it holds
/// (see [`RangeQuery::element_boxes`]).
///
/// ```
/// let b = bookwyrm::pdf_text::ElementBox { page_number: 1, element_index: 0, x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0, confidence: 1.0, characters: 3 };
/// assert_eq!(b.characters, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementBox {
    /// Page number (1-based).
    pub page_number: u64,
    /// Index of the text element on its page.
    pub element_index: u64,
    /// Left of the box.
    pub x1: f64,
    /// Top of the box.
    pub y1: f64,
    /// Right of the box.
    pub x2: f64,
    /// Bottom of the box.
    pub y2: f64,
    /// Recognition confidence of the element.
    pub confidence: f64,
    /// Characters of the range in this element.
    pub characters: u64,
}

/// The answer to [`PdfTextMapping::query`].
///
/// ```
/// # let q = bookwyrm::pdf_text::RangeQuery::default();
/// assert!(q.pages.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RangeQuery {
    /// First character (inclusive).
    pub start_char: u64,
    /// After the last character (exclusive), clamped to the text's length.
    pub end_char: u64,
    /// The `end_char` asked for, when it was beyond the text and clamped.
    pub requested_end_char: Option<u64>,
    /// Characters in the range.
    pub character_count: u64,
    /// Pages the range covers, ascending.
    pub pages: Vec<u64>,
    /// The characters' boxes by page.
    pub bounding_boxes: BTreeMap<u64, Vec<CharacterMapping>>,
    /// The range's text (at most 200 characters).
    pub sample_text: String,
}

impl RangeQuery {
    /// The boxes of the elements the range touches, each once (its characters share their
    /// element's box), by page and then in text order: what to highlight on the page.
    ///
    /// ```
    /// let q = bookwyrm::pdf_text::RangeQuery::default();
    /// assert!(q.element_boxes().is_empty());
    /// ```
    pub fn element_boxes(&self) -> Vec<ElementBox> {
        let mut out: Vec<ElementBox> = Vec::new();
        for chars in self.bounding_boxes.values() {
            for m in chars {
                match out.last_mut() {
                    Some(last)
                        if last.page_number == m.page_number
                            && last.element_index == m.original_text_element_index =>
                    {
                        last.characters += 1;
                    }
                    _ => out.push(ElementBox {
                        page_number: m.page_number,
                        element_index: m.original_text_element_index,
                        x1: m.x1,
                        y1: m.y1,
                        x2: m.x2,
                        y2: m.y2,
                        confidence: m.confidence,
                        characters: 1,
                    }),
                }
            }
        }
        out
    }
}

struct Element<'a> {
    text: &'a str,
    page: u64,
    index: u64,
    bbox: [f64; 4],
    confidence: f64,
}

/// The text elements of `page`, in reading order: its `layout_regions` with text (in
/// `reading_order` when it names only regions that exist), else its legacy `text_blocks`.
fn push_elements<'p>(page: &'p PdfPage, elements: &mut Vec<Element<'p>>) {
    let regions = &page.layout_regions;
    let order: Vec<usize> = if !page.reading_order.is_empty()
        && page
            .reading_order
            .iter()
            .all(|&i| (i as usize) < regions.len())
    {
        page.reading_order.iter().map(|&i| i as usize).collect()
    } else {
        (0..regions.len()).collect()
    };
    let mut index = 0u64;
    for i in order {
        let r = &regions[i];
        let Some(text) = r.content.text.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let c = &r.coordinates;
        elements.push(Element {
            text,
            page: page.page_number,
            index,
            bbox: [c.x1, c.y1, c.x2, c.y2],
            confidence: r.content.confidence.or(r.confidence).unwrap_or(1.0),
        });
        index += 1;
    }
    if regions.is_empty() {
        for (i, block) in page.text_blocks.iter().enumerate() {
            let Some(text) = block
                .get("text")
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty())
            else {
                continue;
            };
            let coord = |k: &str| {
                block
                    .get("coordinates")
                    .and_then(|c| c.get(k))
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0)
            };
            elements.push(Element {
                text,
                page: page.page_number,
                index: i as u64,
                bbox: [coord("x1"), coord("y1"), coord("x2"), coord("y2")],
                confidence: block
                    .get("confidence")
                    .and_then(|v| v.as_f64())
                    .unwrap_or(1.0),
            });
        }
    }
}

impl PdfTextMapping {
    /// Builds the mapping of extracted pages (`layout_regions` with text, in each page's
    /// `reading_order` when given; legacy `text_blocks` for pages without regions).
    ///
    /// ```
    /// let m = bookwyrm::pdf_text::PdfTextMapping::from_pages(&[], None);
    /// assert!(m.raw_text.is_empty());
    /// ```
    pub fn from_pages(pages: &[PdfPage], source_file: Option<String>) -> Self {
        let mut elements: Vec<Element<'_>> = Vec::new();
        for page in pages {
            push_elements(page, &mut elements);
        }
        let mut raw_text = String::new();
        let mut character_mappings: Vec<CharacterMapping> = Vec::new();
        for (n, e) in elements.iter().enumerate() {
            // The `\n` between two elements belongs to the one before it.
            let separator = (n > 0).then(|| ('\n', &elements[n - 1]));
            for (ch, owner) in separator.into_iter().chain(e.text.chars().map(|c| (c, e))) {
                raw_text.push(ch);
                character_mappings.push(CharacterMapping {
                    char_index: character_mappings.len() as u64,
                    page_number: owner.page,
                    x1: owner.bbox[0],
                    y1: owner.bbox[1],
                    x2: owner.bbox[2],
                    y2: owner.bbox[3],
                    confidence: owner.confidence,
                    original_text_element_index: owner.index,
                });
            }
        }
        Self {
            total_characters: character_mappings.len() as u64,
            raw_text,
            character_mappings,
            total_pages: pages.len() as u64,
            source_file,
        }
    }

    /// The code-point range of the first occurrence of `needle` in the raw text (`None` when
    /// absent or empty); pass it to [`query`](Self::query) for its boxes.
    ///
    /// ```
    /// # use bookwyrm::pdf_text::PdfTextMapping;
    /// let m = PdfTextMapping { raw_text: "Ångström units".into(), character_mappings: vec![], total_pages: 0, total_characters: 14, source_file: None };
    /// assert_eq!(m.find("units"), Some(9..14));
    /// assert_eq!(m.find("inches"), None);
    /// ```
    pub fn find(&self, needle: &str) -> Option<std::ops::Range<u64>> {
        if needle.is_empty() {
            return None;
        }
        let at = self.raw_text.find(needle)?;
        let start = self.raw_text[..at].chars().count() as u64;
        Some(start..start + needle.chars().count() as u64)
    }

    /// The boxes and pages of characters `start_char..end_char` (code points; `end_char` is
    /// clamped to the text's length). A start beyond the text or an empty range is a
    /// validation error.
    ///
    /// ```
    /// let m = bookwyrm::pdf_text::PdfTextMapping::from_pages(&[], None);
    /// assert!(m.query(0, 1).is_err());
    /// ```
    pub fn query(&self, start_char: u64, end_char: u64) -> Result<RangeQuery, BookWyrmClientError> {
        if end_char <= start_char {
            return Err(BookWyrmClientError::validation(
                "end_char",
                format!("end_char must be > start_char (got {end_char} <= {start_char})"),
            ));
        }
        let total = self.character_mappings.len() as u64;
        if start_char >= total {
            return Err(BookWyrmClientError::validation(
                "start_char",
                format!("start_char {start_char} is beyond text length {total}"),
            ));
        }
        let end = end_char.min(total);
        let mut bounding_boxes: BTreeMap<u64, Vec<CharacterMapping>> = BTreeMap::new();
        for m in &self.character_mappings[start_char as usize..end as usize] {
            bounding_boxes
                .entry(m.page_number)
                .or_default()
                .push(m.clone());
        }
        Ok(RangeQuery {
            start_char,
            end_char: end,
            requested_end_char: (end != end_char).then_some(end_char),
            character_count: end - start_char,
            pages: bounding_boxes.keys().copied().collect(),
            bounding_boxes,
            sample_text: self
                .raw_text
                .chars()
                .skip(start_char as usize)
                .take(((end - start_char) as usize).min(200))
                .collect(),
        })
    }
}
