//! The one YAML layout of `openapi/bookwyrm.yaml`, so that writing a contract that did not
//! change gives the same bytes: block mappings in the order the tree holds them, sequences of
//! scalars in flow style when they fit, long prose folded (`>-`) at [`WIDTH`] columns, and a
//! string quoted (as a JSON string, which YAML reads the same) only when it would not read
//! back as itself.

use serde_yaml_ng::{Mapping, Value};

/// The column at which flow sequences and folded text wrap.
pub const WIDTH: usize = 100;

/// `value` as a YAML document in the contract's layout.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(m) if !m.is_empty() => mapping(&mut out, m, 0),
        other => {
            out.push_str(&inline(other, false).unwrap_or_else(|| quoted(&format!("{other:?}"))));
            out.push('\n');
        }
    }
    out
}

fn mapping(out: &mut String, map: &Mapping, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key_text(key));
        out.push(':');
        entry_value(out, value, indent);
    }
}

/// What follows `key:` (or `- ` for a sequence item written as a value).
fn entry_value(out: &mut String, value: &Value, indent: usize) {
    let value = untag(value);
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            mapping(out, m, indent + 2);
        }
        Value::Sequence(s) if !s.is_empty() => match flow_sequence(s, indent) {
            Some(flow) => {
                out.push(' ');
                out.push_str(&flow);
                out.push('\n');
            }
            None => {
                out.push('\n');
                sequence(out, s, indent + 2);
            }
        },
        Value::String(s) if folds(s, indent) => {
            out.push_str(" >-\n");
            fold(out, s, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, false).unwrap_or_default());
            out.push('\n');
        }
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match untag(item) {
            Value::Mapping(m) if !m.is_empty() => {
                // The first entry on the dash's line, the rest below it.
                let mut first = true;
                for (key, value) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&key_text(key));
                    out.push(':');
                    entry_value(out, value, indent + 2);
                }
            }
            other => entry_value(out, other, indent),
        }
    }
}

/// `[a, b]` when every item is a scalar and the line fits.
fn flow_sequence(items: &[Value], indent: usize) -> Option<String> {
    let texts: Option<Vec<String>> = items
        .iter()
        .map(|v| match untag(v) {
            Value::Mapping(m) if m.is_empty() => Some("{}".to_string()),
            Value::Mapping(_) | Value::Sequence(_) => None,
            scalar => inline(scalar, true),
        })
        .collect();
    let flow = format!("[{}]", texts?.join(", "));
    (indent + flow.len() < WIDTH).then_some(flow)
}

fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(t) => untag(&t.value),
        v => v,
    }
}

