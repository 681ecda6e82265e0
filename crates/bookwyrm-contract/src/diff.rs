//! The rules: how a difference between two contracts matters to this client.

use std::fmt;

use serde::Serialize;

use crate::{Contract, Facets, Operation, Schema, Shape};

/// Whether a change breaks this client.
///
/// ```
/// assert_ne!(bookwyrm_contract::ChangeKind::Breaking, bookwyrm_contract::ChangeKind::Additive);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChangeKind {
    /// This client can fail against the other contract: an operation it calls is gone, a
    /// request field it sends was removed or retyped, a field it may not send became required,
    /// a response field it reads was removed, retyped or made optional or nullable, or an enum
    /// it models as closed gained a value.
    Breaking,
    /// This client still works, but something needs a look: a default changed for a field
    /// it leaves out, a deprecation or sunset, a renamed operation (a renamed Rust method on
    /// regeneration), a limit this client checks that the server loosened, a response no
    /// longer described.
    Warning,
    /// New capability that does not affect this client: a new operation, a new optional
    /// request field, a new response field, a new value where unknown values are kept.
    Additive,
}

impl ChangeKind {
    /// `breaking`, `warning` or `additive`.
    ///
    /// ```
    /// assert_eq!(bookwyrm_contract::ChangeKind::Warning.as_str(), "warning");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Breaking => "breaking",
            Self::Warning => "warning",
            Self::Additive => "additive",
        }
    }
}

/// One difference between two contracts.
///
/// ```
/// use bookwyrm_contract::{Change, ChangeKind};
/// let c = Change::new(ChangeKind::Additive, "/paths/~1new/post", "new operation");
/// assert_eq!(c.to_string(), "additive /paths/~1new/post: new operation");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// Breaking or additive.
    pub kind: ChangeKind,
    /// Where: a JSON pointer into the document's operation and its schemas, references
    /// resolved (`/paths/~1cite/post/requestBody/properties/question`).
    pub pointer: String,
    /// What changed.
    pub description: String,
}

impl Change {
    /// A change of `kind` at the JSON pointer `pointer`, described by `description`.
    ///
    /// ```
    /// use bookwyrm_contract::{Change, ChangeKind};
    /// let c = Change::new(ChangeKind::Breaking, "/paths/~1cite/post", "operation removed");
    /// assert_eq!(c.kind, ChangeKind::Breaking);
    /// ```
    pub fn new(
        kind: ChangeKind,
        pointer: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            pointer: pointer.into(),
            description: description.into(),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.kind.as_str(),
            self.pointer,
            self.description
        )
    }
}

/// The changes from `ours` (what this client was built from) to `theirs` (what a server
/// publishes), classified for this client; breaking ones first.
///
/// ```
/// use bookwyrm_contract::{diff, Contract, ChangeKind};
/// let ours = Contract::embedded();
/// let mut theirs = ours.clone();
/// theirs.operations.remove("POST /cite");
/// let changes = diff(&ours, &theirs);
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].kind, ChangeKind::Breaking);
/// assert_eq!(changes[0].pointer, "/paths/~1cite/post");
/// ```
pub fn diff(ours: &Contract, theirs: &Contract) -> Vec<Change> {
    let mut out = Changes(Vec::new());
    for (key, op) in &ours.operations {
        let ptr = op_pointer(op);
        match theirs.operations.get(key) {
            None => out.push(
                ChangeKind::Breaking,
                &ptr,
                format!("operation `{key}` that this client calls is gone"),
            ),
            Some(their) => operation(&mut out, op, their, &ptr),
        }
    }
    for (key, op) in &theirs.operations {
        if !ours.operations.contains_key(key) {
            out.push(
                ChangeKind::Additive,
                &op_pointer(op),
                format!("new operation `{key}`"),
            );
        }
    }
    let mut changes = out.0;
    changes.sort_by(|a, b| (a.kind, &a.pointer).cmp(&(b.kind, &b.pointer)));
    changes
}

