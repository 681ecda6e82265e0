//! Citations by lexical relevance: Okapi BM25 of every chunk against every question.

use std::collections::{HashMap, HashSet};

use bookwyrm::types;

use super::text::{terms, tokens, words_with_terms};

/// One citation found.
///
/// ```
/// let f = &bookwyrm_emulator::algo::cite::cite(&["Snow fell."], &["Did snow fall?".to_string()])[0];
/// assert_eq!((f.chunk, f.question), (0, 0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Index of the chunk (in the list given).
    pub chunk: usize,
    /// 0-based index of the question.
    pub question: usize,
    /// Quality 0–4.
    pub quality: u64,
    /// The BM25 score.
    pub score: f64,
    /// The question's words whose terms the chunk contains.
    pub matched: Vec<String>,
}

/// BM25 parameters.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// An index of chunks for BM25 scoring.
///
/// ```
/// let i = bookwyrm_emulator::algo::cite::Index::new(&["a valley", "a mountain"]);
/// assert_eq!(i.score(1, &["valley".to_string()]), 0.0);
/// ```
#[derive(Debug)]
pub struct Index {
    docs: Vec<HashMap<String, u32>>,
    lens: Vec<f64>,
    avg_len: f64,
    df: HashMap<String, u32>,
}

impl Index {
    /// Indexes the chunk texts.
    ///
    /// ```
    /// let i = bookwyrm_emulator::algo::cite::Index::new(&["the valley of the blind", "a mountain"]);
    /// assert!(i.score(0, &["blind".to_string()]) > 0.0);
    /// ```
    pub fn new<S: AsRef<str>>(chunks: &[S]) -> Self {
        let mut docs = Vec::with_capacity(chunks.len());
        let mut lens = Vec::with_capacity(chunks.len());
        let mut df: HashMap<String, u32> = HashMap::new();
        for c in chunks {
            let mut tf: HashMap<String, u32> = HashMap::new();
            let words = terms(c.as_ref());
            lens.push(words.len() as f64);
            for w in words {
                *tf.entry(w).or_insert(0) += 1;
            }
            for w in tf.keys() {
                *df.entry(w.clone()).or_insert(0) += 1;
            }
            docs.push(tf);
        }
        let avg_len = if lens.is_empty() {
            1.0
        } else {
            (lens.iter().sum::<f64>() / lens.len() as f64).max(1.0)
        };
        Self {
            docs,
            lens,
            avg_len,
            df,
        }
    }

    /// BM25 of chunk `doc` for the query terms.
    ///
    /// ```
    /// let i = bookwyrm_emulator::algo::cite::Index::new(&["blind men", "blind men and a valley"]);
    /// let q = ["blind".to_string()];
    /// assert!(i.score(0, &q) > i.score(1, &q), "shorter chunks score higher");
    /// ```
    pub fn score(&self, doc: usize, query: &[String]) -> f64 {
        let n = self.docs.len() as f64;
        let tf = &self.docs[doc];
        let len = self.lens[doc];
        query
            .iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|q| {
                let f = f64::from(*tf.get(q).unwrap_or(&0));
                if f == 0.0 {
                    return 0.0;
                }
                let df = f64::from(*self.df.get(q).unwrap_or(&0));
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / self.avg_len))
            })
            .sum()
    }
}

