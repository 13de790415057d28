//! JSON text into a `serde_json::Value` in one pass, refusing an object that names a key twice.
//!
//! serde_json keeps the last of two equal keys, so `{"surname":"A","surname":"B"}` reads as
//! `B`: a proxy, a log or a signature check that reads the first would see another request than
//! the one acted on. The visitor below is serde_json's own `Value` visitor plus one map lookup
//! per key (the same approach as cedar-policy's `JsonValueWithNoDuplicateKeys`); the key's path
//! is built only when a duplicate is found, so a well-formed body costs what it did before.
//! serde_json's nesting limit (128) still applies: the deserializer enforces it.

use std::cell::RefCell;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body could not be read as one JSON value.
#[derive(Debug)]
pub enum BodyError {
    /// The key at this path (`surname`, `address.street`, `items[2].name`) appears twice.
    Duplicate(String),
    /// Not JSON at all.
    Syntax(serde_json::Error),
}

/// Parses one JSON value (and nothing after it), refusing repeated keys at any depth.
pub fn parse(bytes: &[u8]) -> Result<Value, BodyError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Seed {
        at: At::Root,
        duplicate: &duplicate,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(BodyError::Duplicate(path)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(BodyError::Syntax(e)),
    }
}

/// Where a value sits in the body: a chain of borrowed steps, turned into text only on error.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn path(&self) -> String {
        match self {
            At::Root => String::new(),
            At::Key(parent, key) => match parent.path() {
                p if p.is_empty() => (*key).to_owned(),
                p => format!("{p}.{key}"),
            },
            At::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }
}

struct Seed<'a> {
    at: At<'a>,
    /// Set to the repeated key's path; the error serde carries up has no room for it.
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            let seed = Seed {
                at: At::Index(&self.at, items.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(At::Key(&self.at, &key).path());
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            let seed = Seed {
                at: At::Key(&self.at, &key),
                duplicate: self.duplicate,
            };
            let value = map.next_value_seed(seed)?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<String> {
        match parse(text.as_bytes()) {
            Err(BodyError::Duplicate(p)) => Some(p),
            _ => None,
        }
    }

    #[test]
    fn a_repeated_key_is_named_at_any_depth() {
        assert_eq!(
            duplicate(r#"{"surname":"A","surname":"B"}"#).as_deref(),
            Some("surname")
        );
        assert_eq!(
            duplicate(r#"{"a":{"b":1,"c":{"d":1,"d":2}}}"#).as_deref(),
            Some("a.c.d")
        );
        assert_eq!(
            duplicate(r#"{"items":[{"x":1},{"x":1,"x":1}]}"#).as_deref(),
            Some("items[1].x")
        );
        assert_eq!(duplicate(r#"[{"k":1,"k":1}]"#).as_deref(), Some("[0].k"));
    }

    #[test]
    fn the_same_value_as_serde_json_otherwise() {
        for text in [
            r#"{"a":1,"b":[true,null,-2,3.5,"x"],"c":{"a":1},"d":18446744073709551615}"#,
            "[]",
            "\"just a string\"",
            "  {\"x\" : {\"y\": [ ] } }  ",
        ] {
            let ours = parse(text.as_bytes()).ok();
            let theirs: Option<Value> = serde_json::from_str(text).ok();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn not_json_and_trailing_text_are_syntax_errors() {
        for text in ["", "{", "{\"a\":1} x", "\u{0}", "{\"a\":1,}"] {
            assert!(
                matches!(parse(text.as_bytes()), Err(BodyError::Syntax(_))),
                "{text:?}"
            );
        }
        // Deep nesting stops at serde_json's limit instead of exhausting the stack.
        let deep = "[".repeat(100_000);
        assert!(matches!(parse(deep.as_bytes()), Err(BodyError::Syntax(_))));
    }
}