/// The rules of one operation this client calls.
fn operation(out: &mut Changes, op: &Operation, their: &Operation, ptr: &str) {
    use ChangeKind::{Additive, Breaking, Warning};
    if op.operation_id != their.operation_id {
        let what = format!(
            "operationId {:?} became {:?}: regenerating renames the Rust method",
            op.operation_id.as_deref().unwrap_or("-"),
            their.operation_id.as_deref().unwrap_or("-")
        );
        out.push(Warning, &format!("{ptr}/operationId"), what);
    }
    if their.deprecated && !op.deprecated {
        out.push(
            Warning,
            &format!("{ptr}/deprecated"),
            "the operation is deprecated".into(),
        );
    }
    if let Some(sunset) = their
        .sunset
        .as_ref()
        .filter(|s| op.sunset.as_ref() != Some(*s))
    {
        out.push(
            Warning,
            &format!("{ptr}/x-sunset"),
            format!("the operation ends on {sunset}"),
        );
    }
    match (op.streaming, their.streaming) {
        (false, true) => out.push(
            Breaking,
            &format!("{ptr}/responses"),
            "answers with an event stream now; this client reads one JSON answer".into(),
        ),
        (true, false) => out.push(
            Breaking,
            &format!("{ptr}/responses"),
            "no longer answers with an event stream; this client reads one".into(),
        ),
        _ => {}
    }
    if let Some(sent) = op.request_media.first()
        && !their.request_media.is_empty()
        && !their.request_media.contains(sent)
    {
        let what = format!(
            "the request body is now {}; this client sends {sent}",
            their.request_media.join(" or ")
        );
        out.push(Breaking, &format!("{ptr}/requestBody/content"), what);
    }
    match (&op.request, &their.request) {
        (Some(a), Some(b)) => request(out, a, b, &format!("{ptr}/requestBody")),
        (Some(_), None) if their.request_media.is_empty() => out.push(
            Breaking,
            &format!("{ptr}/requestBody"),
            "the request body this client sends is no longer accepted".into(),
        ),
        (None, Some(b)) => out.push(
            Breaking,
            &format!("{ptr}/requestBody"),
            format!("a request body ({b}) is now expected; this client sends none"),
        ),
        _ => {}
    }
    for (key, p) in &their.parameters {
        let at = format!("{ptr}/parameters/{}", escape(key));
        match op.parameters.get(key) {
            None if p.required => out.push(
                Breaking,
                &at,
                format!("new required parameter `{key}`; this client does not send it"),
            ),
            None => out.push(Additive, &at, format!("new optional parameter `{key}`")),
            Some(ours) => {
                if p.required && !ours.required {
                    let what = format!(
                        "parameter `{key}` became required; this client does not always send it"
                    );
                    out.push(Breaking, &at, what);
                }
                request(out, &ours.schema, &p.schema, &at);
            }
        }
    }
    for key in op
        .parameters
        .keys()
        .filter(|k| !their.parameters.contains_key(*k))
    {
        let at = format!("{ptr}/parameters/{}", escape(key));
        out.push(
            Warning,
            &at,
            format!("parameter `{key}` that this client sends is no longer described"),
        );
    }
    // This client authenticates with a Bearer key only.
    let bearer_ok = |alt: &Vec<String>| alt.iter().all(|s| s == "http bearer");
    if !their.security.is_empty() && !their.security.iter().any(bearer_ok) {
        let wanted: Vec<String> = their.security.iter().map(|a| a.join(" + ")).collect();
        let what = format!(
            "authentication is now {}; this client sends a Bearer key only",
            wanted.join(" or ")
        );
        out.push(Breaking, &format!("{ptr}/security"), what);
    }
    // The events of a stream, when both documents describe them: each one's data is read
    // like a response; an event this client does not know is kept as `Unknown`.
    if let (Some(a), Some(b)) = (&op.events, &their.events) {
        for (name, sa) in a {
            let at = format!("{ptr}/responses/events/{}", escape(name));
            match b.get(name) {
                Some(sb) => response(out, sa, sb, &at),
                None => out.push(
                    Warning,
                    &at,
                    format!("event `{name}` that this client reads is no longer described"),
                ),
            }
        }
        for name in b.keys().filter(|n| !a.contains_key(*n)) {
            let at = format!("{ptr}/responses/events/{}", escape(name));
            let what = format!("new event `{name}` (this client keeps it as `Unknown`)");
            out.push(Additive, &at, what);
        }
    }
    if !op.streaming && !their.streaming {
        for (status, a) in &op.responses {
            let rptr = format!("{ptr}/responses/{status}");
            match their.responses.get(status) {
                Some(b) => response(out, a, b, &rptr),
                None => out.push(
                    Breaking,
                    &rptr,
                    format!("the {status} answer this client reads is gone"),
                ),
            }
        }
    }
    for status in their.success.difference(&op.success) {
        if !op.success.is_empty() {
            let what = format!("a new success status {status} that this client does not read");
            out.push(Warning, &format!("{ptr}/responses/{status}"), what);
        }
    }
}