/// A scalar (or an empty collection) on one line, inside a flow sequence when `flow`.
fn inline(value: &Value, flow: bool) -> Option<String> {
    Some(match untag(value) {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_text(s, flow),
        Value::Sequence(s) if s.is_empty() => "[]".into(),
        Value::Mapping(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn key_text(key: &Value) -> String {
    match untag(key) {
        Value::String(s) => scalar_text(s, false),
        other => inline(other, false).unwrap_or_else(|| quoted(&format!("{other:?}"))),
    }
}

fn scalar_text(s: &str, flow: bool) -> String {
    if plain(s, flow) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A JSON string is a YAML double-quoted scalar with the same value.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Whether `s` can be written unquoted (in a flow sequence when `flow`) and read back as the
/// same string, by this reader and by YAML 1.1 readers alike (a date or a version number such
/// as `2025-10-16` or `3.0.3` is quoted unless it reads back as a string everywhere: it never
/// starts with a digit).
fn plain(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() || first.is_ascii_digit() {
        return false;
    }
    if s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(char::is_control)
        || (flow && s.contains([',', '[', ']', '{', '}']))
    {
        return false;
    }
    // Not read as a number, a bool or null.
    matches!(serde_yaml_ng::from_str::<Value>(s), Ok(Value::String(back)) if back == s)
}

/// Whether `s` is prose to fold: too long for one line, and made of words separated by single
/// spaces, so that every line break reads back as one space.
fn folds(s: &str, indent: usize) -> bool {
    indent + s.len() + 10 > WIDTH
        && s.contains(' ')
        && !s.contains("  ")
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.starts_with('#')
        && !s.chars().any(char::is_control)
}

fn fold(out: &mut String, s: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let mut line = String::new();
    for word in s.split(' ') {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > WIDTH {
            out.push_str(&pad);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&pad);
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let value: Value = serde_yaml_ng::from_str(text).unwrap();
        let written = to_string(&value);
        let back: Value = serde_yaml_ng::from_str(&written)
            .unwrap_or_else(|e| panic!("{e}\n--- written:\n{written}"));
        assert_eq!(back, value, "--- written:\n{written}");
        assert_eq!(to_string(&back), written, "the layout is a fixed point");
    }

    #[test]
    fn scalars_that_need_quotes_read_back_as_themselves() {
        for s in [
            "200",
            "true",
            "no",
            "null",
            "~",
            "1e3",
            "0x1F",
            "-1",
            ".5",
            "#/a",
            "a: b",
            "a #b",
            "x:",
            " lead",
            "trail ",
            "",
            "[a]",
            "a,b",
            "{x}",
            "*ref",
            "&a",
            "!tag",
            "|",
            ">",
            "@at",
            "`tick`",
            "'s'",
            "\"d\"",
            "tab\there",
            "line\nbreak",
            "%x",
            "? q",
            "- item",
            "ünï ☃ 𝄞",
            "$ref",
            "/cite/sse",
            "text/event-stream",
            "2025-10-16",
            "1.0",
            "Yes",
        ] {
            let mut m = Mapping::new();
            m.insert(Value::String(s.into()), Value::String(s.into()));
            m.insert(
                "list".into(),
                Value::Sequence(vec![Value::String(s.into()), Value::String(s.into())]),
            );
            let text = to_string(&Value::Mapping(m.clone()));
            let back: Value =
                serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            assert_eq!(back, Value::Mapping(m), "{s:?} written as\n{text}");
        }
    }

    #[test]
    fn prose_folds_and_reads_back() {
        let long = "word ".repeat(60).trim_end().to_string() + " a:b `code` #hash-in-text";
        round_trip(&format!("d: {}\n", quoted(&long)));
        let text = to_string(&serde_yaml_ng::from_str(&format!("d: {}\n", quoted(&long))).unwrap());
        assert!(text.starts_with("d: >-\n  word"), "{text}");
        assert!(text.lines().all(|l| l.len() <= WIDTH), "{text}");
        // Double spaces and newlines cannot fold; they are quoted.
        round_trip(&format!("d: {}\n", quoted(&"two  spaces ".repeat(20))));
        round_trip(&format!("d: {}\n", quoted(&"line\n\nbreak ".repeat(20))));
    }

    #[test]
    fn nested_layout() {
        round_trip(
            "a:\n  b: [x, \"1\", 2, true, null]\n  c:\n    - k: v\n      j: [1]\n    - plain\n    - []\n    - {}\n  e: {}\n",
        );
        let v: Value = serde_yaml_ng::from_str(
            "r: [question]\ns:\n  - bearerAuth: []\nm:\n  \"200\": {x: 1}\n",
        )
        .unwrap();
        assert_eq!(
            to_string(&v),
            "r: [question]\ns:\n  - bearerAuth: []\nm:\n  \"200\":\n    x: 1\n"
        );
    }

    #[test]
    fn the_contract_is_a_fixed_point() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/bookwyrm.yaml"
        ))
        .unwrap();
        round_trip(&text);
        let written = to_string(&serde_yaml_ng::from_str(&text).unwrap());
        if let Some((n, (ours, theirs))) = written
            .lines()
            .zip(text.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
        {
            panic!(
                "openapi/bookwyrm.yaml is not in the writer's layout: line {}\n  file:   {theirs}\n  writer: {ours}",
                n + 1
            );
        }
        assert_eq!(
            written.len(),
            text.len(),
            "openapi/bookwyrm.yaml ends in the writer's layout"
        );
    }
}
