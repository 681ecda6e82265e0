//! The public Rust API of generated code, and how two differ.

use std::collections::{BTreeMap, BTreeSet};

use quote::ToTokens;
use serde::Serialize;

/// The public items of generated code by path (`types::Citation::quality`), each with what a
/// user depends on (`field u64`, `fn (& self , body : ...) -> ...`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RustApi {
    /// Path -> signature.
    pub items: BTreeMap<String, String>,
    /// Structs and enums marked `#[non_exhaustive]` (a new field or variant breaks no one).
    pub non_exhaustive: BTreeSet<String>,
}

/// How much a Rust change costs a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Code that compiled may not compile any more.
    Breaking,
    /// New API; nothing that compiled breaks.
    Added,
}

/// One change of the public Rust API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustChange {
    /// Breaking or added.
    pub level: Level,
    /// `bookwyrm::types::Citation::quality`.
    pub path: String,
    /// What changed.
    pub description: String,
}

impl RustApi {
    /// Reads generated Rust code. `prefix` goes before every path (`bookwyrm::`).
    pub fn read(code: &str, prefix: &str) -> Result<Self, String> {
        let file = syn::parse_file(code).map_err(|e| format!("not Rust: {e}"))?;
        let mut api = Self::default();
        api.items_of(&file.items, prefix);
        Ok(api)
    }

    fn items_of(&mut self, items: &[syn::Item], prefix: &str) {
        for item in items {
            match item {
                syn::Item::Mod(m) if is_pub(&m.vis) => {
                    if let Some((_, inner)) = &m.content {
                        self.items_of(inner, &format!("{prefix}{}::", m.ident));
                    }
                }
                syn::Item::Struct(s) if is_pub(&s.vis) => {
                    let path = format!("{prefix}{}", s.ident);
                    self.items.insert(path.clone(), "struct".into());
                    if non_exhaustive(&s.attrs) {
                        self.non_exhaustive.insert(path.clone());
                    }
                    for (i, f) in s.fields.iter().enumerate() {
                        if !is_pub(&f.vis) {
                            continue;
                        }
                        let name = f
                            .ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_else(|| i.to_string());
                        self.items.insert(
                            format!("{path}::{name}"),
                            format!("field {}", tokens(&f.ty)),
                        );
                    }
                }
                syn::Item::Enum(e) if is_pub(&e.vis) => {
                    let path = format!("{prefix}{}", e.ident);
                    self.items.insert(path.clone(), "enum".into());
                    if non_exhaustive(&e.attrs) {
                        self.non_exhaustive.insert(path.clone());
                    }
                    for v in &e.variants {
                        self.items.insert(
                            format!("{path}::{}", v.ident),
                            format!("variant {}", tokens(&v.fields)),
                        );
                    }
                }
                syn::Item::Impl(i) if i.trait_.is_none() => {
                    let ty = tokens(&i.self_ty);
                    for it in &i.items {
                        if let syn::ImplItem::Fn(f) = it
                            && is_pub(&f.vis)
                        {
                            self.items.insert(
                                format!("{prefix}{ty}::{}", f.sig.ident),
                                format!("fn {}", tokens(&f.sig)),
                            );
                        }
                    }
                }
                syn::Item::Const(c) if is_pub(&c.vis) => {
                    self.items.insert(
                        format!("{prefix}{}", c.ident),
                        format!("const {}", tokens(&c.ty)),
                    );
                }
                syn::Item::Type(t) if is_pub(&t.vis) => {
                    self.items.insert(
                        format!("{prefix}{}", t.ident),
                        format!("type {}", tokens(&t.ty)),
                    );
                }
                _ => {}
            }
        }
    }
}

fn is_pub(v: &syn::Visibility) -> bool {
    matches!(v, syn::Visibility::Public(_))
}

fn non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