/// What [`diff`] could not compare: the events of each stream this client reads whose
/// events `theirs` does not describe (a FastAPI document has no event schemas), as
/// `"METHOD /path"`.
///
/// ```
/// use bookwyrm_contract::{unchecked_streams, Contract};
/// let ours = Contract::embedded();
/// assert!(unchecked_streams(&ours, &ours).is_empty());
/// ```
pub fn unchecked_streams(ours: &Contract, theirs: &Contract) -> Vec<String> {
    ours.operations
        .iter()
        .filter(|(_, op)| op.streaming)
        .filter(|(key, _)| {
            theirs
                .operations
                .get(*key)
                .is_some_and(|t| t.streaming && t.events.is_none())
        })
        .map(|(key, _)| key.clone())
        .collect()
}

struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, kind: ChangeKind, pointer: &str, description: String) {
        self.0.push(Change {
            kind,
            pointer: pointer.to_string(),
            description,
        });
    }
}

fn op_pointer(op: &Operation) -> String {
    format!("/paths/{}/{}", escape(&op.path), op.method.to_lowercase())
}

/// A JSON pointer token (`~` and `/` escaped).
pub(super) fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Which way a schema's values travel.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// This client sends `ours` to a server that expects `theirs`.
    Request,
    /// This client reads `theirs` as `ours`.
    Response,
}

fn request(out: &mut Changes, ours: &Schema, theirs: &Schema, ptr: &str) {
    compare(out, Direction::Request, ours, theirs, ptr, false);
}

fn response(out: &mut Changes, ours: &Schema, theirs: &Schema, ptr: &str) {
    compare(out, Direction::Response, ours, theirs, ptr, false);
}

