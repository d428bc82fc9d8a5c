//! The linked-descriptor check, against a descriptor set embedded the way
//! generated code embeds it.
#![cfg(feature = "reflect")]

use std::sync::OnceLock;

use ampy_bus::linked::{canonical_hash, message, pool, prost_reflect::DescriptorPool, LinkError, Linked};
use ampy_bus::{Schema, SchemaError};
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// The canonical hash of `test.bars.v1.Bar` below, as a lock file would
/// hold it. Pinned: if the canonical form changes, this test says so.
const LOCKED: &str = "sha256:b8c770081d401564d17260ad0a5ab44df76bc309cd68b4b59553c2ae2c2e5355";

fn field(name: &str, number: i32, ty: Type) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(ty as i32),
        json_name: Some(name.into()),
        ..Default::default()
    }
}

/// `test/bars/v1/bar.proto`, built by hand: what `protoc -o` would embed.
fn fds(extra_field: bool) -> &'static [u8] {
    let mut fields = vec![
        field("symbol", 1, Type::String),
        field("mic", 2, Type::String),
        field("data", 3, Type::Bytes),
        field("news_id", 4, Type::String),
    ];
    if extra_field {
        fields.push(field("venue", 5, Type::String));
    }
    let file = FileDescriptorProto {
        name: Some("test/bars/v1/bar.proto".into()),
        package: Some("test.bars.v1".into()),
        syntax: Some("proto3".into()),
        message_type: vec![DescriptorProto { name: Some("Bar".into()), field: fields, ..Default::default() }],
        ..Default::default()
    };
    Box::leak(FileDescriptorSet { file: vec![file] }.encode_to_vec().into_boxed_slice())
}

fn bar_fds() -> &'static [u8] {
    static BYTES: OnceLock<&'static [u8]> = OnceLock::new();
    BYTES.get_or_init(|| fds(false))
}

/// The payload as generated code would declare it.
struct LinkedBar;
impl Schema for LinkedBar {
    const FQDN: &'static str = "test.bars.v1.Bar";
    const SCHEMA_VERSION: &'static str = "1.2.0";
    const SCHEMA_HASH: Option<&'static str> = Some(LOCKED);
}
impl Linked for LinkedBar {
    fn descriptor() -> Result<ampy_bus::linked::prost_reflect::MessageDescriptor, LinkError> {
        static POOL: OnceLock<DescriptorPool> = OnceLock::new();
        message(&POOL, bar_fds(), Self::FQDN)
    }
}

/// Generated against a newer proto (an added field) than the lock.
struct DriftedBar;
impl Schema for DriftedBar {
    const FQDN: &'static str = "test.bars.v1.Bar";
    const SCHEMA_VERSION: &'static str = "1.2.0";
    const SCHEMA_HASH: Option<&'static str> = Some(LOCKED);
}
impl Linked for DriftedBar {
    fn descriptor() -> Result<ampy_bus::linked::prost_reflect::MessageDescriptor, LinkError> {
        static POOL: OnceLock<DescriptorPool> = OnceLock::new();
        static BYTES: OnceLock<&'static [u8]> = OnceLock::new();
        message(&POOL, BYTES.get_or_init(|| fds(true)), Self::FQDN)
    }
}

#[test]
fn the_linked_descriptor_hashes_to_the_locked_value() {
    let desc = LinkedBar::descriptor().unwrap();
    assert_eq!(desc.full_name(), "test.bars.v1.Bar");
    assert_eq!(canonical_hash(&desc), LOCKED);
    assert_eq!(LinkedBar::verify_linked(), Ok(()));
    // The pool is decoded once and shared.
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    let a = pool(&POOL, bar_fds()).unwrap() as *const _;
    let b = pool(&POOL, bar_fds()).unwrap() as *const _;
    assert_eq!(a, b);
}

#[test]
fn a_drifted_descriptor_is_a_hash_mismatch() {
    let recomputed = canonical_hash(&DriftedBar::descriptor().unwrap());
    assert_ne!(recomputed, LOCKED);
    let err = DriftedBar::verify_linked().unwrap_err();
    assert_eq!(err, LinkError::Schema(SchemaError::SchemaHashMismatch { expected: LOCKED, got: recomputed }));
    assert_eq!(err.kind(), "hash_mismatch");
    assert!(err.to_string().contains("regenerate"), "{err}");
}

#[test]
fn bad_embedded_bytes_are_errors_not_panics() {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    let err = pool(&POOL, b"\x0a\xff\xff\xff").unwrap_err();
    assert_eq!(err.kind(), "bad_descriptor_set");
    assert!(POOL.get().is_none(), "a failure is not cached");
    static POOL2: OnceLock<DescriptorPool> = OnceLock::new();
    let err = message(&POOL2, bar_fds(), "test.bars.v1.Nope").unwrap_err();
    assert_eq!(err, LinkError::MissingMessage { fqdn: "test.bars.v1.Nope" });
    assert_eq!(err.kind(), "unknown_fqdn");
}

#[test]
fn a_type_without_a_locked_hash_has_nothing_to_check() {
    struct Unlocked;
    impl Schema for Unlocked {
        const FQDN: &'static str = "test.bars.v1.Bar";
        const SCHEMA_VERSION: &'static str = "1.0.0";
        const SCHEMA_HASH: Option<&'static str> = None;
    }
    impl Linked for Unlocked {
        fn descriptor() -> Result<ampy_bus::linked::prost_reflect::MessageDescriptor, LinkError> {
            Err(LinkError::MissingMessage { fqdn: "never called" })
        }
    }
    assert_eq!(Unlocked::verify_linked(), Ok(()));
}
