//! How a typed event serializes: its payload's fields plus `"type"` (the SSE event name), keys
//! in sorted order at every level, as a `serde_json::Value` of it serializes to JSON.
//!
//! Building that `Value` (a `BTreeMap` and a `String` per key) cost a third of the CPU of
//! `bookwyrm phrasal --json` on a fast stream. Most payloads are flat (numbers, strings,
//! booleans, string enums, options of those), and for them no tree is built: a first pass
//! reads the field names (and checks that every value is flat), then each field is written, in
//! sorted order, straight from the payload by a pass that picks it out. Nothing is allocated
//! or copied. A payload with anything nested (a list, an object) still goes through `Value`,
//! which sorts the nested keys too.

use serde::ser::{self, Impossible, Serialize, SerializeMap, Serializer};

/// The most fields a payload may have to be written without a `Value`.
const MAX_FIELDS: usize = 32;

/// Serializes `payload` with `"type": name` added (replacing a `type` of its own), keys sorted.
pub(crate) fn serialize_tagged<T: Serialize, S: Serializer>(
    payload: &T,
    name: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let Ok(Keys(mut keys, n)) = payload.serialize(ReadKeys) else {
        let mut value = serde_json::to_value(payload).map_err(ser::Error::custom)?;
        if let Some(map) = value.as_object_mut() {
            map.insert("type".into(), name.into());
        }
        return value.serialize(serializer);
    };
    // The payload's own `type` gives way to the event name, at the same place.
    let keys = match keys[..n].iter().position(|k| *k == "type") {
        Some(_) => &mut keys[..n],
        None => {
            keys[n] = "type";
            &mut keys[..=n]
        }
    };
    keys.sort_unstable();
    let mut map = serializer.serialize_map(Some(keys.len()))?;
    for key in keys.iter() {
        if *key == "type" {
            map.serialize_entry("type", name)?;
        } else {
            payload.serialize(Pick {
                map: &mut map,
                want: key,
            })?;
        }
    }
    map.end()
}

/// Not flat, or not a struct: the payload needs the `Value` path.
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

/// A struct's field names, in its order (one place spare for `type`).
struct Keys([&'static str; MAX_FIELDS + 1], usize);

/// Reads the field names of a struct whose every field is flat; anything else is [`Nested`].
struct ReadKeys;

impl ser::SerializeStruct for Keys {
    type Ok = Keys;
    type Error = Nested;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Nested> {
        if self.1 == MAX_FIELDS {
            return Err(Nested);
        }
        value.serialize(Flat)?;
        self.0[self.1] = key;
        self.1 += 1;
        Ok(())
    }

    fn end(self) -> Result<Keys, Nested> {
        Ok(self)
    }
}

/// Says whether a value is flat (`Ok`), without keeping it.
struct Flat;

/// The serializer methods of the values a flat field may hold, answering `$answer`.
macro_rules! scalars {
    ($ok:ty, $err:ty, $answer:expr) => {
        fn serialize_bool(self, _v: bool) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_i8(self, _v: i8) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_i16(self, _v: i16) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_i32(self, _v: i32) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_i64(self, _v: i64) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_u8(self, _v: u8) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_u16(self, _v: u16) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_u32(self, _v: u32) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_u64(self, _v: u64) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_f64(self, _v: f64) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_char(self, _v: char) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_str(self, _v: &str) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_none(self) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_unit(self) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_unit_struct(self, _name: &'static str) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_unit_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
        ) -> Result<$ok, $err> {
            $answer
        }
    };
}

/// The serializer methods of everything else (no flat field holds it), answering `$answer`.
macro_rules! others {
    ($ok:ty, $err:ty, $answer:expr) => {
        fn serialize_bytes(self, _v: &[u8]) -> Result<$ok, $err> {
            $answer
        }
        // A `Value` holds an `f32` as the `f64` it converts to, which JSON writes with more
        // digits than the `f32` itself: such a payload takes the `Value` path.
        fn serialize_f32(self, _v: f32) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _value: &T,
        ) -> Result<$ok, $err> {
            $answer
        }
        fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, $err> {
            $answer
        }
        fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, $err> {
            $answer
        }
        fn serialize_tuple_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleStruct, $err> {
            $answer
        }
        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleVariant, $err> {
            $answer
        }
        fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, $err> {
            $answer
        }
        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStructVariant, $err> {
            $answer
        }
    };
}

impl Serializer for Flat {
    type Ok = ();
    type Error = Nested;
    type SerializeSeq = Impossible<(), Nested>;
    type SerializeTuple = Impossible<(), Nested>;
    type SerializeTupleStruct = Impossible<(), Nested>;
    type SerializeTupleVariant = Impossible<(), Nested>;
    type SerializeMap = Impossible<(), Nested>;
    type SerializeStruct = Impossible<(), Nested>;
    type SerializeStructVariant = Impossible<(), Nested>;

    scalars!((), Nested, Ok(()));
    others!((), Nested, Err(Nested));

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Nested> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Nested> {
        value.serialize(self)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Nested> {
        Err(Nested)
    }
}

impl Serializer for ReadKeys {
    type Ok = Keys;
    type Error = Nested;
    type SerializeSeq = Impossible<Keys, Nested>;
    type SerializeTuple = Impossible<Keys, Nested>;
    type SerializeTupleStruct = Impossible<Keys, Nested>;
    type SerializeTupleVariant = Impossible<Keys, Nested>;
    type SerializeMap = Impossible<Keys, Nested>;
    type SerializeStruct = Keys;
    type SerializeStructVariant = Impossible<Keys, Nested>;

    scalars!(Keys, Nested, Err(Nested));
    others!(Keys, Nested, Err(Nested));

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Keys, Nested> {
        Err(Nested)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Keys, Nested> {
        value.serialize(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Keys, Nested> {
        Ok(Keys([""; MAX_FIELDS + 1], 0))
    }
}

/// Writes the field `want` of a struct (read by [`ReadKeys`] before) into `map`.
struct Pick<'m, M> {
    map: &'m mut M,
    want: &'static str,
}

impl<M: SerializeMap> ser::SerializeStruct for Pick<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        if key == self.want {
            self.map.serialize_entry(key, value)?;
        }
        Ok(())
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

/// Only a struct (or a newtype of one) reaches [`Pick`]: [`ReadKeys`] said so.
fn not_a_struct<E: ser::Error>() -> E {
    E::custom("the payload changed shape between two passes")
}

impl<'m, M: SerializeMap> Serializer for Pick<'m, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, M::Error> {
        Ok(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        value.serialize(self)
    }
    scalars!((), M::Error, Err(not_a_struct()));
    others!((), M::Error, Err(not_a_struct()));

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), M::Error> {
        Err(not_a_struct())
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
