//! Structured summaries: the facts a deterministic reader takes from a text (title, author,
//! dates, names, …), filled into the caller's JSON schema.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::summarize::Summary;
use super::text::sentences;

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
