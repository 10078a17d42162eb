//! The shape of the static type table in [`super::table`].
//!
//! Only what stout's parser and protobuf's `IsInitialized` look at is kept:
//! field names, labels, value kinds, oneof membership, and two orderings
//! (field-number order for walking set sub-messages, declaration order for
//! listing missing required fields). Field numbers, defaults and options play
//! no part in accepting or rejecting JSON, so they are left out.

use std::fmt;

/// A protobuf message type.
pub(crate) struct Message {
    /// The full proto name (`mesos.Value.Scalar`), for diagnostics only.
    pub name: &'static str,
    /// Every field, sorted by field number: the order in which protobuf's
    /// `Reflection::ListFields` (and so `FindInitializationErrors`) visits
    /// set sub-messages.
    pub fields: &'static [Field],
    /// Indices into `fields` of the `required` fields, in declaration order:
    /// the order in which `FindInitializationErrors` reports missing ones.
    pub required: &'static [u8],
    /// Indices into `fields` sorted by name (bytewise), so a JSON key finds
    /// its field by binary search, like `FindFieldByName`.
    pub by_name: &'static [u8],
}

impl Message {
    /// The field named exactly `name` (case-sensitive), as stout's
    /// `Descriptor::FindFieldByName`; `None` means the key is ignored.
    pub fn find(&self, name: &str) -> Option<&'static Field> {
        let fields = self.fields;
        self.by_name
            .binary_search_by(|&i| {
                fields
                    .get(usize::from(i))
                    .map_or("", |f| f.name)
                    .as_bytes()
                    .cmp(name.as_bytes())
            })
            .ok()
            .and_then(|pos| self.by_name.get(pos))
            .and_then(|&i| fields.get(usize::from(i)))
    }

    /// The required fields, in declaration order.
    pub fn required_fields(&self) -> impl Iterator<Item = &'static Field> {
        let fields = self.fields;
        self.required
            .iter()
            .filter_map(move |&i| fields.get(usize::from(i)))
    }
}

// Message types refer to each other (and to themselves: `ContainerID.parent`),
// so a derived Debug would recurse forever; print the name only.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Message({})", self.name)
    }
}

/// A field of a message type.
#[derive(Debug)]
pub(crate) struct Field {
    /// The proto spelling, which is also the JSON key.
    pub name: &'static str,
    pub label: Label,
    /// The element kind; for a map, the value kind.
    pub kind: Kind,
    /// The index of the `oneof` this field belongs to, if any: setting one
    /// member clears the others, which changes what `IsInitialized` sees.
    pub oneof: Option<u8>,
}

/// Builds a field outside any oneof (keeps the generated table short).
pub(crate) const fn field(name: &'static str, label: Label, kind: Kind) -> Field {
    Field {
        name,
        label,
        kind,
        oneof: None,
    }
}

/// Builds a member of the message's `oneof` number `group`.
pub(crate) const fn oneof_field(name: &'static str, label: Label, kind: Kind, group: u8) -> Field {
    Field {
        name,
        label,
        kind,
        oneof: Some(group),
    }
}

/// A field's cardinality, as stout's parser sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Label {
    Optional,
    Required,
    Repeated,
    /// `map<K, V>`: a repeated entry message on the wire; in JSON an object
    /// whose keys are parsed as the key kind and values as the value kind.
    Map(Kind),
}

impl Label {
    /// Whether the field is repeated (maps are), i.e. accepts JSON arrays.
    pub fn is_repeated(self) -> bool {
        matches!(self, Label::Repeated | Label::Map(_))
    }
}

/// The kind of a field's values.
///
/// Integer kinds are kept apart although stout treats them alike (any JSON
/// number is `static_cast`), so the table reads like the .proto files. No
/// type in the table has a `float` field; stout treats `float` exactly like
/// `double`, so a regenerated table would need a `Float` kind handled as
/// `Double` if one appeared.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Double,
    Int32,
    Int64,
    UInt32,
    UInt64,
    Bool,
    String,
    Bytes,
    Enum(&'static Enum),
    Message(&'static Message),
}

impl Kind {
    /// Whether a JSON number is accepted as is.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Kind::Double | Kind::Int32 | Kind::Int64 | Kind::UInt32 | Kind::UInt64
        )
    }
}

/// A protobuf enum type: only the value names matter, since stout maps enum
/// names (never numbers) to values.
pub(crate) struct Enum {
    /// The full proto name, for diagnostics only.
    pub name: &'static str,
    pub values: &'static [&'static str],
}

impl Enum {
    /// Whether `name` is one of the value names (`FindValueByName`).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains(&name)
    }
}

// Like `Message`, print the name only: it is what identifies the type.
impl fmt::Debug for Enum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Enum({})", self.name)
    }
}
