//! The rules: how a difference between two contracts matters to this client.

use std::fmt;

use serde::Serialize;

use super::{Contract, Operation, Schema, Shape};

/// Whether a change breaks this client.
///
/// ```
/// assert_ne!(bookwyrm::contract::ChangeKind::Breaking, bookwyrm::contract::ChangeKind::Additive);
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
    /// New capability that does not affect this client: a new operation, a new optional
    /// request field, a new response field, a new value where unknown values are kept.
    Additive,
}

/// One difference between two contracts.
///
/// ```
/// let c = bookwyrm::contract::Change {
///     kind: bookwyrm::contract::ChangeKind::Additive,
///     pointer: "/paths/~1new/post".into(),
///     description: "new operation".into(),
/// };
/// assert_eq!(c.to_string(), "additive /paths/~1new/post: new operation");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking or additive.
    pub kind: ChangeKind,
    /// Where: a JSON pointer into the document's operation and its schemas, references
    /// resolved (`/paths/~1cite/post/requestBody/properties/question`).
    pub pointer: String,
    /// What changed.
    pub description: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ChangeKind::Breaking => "breaking",
            ChangeKind::Additive => "additive",
        };
        write!(f, "{kind} {}: {}", self.pointer, self.description)
    }
}

/// The changes from `ours` (what this client was built from) to `theirs` (what a server
/// publishes), classified for this client; breaking ones first.
///
/// ```
/// use bookwyrm::contract::{diff, Contract, ChangeKind};
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
            Some(their) => {
                match (&op.request, &their.request) {
                    (Some(a), Some(b)) => request(&mut out, a, b, &format!("{ptr}/requestBody")),
                    (Some(_), None) => out.push(
                        ChangeKind::Breaking,
                        &format!("{ptr}/requestBody"),
                        "the request body this client sends is no longer accepted".into(),
                    ),
                    (None, Some(b)) => out.push(
                        ChangeKind::Breaking,
                        &format!("{ptr}/requestBody"),
                        format!("a request body ({b}) is now expected; this client sends none"),
                    ),
                    (None, None) => {}
                }
                if !op.streaming && !their.streaming {
                    for (status, a) in &op.responses {
                        let rptr = format!("{ptr}/responses/{status}");
                        match their.responses.get(status) {
                            Some(b) => response(&mut out, a, b, &rptr),
                            None => out.push(
                                ChangeKind::Breaking,
                                &rptr,
                                format!("the {status} answer this client reads is gone"),
                            ),
                        }
                    }
                }
            }
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
    format!(
        "/paths/{}/{}",
        op.path.replace('~', "~0").replace('/', "~1"),
        op.method.to_lowercase()
    )
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn same_type(a: &Schema, b: &Schema) -> bool {
    matches!(
        (&a.shape, &b.shape),
        (Shape::Object { .. }, Shape::Object { .. })
            | (Shape::Array(_), Shape::Array(_))
            | (Shape::Enum { .. }, Shape::Enum { .. })
            | (Shape::OneOf(_), Shape::OneOf(_))
            | (_, Shape::Any)
            | (Shape::Any, _)
    ) || matches!((&a.shape, &b.shape), (Shape::Scalar(x), Shape::Scalar(y)) if x == y)
        || matches!((&a.shape, &b.shape), (Shape::Enum { .. }, Shape::Scalar(t)) | (Shape::Scalar(t), Shape::Enum { .. }) if t == "string")
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
    compare(out, Direction::Request, ours, theirs, ptr);
}

fn response(out: &mut Changes, ours: &Schema, theirs: &Schema, ptr: &str) {
    compare(out, Direction::Response, ours, theirs, ptr);
}

/// The changes between two schemas of one value, by the direction it travels.
fn compare(out: &mut Changes, dir: Direction, ours: &Schema, theirs: &Schema, ptr: &str) {
    use ChangeKind::{Additive, Breaking};
    let (side, verb) = match dir {
        Direction::Request => ("request", "sends"),
        Direction::Response => ("response", "reads"),
    };
    if !same_type(ours, theirs) {
        let what = format!("a {side} value this client {verb} was retyped from {ours} to {theirs}");
        out.push(Breaking, ptr, what);
        return;
    }
    match dir {
        Direction::Request if ours.nullable && !theirs.nullable => out.push(
            Breaking,
            ptr,
            "null, which this client may send, is no longer accepted".into(),
        ),
        Direction::Response if theirs.nullable && !ours.nullable => out.push(
            Breaking,
            ptr,
            "may now be null, which this client does not expect".into(),
        ),
        _ => {}
    }
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
                    Some(sb) => compare(out, dir, sa, sb, &at(name)),
                    None => out.push(
                        Breaking,
                        &at(name),
                        format!("{side} field `{name}` that this client {verb} was removed"),
                    ),
                }
            }
            match dir {
                Direction::Request => {
                    for name in rb.difference(ra) {
                        let what = format!(
                            "request field `{name}` became required; this client does not always send it"
                        );
                        out.push(Breaking, &at(name), what);
                    }
                }
                Direction::Response => {
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
                    Direction::Request if rb.contains(name) => {} // reported as required
                    Direction::Request => out.push(
                        Additive,
                        &at(name),
                        format!("new optional request field `{name}`"),
                    ),
                    Direction::Response => {
                        out.push(Additive, &at(name), format!("new response field `{name}`"))
                    }
                }
            }
        }
        (Shape::Array(a), Shape::Array(b)) => compare(out, dir, a, b, &format!("{ptr}/items")),
        (Shape::Enum { values: a, open }, Shape::Enum { values: b, .. }) => match dir {
            Direction::Request => {
                for v in a.iter().filter(|v| !b.contains(v)) {
                    let what = format!("value {v}, which this client may send, was removed");
                    out.push(Breaking, ptr, what);
                }
                for v in b.iter().filter(|v| !a.contains(v)) {
                    out.push(Additive, ptr, format!("new accepted value {v}"));
                }
            }
            Direction::Response => {
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
        _ => {}
    }
}
