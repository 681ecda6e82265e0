//! How a typed event serializes: its payload's fields plus `"type"` (the SSE event name), keys
//! in sorted order at every level, as a `serde_json::Value` of it would serialize.
//!
//! Building that `Value` (a `BTreeMap` and a `String` per key) cost a third of the CPU of
//! `bookwyrm phrasal --json` on a fast stream. A payload that is a struct is taken apart here
//! instead: each field becomes a `Value` of its own (`serde_json::to_value`, so numbers,
//! `null`s and nested objects come out exactly as in the whole payload's `Value`), and the
//! fields are sorted by name and written as a map. Anything else (the `Value` of an unknown
//! event) goes through `Value` whole.

use serde::ser::{self, Serialize, SerializeMap as _, Serializer};
use serde_json::Value;

/// Serializes `payload` with `"type": name` added (replacing a `type` of its own), keys sorted.
pub(crate) fn serialize_tagged<T: Serialize, S: Serializer>(
    payload: &T,
    name: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match payload.serialize(Fields) {
        Ok(mut fields) => {
            fields.retain(|(key, _)| *key != "type");
            fields.push(("type", Value::from(name)));
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut map = serializer.serialize_map(Some(fields.len()))?;
            for (key, value) in &fields {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
        Err(NotAStruct) => {
            let mut value = serde_json::to_value(payload).map_err(ser::Error::custom)?;
            if let Some(map) = value.as_object_mut() {
                map.insert("type".into(), name.into());
            }
            value.serialize(serializer)
        }
    }
}

/// Takes a struct apart into its fields, each as a `Value`; anything else is [`NotAStruct`].
struct Fields;

/// The payload is not a struct (or a field failed to become a `Value`): the whole-`Value` path
/// serializes it, and reports that failure if there is one.
#[derive(Debug)]
struct NotAStruct;

impl std::fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a struct")
    }
}

impl std::error::Error for NotAStruct {}

impl ser::Error for NotAStruct {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        NotAStruct
    }
}

/// The `Serializer` methods of [`Fields`] for everything but a struct: [`NotAStruct`].
macro_rules! not_a_struct {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<$out, NotAStruct> {
            Err(NotAStruct)
        })*
    };
}

type Out = Vec<(&'static str, Value)>;
type No = ser::Impossible<Out, NotAStruct>;

impl Serializer for Fields {
    type Ok = Out;
    type Error = NotAStruct;
    type SerializeSeq = No;
    type SerializeTuple = No;
    type SerializeTupleStruct = No;
    type SerializeTupleVariant = No;
    type SerializeMap = No;
    type SerializeStruct = StructFields;
    type SerializeStructVariant = No;

    not_a_struct! {
        serialize_bool(v: bool) -> Out;
        serialize_i8(v: i8) -> Out;
        serialize_i16(v: i16) -> Out;
        serialize_i32(v: i32) -> Out;
        serialize_i64(v: i64) -> Out;
        serialize_u8(v: u8) -> Out;
        serialize_u16(v: u16) -> Out;
        serialize_u32(v: u32) -> Out;
        serialize_u64(v: u64) -> Out;
        serialize_f32(v: f32) -> Out;
        serialize_f64(v: f64) -> Out;
        serialize_char(v: char) -> Out;
        serialize_str(v: &str) -> Out;
        serialize_bytes(v: &[u8]) -> Out;
        serialize_none() -> Out;
        serialize_unit() -> Out;
        serialize_unit_struct(name: &'static str) -> Out;
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> Out;
        serialize_seq(len: Option<usize>) -> No;
        serialize_tuple(len: usize) -> No;
        serialize_tuple_struct(name: &'static str, len: usize) -> No;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> No;
        serialize_map(len: Option<usize>) -> No;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> No;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Out, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Out, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Out, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<StructFields, NotAStruct> {
        Ok(StructFields(Vec::with_capacity(len + 1)))
    }
}

/// A struct's fields so far.
struct StructFields(Out);

impl ser::SerializeStruct for StructFields {
    type Ok = Out;
    type Error = NotAStruct;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAStruct> {
        let value = serde_json::to_value(value).map_err(|_| NotAStruct)?;
        self.0.push((key, value));
        Ok(())
    }

    fn end(self) -> Result<Out, NotAStruct> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::serialize_tagged;

    /// What the events serialized to before: the payload as a `Value`, `type` inserted.
    fn through_value<T: Serialize>(payload: &T, name: &str) -> String {
        let mut value = serde_json::to_value(payload).unwrap();
        value
            .as_object_mut()
            .unwrap()
            .insert("type".into(), name.into());
        serde_json::to_string(&value).unwrap()
    }

    fn tagged<T: Serialize>(payload: &T, name: &str) -> String {
        let mut out = Vec::new();
        serialize_tagged(payload, name, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Strength {
        Swift,
    }

    #[derive(Serialize)]
    struct Flat {
        text: String,
        start_char: u64,
        end_char: u32,
        offset: i64,
        below: i8,
        ratio: f64,
        nan: f64,
        ok: bool,
        missing: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u64>,
        #[serde(rename = "type")]
        kind: &'static str,
        strength: Strength,
        letter: char,
        zz_last: (),
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: u8,
        alpha: Vec<u8>,
    }

    #[derive(Serialize)]
    struct Nested {
        name: String,
        inner: Inner,
        list: Vec<Inner>,
    }

    #[test]
    fn flat_and_nested_payloads_serialize_as_their_value_did() {
        let flat = Flat {
            text: "Quote \" and é\n".into(),
            start_char: 7,
            end_char: 9,
            offset: 3,
            below: -4,
            ratio: 0.1,
            nan: f64::NAN,
            ok: true,
            missing: None,
            skipped: None,
            kind: "its own",
            strength: Strength::Swift,
            letter: 'x',
            zz_last: (),
        };
        let out = tagged(&flat, "text_span");
        assert_eq!(out, through_value(&flat, "text_span"));
        assert!(out.starts_with(r#"{"below":-4,"end_char":9,"letter":"x","missing":null"#));
        assert!(out.contains(r#""type":"text_span""#) && !out.contains("its own"));
        let nested = Nested {
            name: "n".into(),
            inner: Inner {
                zeta: 1,
                alpha: vec![2],
            },
            list: vec![Inner {
                zeta: 3,
                alpha: vec![],
            }],
        };
        let out = tagged(&nested, "summary");
        assert_eq!(out, through_value(&nested, "summary"));
        assert!(
            out.contains(r#"{"alpha":[2],"zeta":1}"#),
            "nested keys sorted: {out}"
        );
        #[derive(Serialize)]
        struct Single {
            share: f32,
            name: &'static str,
        }
        let single = Single {
            share: 0.1,
            name: "f32",
        };
        // The text itself, not another run of the same path: an f32 widened to f64 as a
        // `Value` holds it (the digits the JSON output has always had), keys sorted.
        assert_eq!(
            tagged(&single, "x"),
            r#"{"name":"f32","share":0.10000000149011612,"type":"x"}"#
        );
        // A payload that is not a struct (an unknown event's data): the `Value` path, with
        // nested keys sorted and `type` added.
        let unknown = serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}});
        assert_eq!(
            tagged(&unknown, "x"),
            r#"{"a":{"c":3,"d":2},"b":1,"type":"x"}"#
        );
    }
}
