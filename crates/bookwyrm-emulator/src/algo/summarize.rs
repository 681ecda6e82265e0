//! Extractive hierarchical summarization: TextRank over sentences, level by level. Structured
//! output, filled from the text, is in [`super::structured`] (re-exported here).

use std::collections::HashSet;

use super::text::{sentences, terms, tokens};

pub use super::structured::{facts, structured, Facts};

/// One level of the hierarchy: the summaries made from its chunks.
///
/// ```
/// let l = bookwyrm_emulator::algo::summarize::Level { summaries: vec!["A.".into()] };
/// assert_eq!(l.summaries.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Summaries of this level, one per chunk.
    pub summaries: Vec<String>,
}

/// A finished summary.
///
/// ```
/// let s = bookwyrm_emulator::algo::summarize::summarize(&["One.".to_string()], 100, &mut |_, _, _, _| {});
/// assert_eq!(s.text, "One.");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// The final summary.
    pub text: String,
    /// Every level, first to last.
    pub levels: Vec<Level>,
    /// Tokens read in all.
    pub total_tokens: usize,
}

impl Summary {
    /// Summaries made on the way (all levels).
    ///
    /// ```
    /// let s = bookwyrm_emulator::algo::summarize::summarize(&["One.".to_string()], 100, &mut |_, _, _, _| {});
    /// assert_eq!(s.subsummary_count(), 1);
    /// ```
    pub fn subsummary_count(&self) -> usize {
        self.levels.iter().map(|l| l.summaries.len()).sum()
    }
}

/// Picks the most central sentences (TextRank) in their original order, keeping about a
/// fifth of them (at least one, at most `max`).
///
/// ```
/// let s = ["Cats purr.", "Cats and dogs play.", "Dogs bark loudly.", "Rain."];
/// let picked = bookwyrm_emulator::algo::summarize::textrank(&s, 1);
/// assert_eq!(picked, vec![1]);
/// ```
pub fn textrank<S: AsRef<str>>(sents: &[S], max: usize) -> Vec<usize> {
    let n = sents.len();
    if n == 0 {
        return Vec::new();
    }
    let keep = (n.div_ceil(5)).clamp(1, max.max(1)).min(n);
    let bags: Vec<HashSet<String>> = sents
        .iter()
        .map(|s| terms(s.as_ref()).into_iter().collect())
        .collect();
    const WINDOW: usize = 200;
    let mut edges: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in (i + 1)..n.min(i + WINDOW) {
            let common = bags[i].intersection(&bags[j]).count();
            if common == 0 {
                continue;
            }
            let denom = (bags[i].len() as f64 + 1.0).ln() + (bags[j].len() as f64 + 1.0).ln();
            let w = common as f64 / denom.max(1e-9);
            edges[i].push((j, w));
            edges[j].push((i, w));
        }
    }
    let out_weight: Vec<f64> = edges
        .iter()
        .map(|e| e.iter().map(|(_, w)| w).sum())
        .collect();
    let mut rank = vec![1.0 / n as f64; n];
    for _ in 0..30 {
        let mut next = vec![(1.0 - 0.85) / n as f64; n];
        for (i, e) in edges.iter().enumerate() {
            for &(j, w) in e {
                if out_weight[j] > 0.0 {
                    next[i] += 0.85 * rank[j] * w / out_weight[j];
                }
            }
        }
        rank = next;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| rank[b].total_cmp(&rank[a]).then(a.cmp(&b)));
    let mut picked: Vec<usize> = order.into_iter().take(keep).collect();
    picked.sort_unstable();
    picked
}

/// Progress of a summary: called once per chunk summarized with (level, chunk index, chunks
/// in level, summaries made so far).
///
/// ```
/// let mut calls = 0;
/// bookwyrm_emulator::algo::summarize::summarize(&["A.".to_string()], 10, &mut |_, _, _, _| calls += 1);
/// assert_eq!(calls, 1);
/// ```
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, usize, usize);

/// Summarizes `sents` hierarchically: sentences are grouped into chunks of at most
/// `max_tokens` tokens, each chunk is summarized by TextRank, and the summaries become the
/// sentences of the next level, until one chunk is left; the last level makes at most eight
/// sentences.
///
/// ```
/// use bookwyrm_emulator::algo::summarize::summarize;
/// let text: Vec<String> = (0..40).map(|i| format!("Sentence {i} speaks of the valley and the blind.")).collect();
/// let s = summarize(&text, 100, &mut |_, _, _, _| {});
/// assert!(s.levels.len() >= 2);
/// assert!(!s.text.is_empty());
/// ```
pub fn summarize(sents: &[String], max_tokens: usize, progress: Progress<'_>) -> Summary {
    let max_tokens = max_tokens.max(1);
    let total_tokens = sents.iter().map(|s| tokens(s)).sum();
    let mut current: Vec<String> = sents
        .iter()
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .collect();
    let mut levels = Vec::new();
    let mut made = 0;
    loop {
        let chunks = chunk(&current, max_tokens);
        let last = chunks.len() <= 1;
        let level_no = levels.len() + 1;
        let mut summaries = Vec::with_capacity(chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            let max = if last { 8 } else { (max_tokens / 40).max(1) };
            let picked = textrank(c, max);
            // Sentences keep their words; line breaks and runs of spaces become one space.
            let summary = picked
                .iter()
                .map(|&k| c[k].split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(" ");
            made += 1;
            progress(level_no, i + 1, chunks.len(), made);
            summaries.push(summary);
        }
        levels.push(Level {
            summaries: summaries.clone(),
        });
        if last || levels.len() >= 12 {
            return Summary {
                text: summaries.join(" "),
                levels,
                total_tokens,
            };
        }
        // The next level summarizes the sentences of these summaries.
        current = summaries
            .iter()
            .flat_map(|s| {
                sentences(s)
                    .iter()
                    .map(|sp| sp.text(s).to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        if current.is_empty() {
            return Summary {
                text: String::new(),
                levels,
                total_tokens,
            };
        }
    }
}

/// Groups sentences, in order, into chunks of at most `max_tokens` tokens (a longer sentence
/// alone); each level of [`summarize`] makes one summary per chunk.
///
/// ```
/// use bookwyrm_emulator::algo::summarize::chunk;
/// let s = ["One two.".to_string(), "Three four.".to_string(), "Five.".to_string()];
/// let chunks = chunk(&s, 5);
/// assert_eq!(chunks.len(), 2);
/// assert_eq!(chunks.concat(), s);
/// ```
pub fn chunk(sents: &[String], max_tokens: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut size = 0;
    for s in sents {
        let t = tokens(s);
        match out.last_mut() {
            Some(c) if size + t <= max_tokens => {
                c.push(s.clone());
                size += t;
            }
            _ => {
                out.push(vec![s.clone()]);
                size = t;
            }
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}