/// Tokens as a person writes them: `Option<String>`, not `:: std :: option :: Option < …`.
fn tokens(t: &impl ToTokens) -> String {
    let mut s = t.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    for (from, to) in [
        ("::std::option::", ""),
        ("::std::string::", ""),
        ("::std::vec::", ""),
        ("::std::collections::", ""),
        ("::serde_json::", "serde_json::"),
        ("::std::", "std::"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// What changed from `base` to `new`, most costly first, then by path.
pub fn diff(base: &RustApi, new: &RustApi) -> Vec<RustChange> {
    let parent = |p: &str| p.rsplit_once("::").map(|(a, _)| a.to_string());
    let mut removed: Vec<(&String, &String)> = base
        .items
        .iter()
        .filter(|(p, _)| !new.items.contains_key(*p))
        .collect();
    let mut added: Vec<(&String, &String)> = new
        .items
        .iter()
        .filter(|(p, _)| !base.items.contains_key(*p))
        .collect();
    let mut out = Vec::new();
    // A field or variant gone and another with the same signature come in the same place:
    // most likely a rename.
    removed.retain(|(rp, rs)| {
        let found = added
            .iter()
            .position(|(ap, as_)| as_ == rs && parent(ap) == parent(rp) && parent(rp).is_some());
        match found {
            Some(i) if rs.starts_with("field") || rs.starts_with("variant") => {
                let (ap, _) = added.remove(i);
                out.push(RustChange {
                    level: Level::Breaking,
                    path: (*rp).clone(),
                    description: format!(
                        "renamed to `{}` ({})",
                        ap.rsplit("::").next().unwrap_or(ap),
                        rs
                    ),
                });
                false
            }
            _ => true,
        }
    });
    for (path, sig) in removed {
        // Under a removed type, only the type is named.
        if parent(path).is_some_and(|p| base.items.contains_key(&p) && !new.items.contains_key(&p))
        {
            continue;
        }
        out.push(RustChange {
            level: Level::Breaking,
            path: path.clone(),
            description: format!("removed ({sig})"),
        });
    }
    for (path, sig) in added {
        let owner = parent(path).filter(|p| base.items.contains_key(p));
        let closed = owner
            .as_ref()
            .is_some_and(|p| !new.non_exhaustive.contains(p));
        let level = if closed && (sig.starts_with("field") || sig.starts_with("variant")) {
            Level::Breaking
        } else {
            Level::Added
        };
        if parent(path).is_some_and(|p| new.items.contains_key(&p) && !base.items.contains_key(&p))
        {
            continue;
        }
        let description = match level {
            Level::Breaking if sig.starts_with("field") => {
                format!("new field ({sig}): struct literals must name it")
            }
            Level::Breaking => format!("new variant ({sig}): exhaustive matches must cover it"),
            Level::Added => format!("added ({sig})"),
        };
        out.push(RustChange {
            level,
            path: path.clone(),
            description,
        });
    }
    for (path, before) in &base.items {
        if let Some(after) = new.items.get(path)
            && before != after
        {
            out.push(RustChange {
                level: Level::Breaking,
                path: path.clone(),
                description: format!("`{before}` -> `{after}`"),
            });
        }
    }
    for p in new.non_exhaustive.difference(&base.non_exhaustive) {
        if base.items.contains_key(p) {
            out.push(RustChange {
                level: Level::Breaking,
                path: p.clone(),
                description: "now #[non_exhaustive]".into(),
            });
        }
    }
    out.sort_by(|a, b| (a.level, &a.path).cmp(&(b.level, &b.path)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> RustApi {
        RustApi::read(code, "bookwyrm::").unwrap()
    }

    #[test]
    fn field_types_fields_variants_and_methods() {
        let base = api(
            "pub mod types { pub struct A { pub x: u64, pub y: String, pub gone: bool }
             #[non_exhaustive] pub enum E { One(u8) } pub enum Closed { A } pub struct Old { pub f: u8 } }
             pub struct Client; impl Client { pub fn call(&self, a: u64) -> u8 { 0 } fn private(&self) {} }",
        );
        let new = api(
            "pub mod types { pub struct A { pub x: i64, pub z: String, pub extra: Option<u8> }
             #[non_exhaustive] pub enum E { One(u8), Two } pub enum Closed { A, B } pub struct New { pub f: u8 } }
             pub struct Client; impl Client { pub fn call(&self, a: u64) -> u8 { 0 } pub fn more(&self) {} }",
        );
        let changes: Vec<String> = diff(&base, &new)
            .iter()
            .map(|c| format!("{:?} {} {}", c.level, c.path, c.description))
            .collect();
        assert_eq!(
            changes,
            vec![
                "Breaking bookwyrm::types::A::extra new field (field Option<u8>): struct literals must name it",
                "Breaking bookwyrm::types::A::gone removed (field bool)",
                "Breaking bookwyrm::types::A::x `field u64` -> `field i64`",
                "Breaking bookwyrm::types::A::y renamed to `z` (field String)",
                "Breaking bookwyrm::types::Closed::B new variant (variant ): exhaustive matches must cover it",
                "Breaking bookwyrm::types::Old removed (struct)",
                "Added bookwyrm::Client::more added (fn fn more (&self))",
                "Added bookwyrm::types::E::Two added (variant )",
                "Added bookwyrm::types::New added (struct)",
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
