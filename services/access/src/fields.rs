//! Outward types: every record that leaves the server is one of these, each with a fixed list of
//! fields, so that masking can be decided per field and applied in one place ([`crate::mask`]).

/// A set of fields of one outward type, by their position in [`Outward::FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FieldSet(pub(crate) u64);

impl FieldSet {
    pub const EMPTY: FieldSet = FieldSet(0);

    pub fn contains(self, index: usize) -> bool {
        index < 64 && self.0 & (1 << index) != 0
    }

    pub(crate) fn with(self, index: usize) -> FieldSet {
        if index < 64 {
            FieldSet(self.0 | (1 << index))
        } else {
            self
        }
    }

    pub fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }
}

/// A value as a page or a CSV cell shows it: `None` when there is nothing to show.
pub trait Shown {
    fn shown(&self) -> Option<String>;
}

impl Shown for String {
    fn shown(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.clone())
    }
}

impl Shown for uuid::Uuid {
    fn shown(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl Shown for i64 {
    fn shown(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl Shown for bool {
    fn shown(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// A structured value (what a right carried out did): its JSON text.
impl Shown for serde_json::Value {
    fn shown(&self) -> Option<String> {
        (!self.is_null()).then(|| self.to_string())
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> Option<String> {
        self.as_ref().and_then(Shown::shown)
    }
}

impl Shown for Vec<String> {
    fn shown(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.join(", "))
    }
}

/// A record type that leaves the server. Implemented by [`outward!`](crate::outward).
pub trait Outward {
    /// The type's name in the field grants (`person` in `person.phone`).
    const TYPE: &'static str;
    /// The fields, in output order.
    const FIELDS: &'static [&'static str];

    /// Serialises the fields in `visible`, in order, as entries of `map`.
    fn serialize_visible<M: serde::ser::SerializeMap>(
        &self,
        visible: FieldSet,
        map: &mut M,
    ) -> Result<(), M::Error>;

    /// Every field's value as shown on a page or in a CSV cell, in order.
    fn shown(&self) -> Vec<Option<String>>;

    /// The position of a field in [`Outward::FIELDS`].
    fn index_of(field: &str) -> Option<usize> {
        Self::FIELDS.iter().position(|f| *f == field)
    }
}

/// Declares an outward type: a plain struct plus its [`Outward`] implementation. Fields hold
/// output-ready values (strings for dates), so that JSON, pages and CSV show the same thing.
#[macro_export]
macro_rules! outward {
    (
        $(#[$meta:meta])*
        pub struct $name:ident as $type_name:literal {
            $( $(#[$fmeta:meta])* pub $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $fty ),*
        }

        impl $crate::fields::Outward for $name {
            const TYPE: &'static str = $type_name;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn serialize_visible<M: ::serde::ser::SerializeMap>(
                &self,
                visible: $crate::fields::FieldSet,
                map: &mut M,
            ) -> ::core::result::Result<(), M::Error> {
                let mut index = 0usize;
                $(
                    if visible.contains(index) {
                        map.serialize_entry(stringify!($field), &self.$field)?;
                    }
                    index += 1;
                )*
                let _ = index;
                Ok(())
            }

            fn shown(&self) -> ::std::vec::Vec<::core::option::Option<::std::string::String>> {
                ::std::vec![$( $crate::fields::Shown::shown(&self.$field) ),*]
            }
        }
    };
}
