//! Text basics shared by the algorithms: sentences with code-point offsets, words, stop words.

/// A span of the input: code-point offsets and byte offsets.
///
/// ```
/// let s = bookwyrm_emulator::algo::text::sentences("Ünï. Two.");
/// assert_eq!((s[1].start_char, s[1].start_byte), (5, 7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First code point (inclusive).
    pub start_char: usize,
    /// Code point after the last (exclusive).
    pub end_char: usize,
    /// First byte (inclusive).
    pub start_byte: usize,
    /// Byte after the last (exclusive).
    pub end_byte: usize,
}

impl Span {
    /// The span's text in `source`.
    ///
    /// ```
    /// let s = bookwyrm_emulator::algo::text::sentences("Hi there. Bye.");
    /// assert_eq!(s[1].text("Hi there. Bye."), "Bye.");
    /// ```
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start_byte..self.end_byte]
    }

    /// Length in code points.
    ///
    /// ```
    /// let s = bookwyrm_emulator::algo::text::sentences("Café au lait.");
    /// assert_eq!(s[0].len_chars(), 13);
    /// ```
    pub fn len_chars(&self) -> usize {
        self.end_char - self.start_char
    }
}

/// Converts byte offsets to code-point offsets, for increasing byte offsets in linear time.
///
/// ```
/// let mut c = bookwyrm_emulator::algo::text::CharCounter::new("日本");
/// assert_eq!(c.at(6), 2);
/// ```
#[derive(Debug)]
pub struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    /// A counter at the start of `text`.
    ///
    /// ```
    /// let mut c = bookwyrm_emulator::algo::text::CharCounter::new("é!");
    /// assert_eq!(c.at(2), 1);
    /// ```
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            byte: 0,
            chars: 0,
        }
    }

    /// The code-point offset of byte offset `byte` (a char boundary; moving back restarts).
    ///
    /// ```
    /// let mut c = bookwyrm_emulator::algo::text::CharCounter::new("aé b");
    /// assert_eq!(c.at(4), 3);
    /// ```
    pub fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// The sentences of `text` (sentencex, English rules), trimmed of surrounding white space,
/// with code-point offsets such that `text[start_char..end_char]` (in code points) is the
/// sentence. Empty sentences are skipped; spans never overlap and come in order.
///
/// ```
/// let text = "The café opened. Núñez walked in!";
/// let s = bookwyrm_emulator::algo::text::sentences(text);
/// assert_eq!(s.len(), 2);
/// assert_eq!((s[1].start_char, s[1].end_char), (17, 33));
/// ```
pub fn sentences(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut counter = CharCounter::new(text);
    let mut floor = 0usize;
    for b in sentencex::get_sentence_boundaries("en", text) {
        let (mut s, mut e) = (b.start_byte.max(floor), b.end_byte.min(text.len()));
        if s >= e || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        let slice = &text[s..e];
        let lead = slice.len() - slice.trim_start().len();
        let trail = slice.len() - slice.trim_end().len();
        s += lead;
        e -= trail;
        if s >= e {
            continue;
        }
        let start_char = counter.at(s);
        let end_char = counter.at(e);
        out.push(Span {
            start_char,
            end_char,
            start_byte: s,
            end_byte: e,
        });
        floor = e;
    }
    out
}

/// The words of a text (letters and digits) that are not stop words, each with its term:
/// lower-cased and lightly stemmed.
///
/// ```
/// let w = bookwyrm_emulator::algo::text::words_with_terms("Snow covered the pass.");
/// assert_eq!(w, vec![("Snow".to_string(), "snow".to_string()), ("covered".into(), "cover".into()), ("pass".into(), "pass".into())]);
/// ```
pub fn words_with_terms(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let lower = w.to_lowercase();
            (!is_stop_word(&lower)).then(|| (w.to_string(), stem(&lower)))
        })
        .collect()
}

/// Lower-cased words (letters and digits), without stop words, lightly stemmed.
///
/// ```
/// let w = bookwyrm_emulator::algo::text::terms("The Blind men were climbing the mountains.");
/// assert_eq!(w, vec!["blind", "men", "climb", "mountain"]);
/// ```
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(&w))
        .collect()
}

/// A crude, deterministic suffix stripper.
fn stem(word: &str) -> String {
    for suffix in ["ing", "edly", "ed", "ies", "es", "s", "ly"] {
        if suffix == "s" && (word.ends_with("ss") || word.ends_with("us") || word.ends_with("is")) {
            continue;
        }
        if let Some(base) = word.strip_suffix(suffix)
            && base.chars().count() >= 3
        {
            return if suffix == "ies" {
                format!("{base}y")
            } else {
                base.to_string()
            };
        }
    }
    word.to_string()
}

/// English stop words.
///
/// ```
/// assert!(bookwyrm_emulator::algo::text::is_stop_word("the"));
/// assert!(!bookwyrm_emulator::algo::text::is_stop_word("valley"));
/// ```
pub fn is_stop_word(word: &str) -> bool {
    const STOP: &[&str] = &[
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
        "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
        "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
        "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
        "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
        "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she",
        "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then",
        "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
        "upon", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
        "whom", "why", "will", "with", "would", "you", "your", "yours", "s", "t", "said", "one",
        "did", "does", "do",
    ];
    STOP.contains(&word)
}

/// An estimate of model tokens: about four characters a token.
///
/// ```
/// assert_eq!(bookwyrm_emulator::algo::text::tokens("abcdefgh"), 2);
/// ```
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}
