//! How a typed event serializes: its payload's fields plus `"type"` (the SSE event name), keys
//! in sorted order at every level, as a `serde_json::Value` of it would serialize.
//!
//! Building that `Value` (a `BTreeMap` and a `String` per key) cost a third of the CPU of
//! `bookwyrm phrasal --json` on a fast stream. Most payloads are flat (numbers, strings,
//! booleans, string enums, options of those): their fields are captured into a short list,
//! sorted and written as a map, which gives the same output. A payload with anything nested
//! (a list, an object) still goes through `Value`, which sorts the nested keys too.

use serde::ser::{self, Serialize, SerializeMap as _, Serializer};

/// Serializes `payload` with `"type": name` added (replacing a `type` of its own), keys sorted.
pub(crate) fn serialize_tagged<T: Serialize, S: Serializer>(
    payload: &T,
    name: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match payload.serialize(Capture) {
        Ok(Captured::Struct(mut fields)) => {
            fields.retain(|(key, _)| *key != "type");
            fields.push(("type", Scalar::Str(name.to_string())));
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut map = serializer.serialize_map(Some(fields.len()))?;
            for (key, value) in &fields {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
        _ => {
            let mut value = serde_json::to_value(payload).map_err(ser::Error::custom)?;
            if let Some(map) = value.as_object_mut() {
                map.insert("type".into(), name.into());
            }
            value.serialize(serializer)
        }
    }
}

/// One flat field's value, as `serde_json::Value` holds it.
#[derive(Debug)]
enum Scalar {
    Null,
    Bool(bool),
    /// Non-negative integers (a `Value` keeps every one as unsigned).
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Null => serializer.serialize_unit(),
            Scalar::Bool(b) => serializer.serialize_bool(*b),
            Scalar::U64(n) => serializer.serialize_u64(*n),
            Scalar::I64(n) => serializer.serialize_i64(*n),
            Scalar::F64(n) => serializer.serialize_f64(*n),
            Scalar::Str(s) => serializer.serialize_str(s),
        }
    }
}

/// Not flat: the payload needs the `Value` path.
#[derive(Debug)]
struct Nested;

impl std::fmt::Display for Nested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a nested value")
    }
}

impl std::error::Error for Nested {}

impl ser::Error for Nested {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Nested
    }
}

/// Takes a struct of scalar fields apart; anything else is [`Nested`].
struct Capture;

/// The fields of a captured struct, in the order given.
type Fields = Vec<(&'static str, Scalar)>;

/// What [`Capture`] makes of a value: a scalar, or a struct's fields.
enum Captured {
    Scalar(Scalar),
    Struct(Fields),
}

impl Captured {
    fn into_scalar(self) -> Result<Scalar, Nested> {
        match self {
            Captured::Scalar(s) => Ok(s),
            Captured::Struct(_) => Err(Nested),
        }
    }
}

impl Serializer for Capture {
    type Ok = Captured;
    type Error = Nested;
    type SerializeSeq = ser::Impossible<Captured, Nested>;
    type SerializeTuple = ser::Impossible<Captured, Nested>;
    type SerializeTupleStruct = ser::Impossible<Captured, Nested>;
    type SerializeTupleVariant = ser::Impossible<Captured, Nested>;
    type SerializeMap = ser::Impossible<Captured, Nested>;
    type SerializeStruct = StructOf;
    type SerializeStructVariant = ser::Impossible<Captured, Nested>;

    fn serialize_bool(self, v: bool) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Captured, Nested> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Captured, Nested> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Captured, Nested> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(match u64::try_from(v) {
            Ok(u) => Scalar::U64(u),
            Err(_) => Scalar::I64(v),
        }))
    }
    fn serialize_u8(self, v: u8) -> Result<Captured, Nested> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Captured, Nested> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Captured, Nested> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::U64(v)))
    }
    fn serialize_f32(self, v: f32) -> Result<Captured, Nested> {
        // As `Value` does: through f64, non-finite numbers become null.
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(if v.is_finite() {
            Scalar::F64(v)
        } else {
            Scalar::Null
        }))
    }
    fn serialize_char(self, v: char) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Str(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Str(v.to_string())))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Captured, Nested> {
        Err(Nested)
    }
    fn serialize_none(self) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Null))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Captured, Nested> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Null))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Captured, Nested> {
        Ok(Captured::Scalar(Scalar::Null))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Captured, Nested> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Captured, Nested> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Captured, Nested> {
        Err(Nested)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Nested> {
        Err(Nested)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Nested> {
        Err(Nested)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Nested> {
        Err(Nested)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Nested> {
        Err(Nested)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Nested> {
        Err(Nested)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<StructOf, Nested> {
        Ok(StructOf(Vec::with_capacity(len + 1)))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Nested> {
        Err(Nested)
    }
}

/// A struct being captured (its fields must be scalars).
struct StructOf(Fields);

impl ser::SerializeStruct for StructOf {
    type Ok = Captured;
    type Error = Nested;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Nested> {
        self.0.push((key, value.serialize(Capture)?.into_scalar()?));
        Ok(())
    }

    fn end(self) -> Result<Captured, Nested> {
        Ok(Captured::Struct(self.0))
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
        assert_eq!(tagged(&single, "x"), through_value(&single, "x"));
        let unknown = serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}});
        assert_eq!(tagged(&unknown, "x"), through_value(&unknown, "x"));
    }
}
