//! Extractive hierarchical summarization: TextRank over sentences, level by level, and
//! structured output filled from the text.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::text::{sentences, terms, tokens};

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

/// Groups sentences into chunks of at most `max_tokens` tokens (a longer sentence alone).
fn chunk(sents: &[String], max_tokens: usize) -> Vec<Vec<String>> {
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

/// Facts a deterministic reader can take from a text.
///
/// ```
/// let f = bookwyrm_emulator::algo::summarize::facts("Author: Anon\n\nText.");
/// assert_eq!(f.author.as_deref(), Some("Anon"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// `Title:` line, or the first line.
    pub title: Option<String>,
    /// `Author:` line, or `by X` near the start.
    pub author: Option<String>,
    /// `Release Date:` / a four-digit year near the start.
    pub date: Option<String>,
    /// A year (for date-formatted fields).
    pub year: Option<u32>,
    /// Most frequent capitalized names not at sentence starts.
    pub characters: Vec<String>,
}

/// Reads [`Facts`] from a text.
///
/// ```
/// let f = bookwyrm_emulator::algo::summarize::facts("Title: The Country of the Blind\nAuthor: H. G. Wells\n\nNunez came. Then Nunez saw Yacob. Later Nunez spoke.");
/// assert_eq!(f.title.as_deref(), Some("The Country of the Blind"));
/// assert_eq!(f.author.as_deref(), Some("H. G. Wells"));
/// assert_eq!(f.characters.first().map(String::as_str), Some("Nunez"));
/// ```
pub fn facts(text: &str) -> Facts {
    let mut f = Facts::default();
    let head: Vec<&str> = text.lines().take(80).collect();
    let field = |name: &str| {
        head.iter().find_map(|l| {
            let l = l.trim();
            l.strip_prefix(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    f.title = field("Title:").or_else(|| {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(120).collect())
    });
    f.author = field("Author:");
    f.date = field("Release Date:").or_else(|| field("Release date:"));
    let year_src = f.date.clone().unwrap_or_else(|| head.join(" "));
    f.year = year_src
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 4)
        .filter_map(|w| w.parse::<u32>().ok())
        .find(|y| (1000..=2100).contains(y));

    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in sentences(text) {
        let words: Vec<&str> = s.text(text).split_whitespace().collect();
        for w in words.iter().skip(1) {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            let mut cs = w.chars();
            let Some(first) = cs.next() else { continue };
            if first.is_uppercase()
                && w.chars().count() > 2
                && cs.all(|c| c.is_lowercase())
                && !super::text::is_stop_word(&w.to_lowercase())
            {
                *counts.entry(w.to_string()).or_insert(0) += 1;
            }
        }
    }
    // A name is capitalized mid-sentence at least twice and rarely written in lower case
    // (which rules out words like "Blind" in "the Country of the Blind").
    let mut lower: HashMap<String, usize> = HashMap::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.chars().next().is_some_and(char::is_lowercase) {
            *lower.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    let mut names: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|(w, n)| *n >= 2 && lower.get(&w.to_lowercase()).copied().unwrap_or(0) * 4 < *n)
        .collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    f.characters = names.into_iter().take(6).map(|(n, _)| n).collect();
    f
}

/// Fills a JSON object that validates against `schema` (properties, `$ref` to `$defs` /
/// `definitions`, `type` lists and `anyOf` with null), from the summary and the facts of the
/// text: fields the text cannot tell are null where the schema allows, else an empty value.
///
/// ```
/// use serde_json::json;
/// let schema = json!({"type": "object", "properties": {
///     "title": {"type": ["string", "null"]}, "pages": {"type": ["integer", "null"]}}});
/// let f = bookwyrm_emulator::algo::summarize::Facts { title: Some("T".into()), ..Default::default() };
/// let v = bookwyrm_emulator::algo::summarize::structured(&schema, &f, &Default::default(), "S.");
/// assert_eq!(v, json!({"title": "T", "pages": null}));
/// ```
pub fn structured(schema: &Value, facts: &Facts, summary: &Summary, text: &str) -> Value {
    let filler = Filler {
        root: schema,
        facts,
        summary,
        text,
    };
    filler.fill(schema, "", 0)
}

struct Filler<'a> {
    root: &'a Value,
    facts: &'a Facts,
    summary: &'a Summary,
    text: &'a str,
}

impl Filler<'_> {
    fn resolve<'v>(&'v self, schema: &'v Value) -> &'v Value {
        let mut s = schema;
        for _ in 0..8 {
            let Some(r) = s.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(path) = r.strip_prefix("#/") else {
                break;
            };
            let mut target = self.root;
            for part in path.split('/') {
                match target.get(part) {
                    Some(t) => target = t,
                    None => return s,
                }
            }
            s = target;
        }
        s
    }

    /// The types a schema allows, and whether null is one of them.
    fn types(&self, schema: &Value) -> (Vec<String>, bool, Option<Value>) {
        let schema = self.resolve(schema);
        let mut types = Vec::new();
        let mut nullable = schema
            .get("nullable")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut inner = None;
        match schema.get("type") {
            Some(Value::String(t)) => types.push(t.clone()),
            Some(Value::Array(ts)) => {
                types.extend(ts.iter().filter_map(|t| t.as_str().map(str::to_string)))
            }
            _ => {}
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alts)) = schema.get(key) {
                for alt in alts {
                    let alt = self.resolve(alt);
                    let (ts, n, _) = self.types(alt);
                    if ts.iter().any(|t| t != "null") && inner.is_none() {
                        inner = Some(alt.clone());
                    }
                    types.extend(ts);
                    nullable |= n;
                }
            }
        }
        if types.is_empty() && schema.get("properties").is_some() {
            types.push("object".into());
        }
        if types.iter().any(|t| t == "null") {
            nullable = true;
        }
        types.retain(|t| t != "null");
        (types, nullable, inner)
    }

    fn fill(&self, schema: &Value, name: &str, depth: usize) -> Value {
        let resolved = self.resolve(schema);
        let (types, nullable, inner) = self.types(resolved);
        let target = inner.as_ref().unwrap_or(resolved);
        let target = self.resolve(target);
        let primary =
            types
                .first()
                .map(String::as_str)
                .unwrap_or(if nullable { "null" } else { "string" });
        if depth > 6 {
            return if nullable {
                Value::Null
            } else {
                empty(primary)
            };
        }
        if let Some(v) = self.known(name, primary, target) {
            return v;
        }
        match primary {
            "object" => {
                let mut out = Map::new();
                if let Some(Value::Object(props)) = target.get("properties") {
                    for (k, v) in props {
                        out.insert(k.clone(), self.fill(v, k, depth + 1));
                    }
                }
                Value::Object(out)
            }
            _ if nullable => Value::Null,
            other => empty(other),
        }
    }

    /// A value taken from the text for a field whose name says what it holds.
    fn known(&self, name: &str, ty: &str, schema: &Value) -> Option<Value> {
        let n = name.to_lowercase();
        let format = schema.get("format").and_then(Value::as_str);
        let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
        match ty {
            "string" => {
                if has(&["date", "year", "published"]) {
                    let year = self.facts.year?;
                    return Some(match format {
                        Some("date") => json!(format!("{year:04}-01-01")),
                        Some("date-time") => json!(format!("{year:04}-01-01T00:00:00Z")),
                        _ => json!(self.facts.date.clone().unwrap_or_else(|| year.to_string())),
                    });
                }
                if format.is_some() {
                    return None; // uri, email, ...: nothing trustworthy to put there
                }
                if has(&["title", "name"]) && !has(&["author"]) {
                    return self.facts.title.clone().map(Value::String);
                }
                if has(&["author", "writer"]) {
                    return self.facts.author.clone().map(Value::String);
                }
                if has(&[
                    "summary",
                    "plot",
                    "description",
                    "synopsis",
                    "abstract",
                    "overview",
                    "text",
                    "content",
                ]) {
                    return Some(json!(self.summary.text));
                }
                if has(&["timeline", "events", "chronology"]) {
                    return Some(json!(self.timeline().join(" ")));
                }
                if has(&["character", "people", "person"]) {
                    return Some(json!(self.facts.characters.join(", ")));
                }
                None
            }
            "array" => {
                let item_ty = schema
                    .get("items")
                    .map(|i| self.types(i).0)
                    .and_then(|t| t.first().cloned())
                    .unwrap_or_else(|| "string".into());
                if item_ty != "string" {
                    return None;
                }
                if has(&["character", "people", "person", "names"]) {
                    return Some(json!(self.facts.characters));
                }
                if has(&[
                    "timeline",
                    "events",
                    "chronology",
                    "points",
                    "themes",
                    "key",
                ]) {
                    return Some(json!(self.timeline()));
                }
                None
            }
            "integer" | "number" => {
                if has(&["year"]) {
                    return self.facts.year.map(|y| json!(y));
                }
                if has(&["word"]) {
                    return Some(json!(self.text.split_whitespace().count()));
                }
                None
            }
            _ => None,
        }
    }

    /// The first sentence of each first-level summary: the story in order.
    fn timeline(&self) -> Vec<String> {
        self.summary
            .levels
            .first()
            .map(|l| {
                l.summaries
                    .iter()
                    .filter_map(|s| sentences(s).first().map(|sp| sp.text(s).to_string()))
                    .take(12)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn empty(ty: &str) -> Value {
    match ty {
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => json!({}),
        "null" => Value::Null,
        _ => json!(""),
    }
}