/// The changes between two schemas of one value, by the direction it travels; `optional`:
/// a field this client's type holds as `Option` (not required in its contract).
fn compare(
    out: &mut Changes,
    dir: Direction,
    ours: &Schema,
    theirs: &Schema,
    ptr: &str,
    optional: bool,
) {
    use ChangeKind::{Additive, Breaking, Warning};
    use Direction::{Request, Response};
    let (side, verb) = match dir {
        Request => ("request", "sends"),
        Response => ("response", "reads"),
    };
    if theirs.facets.deprecated && !ours.facets.deprecated {
        out.push(Warning, ptr, format!("the {side} value is deprecated"));
    }
    if !kinds(out, dir, ours, theirs, ptr) {
        return;
    }
    match dir {
        Request if ours.nullable && !theirs.nullable => out.push(
            Breaking,
            ptr,
            "null, which this client may send, is no longer accepted".into(),
        ),
        // `Option<T>` reads null as `None`: only a value the SDK holds as `T` breaks.
        Response if theirs.nullable && !ours.nullable && !optional => out.push(
            Breaking,
            ptr,
            "may now be null, which this client's type cannot hold".into(),
        ),
        _ => {}
    }
    if dir == Request {
        limits(out, &ours.facets, &theirs.facets, ptr);
        if optional && ours.facets.default != theirs.facets.default {
            let show = |d: &Option<serde_json::Value>| {
                d.as_ref().map_or("none".to_string(), |v| v.to_string())
            };
            let what = format!(
                "the default, used when this client leaves the field out, changed from {} to {}",
                show(&ours.facets.default),
                show(&theirs.facets.default)
            );
            out.push(Warning, ptr, what);
        }
    }
    formats(out, dir, ours, theirs, ptr);
    match (&ours.shape, &theirs.shape) {
        (
            Shape::Object {
                properties: a,
                required: ra,
            },
            Shape::Object {
                properties: b,
                required: rb,
            },
        ) => {
            let at = |name: &str| format!("{ptr}/properties/{}", escape(name));
            for (name, sa) in a {
                match b.get(name) {
                    Some(sb) => compare(out, dir, sa, sb, &at(name), !ra.contains(name)),
                    None => out.push(
                        Breaking,
                        &at(name),
                        format!("{side} field `{name}` that this client {verb} was removed"),
                    ),
                }
            }
            match dir {
                Request => {
                    for name in rb.difference(ra) {
                        let what = format!(
                            "request field `{name}` became required; this client does not always send it"
                        );
                        out.push(Breaking, &at(name), what);
                    }
                }
                Response => {
                    for name in ra.difference(rb).filter(|n| b.contains_key(*n)) {
                        let what = format!(
                            "response field `{name}` may now be absent; this client requires it"
                        );
                        out.push(Breaking, &at(name), what);
                    }
                }
            }
            for name in b.keys().filter(|n| !a.contains_key(*n)) {
                match dir {
                    Request if rb.contains(name) => {} // reported as required
                    Request => out.push(
                        Additive,
                        &at(name),
                        format!("new optional request field `{name}`"),
                    ),
                    Response => {
                        out.push(Additive, &at(name), format!("new response field `{name}`"))
                    }
                }
            }
        }
        (Shape::Array(a), Shape::Array(b)) => {
            compare(out, dir, a, b, &format!("{ptr}/items"), false)
        }
        (Shape::Enum { values: a, open }, Shape::Enum { values: b, .. }) => match dir {
            Request => {
                for v in a.iter().filter(|v| !b.contains(v)) {
                    let what = format!("value {v}, which this client may send, was removed");
                    out.push(Breaking, ptr, what);
                }
                for v in b.iter().filter(|v| !a.contains(v)) {
                    out.push(Additive, ptr, format!("new accepted value {v}"));
                }
            }
            Response => {
                for v in b.iter().filter(|v| !a.contains(v)) {
                    if *open {
                        let what = format!("new value {v} (this client keeps unknown values)");
                        out.push(Additive, ptr, what);
                    } else {
                        let what = format!("new value {v} in an enum this client models as closed");
                        out.push(Breaking, ptr, what);
                    }
                }
            }
        },
        (Shape::OneOf(a), Shape::OneOf(b)) => {
            for (i, (sa, sb)) in a.iter().zip(b).enumerate() {
                compare(out, dir, sa, sb, &format!("{ptr}/oneOf/{i}"), false);
            }
            match dir {
                Request if b.len() < a.len() => out.push(
                    Breaking,
                    ptr,
                    format!(
                        "{} of the {} forms this client may send are no longer accepted",
                        a.len() - b.len(),
                        a.len()
                    ),
                ),
                Response if b.len() > a.len() => out.push(
                    Breaking,
                    ptr,
                    format!("{} new forms this client cannot decode", b.len() - a.len()),
                ),
                _ if a.len() != b.len() => out.push(
                    Additive,
                    ptr,
                    format!("{} forms instead of {}", b.len(), a.len()),
                ),
                _ => {}
            }
        }
        _ => {}
    }
}