/// The citations of `chunks` for `questions`: for each question, the chunks whose BM25 score is
/// at least a third of the best chunk's, with quality from the relative score (capped at 2 when
/// they match under a third of the question's terms), at most 10 per question, in text order.
///
/// ```
/// use bookwyrm_emulator::algo::cite::cite;
/// let chunks = ["Nunez fell from the mountain.", "The blind men sang.", "Snow covered everything."];
/// let found = cite(&chunks, &["Who fell from the mountain?".to_string()]);
/// assert_eq!(found[0].chunk, 0);
/// assert!(found[0].quality >= 3);
/// ```
pub fn cite<S: AsRef<str>>(chunks: &[S], questions: &[String]) -> Vec<Found> {
    let index = Index::new(chunks);
    let mut out = Vec::new();
    for (qi, question) in questions.iter().enumerate() {
        let mut seen = HashSet::new();
        let (words, query): (Vec<String>, Vec<String>) = words_with_terms(question)
            .into_iter()
            .filter(|(_, t)| seen.insert(t.clone()))
            .unzip();
        if query.is_empty() {
            continue;
        }
        let scores: Vec<f64> = (0..chunks.len()).map(|d| index.score(d, &query)).collect();
        let best = scores.iter().cloned().fold(0.0_f64, f64::max);
        if best <= 0.0 {
            continue;
        }
        let mut hits: Vec<Found> = scores
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s >= best / 3.0)
            .map(|(d, &s)| {
                let doc_terms: HashSet<String> = terms(chunks[d].as_ref()).into_iter().collect();
                let matched: Vec<String> = query
                    .iter()
                    .zip(&words)
                    .filter(|(q, _)| doc_terms.contains(*q))
                    .map(|(_, w)| w.clone())
                    .collect();
                let coverage = matched.len() as f64 / query.len() as f64;
                let rel = s / best;
                let mut quality = 1 + (rel * 3.0).floor() as u64;
                quality = quality.clamp(1, 4);
                if coverage < 1.0 / 3.0 {
                    quality = quality.min(2);
                }
                Found {
                    chunk: d,
                    question: qi,
                    quality,
                    score: s,
                    matched,
                }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.chunk.cmp(&b.chunk)));
        hits.truncate(10);
        hits.sort_by_key(|h| h.chunk);
        out.extend(hits);
    }
    out.sort_by_key(|h| (h.chunk, h.question));
    out
}

/// The citations of `window` (the input's chunks from `start` on) for `questions`, as the API
/// reports them: chunk indexes of the whole input, the chunk's text, a reasoning naming the
/// question's words the passage contains, and the question's 1-based index when there are
/// several questions.
///
/// ```
/// use bookwyrm_emulator::algo::cite::citations;
/// let window = ["Nunez fell from the mountain.".to_string(), "Snow.".to_string()];
/// let found = citations(&window, 5, &["Who fell from the mountain?".to_string()]);
/// assert_eq!((found[0].start_chunk, found[0].question_index), (5, None));
/// assert!(found[0].reasoning.contains("\"mountain\""));
/// ```
pub fn citations(window: &[String], start: usize, questions: &[String]) -> Vec<types::Citation> {
    let multi = questions.len() > 1;
    cite(window, questions)
        .iter()
        .map(|f| types::Citation {
            start_chunk: (start + f.chunk) as u64,
            end_chunk: (start + f.chunk) as u64,
            text: window[f.chunk].clone(),
            reasoning: format!(
                "The passage mentions {} from the question (BM25 score {:.2}).",
                f.matched
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                f.score
            ),
            quality: f.quality,
            question_index: multi.then_some(f.question as u64 + 1),
        })
        .collect()
}

/// How many groups of at most `max_tokens` tokens the chunks make, consecutive chunks packed
/// greedily (a chunk larger than the limit is a group of its own): the API's
/// `token_chunks_processed`.
///
/// ```
/// use bookwyrm_emulator::algo::cite::token_groups;
/// assert_eq!(token_groups(&["one two", "three", "four five six"], 4), 2); // 2 + 2 tokens, then 4
/// assert_eq!(token_groups::<&str>(&[], 3), 0);
/// ```
pub fn token_groups<S: AsRef<str>>(chunks: &[S], max_tokens: usize) -> usize {
    let mut groups = 0usize;
    let mut size = 0usize;
    for c in chunks {
        let t = tokens(c.as_ref());
        if groups == 0 || size + t > max_tokens {
            groups += 1;
            size = 0;
        }
        size += t;
    }
    groups
}