/// The shape rules: whether `theirs` holds what this client sends (request) or decodes into
/// this client's type (response). `false`: reported, nothing more to compare.
fn kinds(out: &mut Changes, dir: Direction, ours: &Schema, theirs: &Schema, ptr: &str) -> bool {
    use ChangeKind::{Additive, Breaking, Warning};
    use Direction::{Request, Response};
    let retyped = |out: &mut Changes| {
        let (side, verb) = match dir {
            Request => ("request", "sends"),
            Response => ("response", "reads"),
        };
        let what = format!("a {side} value this client {verb} was retyped from {ours} to {theirs}");
        out.push(Breaking, ptr, what);
        false
    };
    match (&ours.shape, &theirs.shape) {
        (Shape::Any, _) => false, // nothing of ours to hold to
        (_, Shape::Any) => {
            if dir == Response {
                let what = format!("no longer described (was {ours}): anything may come");
                out.push(Warning, ptr, what);
            }
            false
        }
        (Shape::Object { .. }, Shape::Object { .. })
        | (Shape::Array(_), Shape::Array(_))
        | (Shape::Enum { .. }, Shape::Enum { .. })
        | (Shape::OneOf(_), Shape::OneOf(_)) => true,
        (Shape::Scalar(a), Shape::Scalar(b)) if a == b => true,
        // Integers are numbers: a request may widen, a response may narrow.
        (Shape::Scalar(a), Shape::Scalar(b)) if a == "integer" && b == "number" => {
            match dir {
                Request => out.push(Additive, ptr, "widened from integer to number".into()),
                Response => return retyped(out),
            }
            false
        }
        (Shape::Scalar(a), Shape::Scalar(b)) if a == "number" && b == "integer" => {
            match dir {
                Request => return retyped(out),
                Response => out.push(Additive, ptr, "narrowed from number to integer".into()),
            }
            false
        }
        // A string became an enum, or an enum a string.
        (Shape::Scalar(t), Shape::Enum { values, .. }) if t == "string" => {
            match dir {
                Request => {
                    let what = format!(
                        "now limited to {} values; this client may send others",
                        values.len()
                    );
                    out.push(Breaking, ptr, what);
                }
                Response => out.push(
                    Additive,
                    ptr,
                    format!("now limited to {} values", values.len()),
                ),
            }
            false
        }
        (Shape::Enum { open, .. }, Shape::Scalar(t)) if t == "string" => {
            match dir {
                Request => out.push(Additive, ptr, "no longer limited to an enum".into()),
                Response if *open => out.push(
                    Warning,
                    ptr,
                    "no longer an enum: any string may come (this client keeps unknown values)"
                        .into(),
                ),
                Response => out.push(
                    Breaking,
                    ptr,
                    "no longer an enum: any string may come, and this client's enum is closed"
                        .into(),
                ),
            }
            false
        }
        // One form became several, or several one.
        (_, Shape::OneOf(forms))
            if dir == Request && forms.iter().any(|f| kinds_match(ours, f)) =>
        {
            out.push(Additive, ptr, format!("now one of {} forms", forms.len()));
            false
        }
        (Shape::OneOf(forms), _)
            if dir == Response && forms.iter().any(|f| kinds_match(f, theirs)) =>
        {
            out.push(
                Additive,
                ptr,
                format!("now one of the {} forms this client reads", forms.len()),
            );
            false
        }
        _ => retyped(out),
    }
}

/// Whether two schemas have the same kind (for matching a form of a `oneOf`).
fn scalar(s: &Shape) -> Option<&str> {
    match s {
        Shape::Scalar(t) => Some(t.as_str()),
        _ => None,
    }
}

fn kinds_match(a: &Schema, b: &Schema) -> bool {
    std::mem::discriminant(&a.shape) == std::mem::discriminant(&b.shape)
        && match (&a.shape, &b.shape) {
            (Shape::Scalar(_), Shape::Scalar(_)) => scalar(&a.shape) == scalar(&b.shape),
            _ => true,
        }
}

/// Limits of a request value: tighter ones make the server refuse (422) what this client lets
/// through; looser ones make this client refuse what the server takes.
fn limits(out: &mut Changes, ours: &Facets, theirs: &Facets, ptr: &str) {
    use ChangeKind::{Breaking, Warning};
    let float = |v: Option<u64>| v.map(|v| v as f64);
    // (name, ours, theirs, whether a larger value is tighter)
    let bounds: [(&str, Option<f64>, Option<f64>, bool); 6] = [
        ("minimum", ours.minimum, theirs.minimum, true),
        ("maximum", ours.maximum, theirs.maximum, false),
        (
            "minLength",
            float(ours.min_length),
            float(theirs.min_length),
            true,
        ),
        (
            "maxLength",
            float(ours.max_length),
            float(theirs.max_length),
            false,
        ),
        (
            "minItems",
            float(ours.min_items),
            float(theirs.min_items),
            true,
        ),
        (
            "maxItems",
            float(ours.max_items),
            float(theirs.max_items),
            false,
        ),
    ];
    for (name, a, b, larger_is_tighter) in bounds {
        let tighter = match (a, b) {
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (Some(a), Some(b)) if a != b => Some((b > a) == larger_is_tighter),
            _ => None,
        };
        let show = |v: Option<f64>| v.map_or("none".to_string(), |v| v.to_string());
        match tighter {
            Some(true) => out.push(
                Breaking,
                ptr,
                format!("{name} tightened from {} to {}: values this client lets through are now refused (422)", show(a), show(b)),
            ),
            Some(false) => out.push(
                Warning,
                ptr,
                format!("{name} loosened from {} to {}: this client refuses values the server takes", show(a), show(b)),
            ),
            None => {}
        }
    }
    if ours.pattern != theirs.pattern {
        let what = format!(
            "pattern changed from {:?} to {:?}",
            ours.pattern, theirs.pattern
        );
        let kind = if theirs.pattern.is_some() {
            Breaking
        } else {
            Warning
        };
        out.push(kind, ptr, what);
    }
}

/// `format`s that choose the Rust type (`int32` → `i32`, `uuid` → `Uuid`, `date-time`, …): a
/// wider one in a response, or a stricter one in a request, breaks; any other change renames
/// types on regeneration.
fn formats(out: &mut Changes, dir: Direction, ours: &Schema, theirs: &Schema, ptr: &str) {
    use ChangeKind::{Breaking, Warning};
    let (a, b) = (
        ours.facets.format.as_deref(),
        theirs.facets.format.as_deref(),
    );
    if a == b {
        return;
    }
    // How many values a format allows, for the ones that narrow the Rust type.
    let width = |f: Option<&str>| match f {
        Some("int32") | Some("uint32") | Some("float") => 1,
        Some("uuid") | Some("date-time") | Some("date") | Some("ipv4") | Some("ipv6")
        | Some("uri") => 1,
        _ => 2,
    };
    let show = |f: Option<&str>| f.unwrap_or("none").to_string();
    let what = format!("format changed from {} to {}", show(a), show(b));
    let breaks = match dir {
        Direction::Response => width(b) > width(a),
        Direction::Request => width(b) < width(a) || (width(a) == 1 && width(b) == 1),
    };
    if breaks {
        out.push(
            Breaking,
            ptr,
            format!("{what}: values may not fit this client's type"),
        );
    } else {
        out.push(
            Warning,
            ptr,
            format!("{what}: regeneration changes the Rust type"),
        );
    }
}
