//! Invariance and sensitivity tests for the canonical schema hash
//! (spec: docs/schema-hash.md).
//!
//! Invariance cases pin down what must NOT move the hash (so cosmetic edits
//! never break producers/consumers); sensitivity cases pin down what MUST
//! move it, and check via `diff` the exact canonical line that changed.

use std::collections::BTreeMap;

use ampygen::canonical::{canonical_form, diff, hash_canonical, schema_hash, Change, ChangeKind, Item, VERSION_LINE};
use prost_reflect::{DescriptorPool, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Serves `.proto` sources from memory so each case is self-contained.
struct MemResolver(BTreeMap<String, String>);

impl FileResolver for MemResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(source) => File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

fn pool(files: &[(&str, &str)]) -> DescriptorPool {
    let sources = files.iter().map(|(n, s)| ((*n).to_owned(), (*s).to_owned())).collect();
    let mut chain = ChainFileResolver::new();
    chain.add(MemResolver(sources));
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    for (name, _) in files {
        if let Err(e) = compiler.open_file(name) {
            panic!("failed to compile {name}: {e:?}");
        }
    }
    compiler.descriptor_pool()
}

fn message(files: &[(&str, &str)], name: &str) -> MessageDescriptor {
    pool(files).get_message_by_name(name).unwrap_or_else(|| panic!("message {name} not found"))
}

fn form(files: &[(&str, &str)], name: &str) -> String {
    canonical_form(&message(files, name))
}

fn hash(files: &[(&str, &str)], name: &str) -> String {
    schema_hash(&message(files, name))
}

/// Replaces exactly one occurrence, so a typo in a case cannot turn a
/// sensitivity test into a no-op.
fn edit(base: &str, from: &str, to: &str) -> String {
    assert_eq!(base.matches(from).count(), 1, "edit anchor must occur exactly once: {from:?}");
    base.replacen(from, to, 1)
}

const MAIN: &str = "ampy/test/v1/bar.proto";
const ROOT: &str = "ampy.test.v1.Bar";

const BASE: &str = r#"syntax = "proto3";

package ampy.test.v1;

import "google/protobuf/timestamp.proto";

message Bar {
  string symbol = 1;
  int64 volume = 2;
  Side side = 3;
  google.protobuf.Timestamp ts = 4;
  map<string, Leg> legs = 5;
  oneof price {
    double px = 6;
    string px_text = 7;
  }
  optional int32 count = 8;
  repeated int32 sizes = 9;
  Detail detail = 10;
}

message Leg {
  string venue = 1;
  Side side = 2;
}

message Detail {
  string note = 1;
}

enum Side {
  SIDE_UNSPECIFIED = 0;
  BUY = 1;
  SELL = 2;
}

message Unrelated {
  string x = 1;
}
"#;

fn base_hash() -> String {
    hash(&[(MAIN, BASE)], ROOT)
}

fn assert_same(variant: &[(&str, &str)]) {
    let base = form(&[(MAIN, BASE)], ROOT);
    let other = form(variant, ROOT);
    assert_eq!(base, other, "canonical form must not change");
    assert_eq!(base_hash(), hash(variant, ROOT));
}

fn assert_same_src(variant: &str) {
    assert_same(&[(MAIN, variant)]);
}

/// Asserts the hash moved and returns the structural diff base -> variant.
fn changes_files(base: &[(&str, &str)], variant: &[(&str, &str)], root: &str) -> Vec<Change> {
    let (a, b) = (form(base, root), form(variant, root));
    assert_ne!(hash(base, root), hash(variant, root), "hash must change; form:\n{b}");
    let changes = diff(&a, &b);
    assert!(!changes.is_empty());
    changes
}

fn changes(variant: &str) -> Vec<Change> {
    changes_files(&[(MAIN, BASE)], &[(MAIN, variant)], ROOT)
}

fn field(kind: ChangeKind, message: &str, number: u32, name: &str, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        kind,
        item: Item::Field { message: message.to_owned(), number, name: name.to_owned() },
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    }
}

fn bar_field(kind: ChangeKind, number: u32, name: &str, old: Option<&str>, new: Option<&str>) -> Change {
    field(kind, ROOT, number, name, old, new)
}

/// The edit changed exactly one field of the root message, from `old` to `new`.
fn assert_field_changed(changes: &[Change], number: u32, name: &str, old: &str, new: &str) {
    assert_eq!(changes, [bar_field(Changed, number, name, Some(old), Some(new))]);
}

fn value(kind: ChangeKind, number: i32, name: &str, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        kind,
        item: Item::Value { enum_name: "ampy.test.v1.Side".to_owned(), number, name: name.to_owned() },
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    }
}

use ChangeKind::{Added, Changed, Removed};

// ---------------------------------------------------------------------------
// The base form itself
// ---------------------------------------------------------------------------

#[test]
fn base_canonical_form_is_exact() {
    let expected = r#"ampy-canonical-schema v1
root ampy.test.v1.Bar
message ampy.test.v1.Bar proto3
  field 1 symbol optional implicit string json="symbol"
  field 2 volume optional implicit int64 json="volume"
  field 3 side optional implicit enum(ampy.test.v1.Side) json="side"
  field 4 ts optional explicit message(google.protobuf.Timestamp) json="ts"
  field 5 legs repeated implicit map(string,message(ampy.test.v1.Leg)) json="legs"
  field 6 px optional explicit double json="px" oneof=price
  field 7 px_text optional explicit string json="pxText" oneof=price
  field 8 count optional explicit int32 json="count"
  field 9 sizes repeated implicit int32 json="sizes" packed
  field 10 detail optional explicit message(ampy.test.v1.Detail) json="detail"
message ampy.test.v1.Detail proto3
  field 1 note optional implicit string json="note"
message ampy.test.v1.Leg proto3
  field 1 venue optional implicit string json="venue"
  field 2 side optional implicit enum(ampy.test.v1.Side) json="side"
enum ampy.test.v1.Side proto3
  value 0 SIDE_UNSPECIFIED
  value 1 BUY
  value 2 SELL
message google.protobuf.Timestamp proto3
  field 1 seconds optional implicit int64 json="seconds"
  field 2 nanos optional implicit int32 json="nanos"
"#;
    let got = form(&[(MAIN, BASE)], ROOT);
    assert_eq!(got, expected);
    assert!(got.starts_with(VERSION_LINE));
    assert!(got.is_ascii());
    let h = base_hash();
    assert_eq!(h, hash_canonical(expected));
    assert_eq!(h.len(), "sha256:".len() + 64);
    assert!(h.starts_with("sha256:"));
    assert!(h[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn hash_canonical_matches_known_sha256() {
    // sha256("") — guards the hex encoding and prefix.
    assert_eq!(hash_canonical(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---------------------------------------------------------------------------
// INVARIANCE: the hash must not move
// ---------------------------------------------------------------------------

#[test]
fn invariant_comment_edits() {
    let v = edit(BASE, "message Bar {", "// Leading comment.\n/* block\n comment */\nmessage Bar { // trailing");
    let v = edit(&v, "  int64 volume = 2;", "  // volume in shares\n  int64 volume = 2; // trailing");
    let v = edit(&v, "  BUY = 1;", "  BUY = 1; /* buy side */");
    assert_same_src(&v);
}

#[test]
fn invariant_whitespace_and_formatting() {
    let v = BASE
        .replace("  ", "\t\t")
        .replace(" = ", "=")
        .replace("{\n", "{\n\n")
        .replace("map<string, Leg>", "map< string ,Leg >");
    assert_same_src(&v);
}

#[test]
fn invariant_field_declaration_order() {
    let v = edit(BASE, "  int64 volume = 2;\n", "");
    let v = edit(&v, "  Detail detail = 10;\n", "  Detail detail = 10;\n  int64 volume = 2;\n");
    let v = edit(&v, "  string symbol = 1;\n", "");
    let v = edit(&v, "  optional int32 count = 8;\n", "  optional int32 count = 8;\n  string symbol = 1;\n");
    assert_same_src(&v);
}

#[test]
fn invariant_message_and_enum_declaration_order() {
    let v = format!(
        r#"syntax = "proto3";
package ampy.test.v1;
import "google/protobuf/timestamp.proto";
message Unrelated {{ string x = 1; }}
enum Side {{ SIDE_UNSPECIFIED = 0; BUY = 1; SELL = 2; }}
message Detail {{ string note = 1; }}
{bar}
message Leg {{ string venue = 1; Side side = 2; }}
"#,
        bar = &BASE[BASE.find("message Bar {").unwrap()..BASE.find("message Leg {").unwrap()]
    );
    assert_same_src(&v);
}

#[test]
fn invariant_split_into_two_files_with_imports() {
    let common = r#"syntax = "proto3";
package ampy.test.v1;
message Leg { string venue = 1; Side side = 2; }
message Detail { string note = 1; }
enum Side { SIDE_UNSPECIFIED = 0; BUY = 1; SELL = 2; }
"#;
    let main = format!(
        "syntax = \"proto3\";\npackage ampy.test.v1;\nimport \"google/protobuf/timestamp.proto\";\nimport \"ampy/test/v1/common.proto\";\n{}",
        &BASE[BASE.find("message Bar {").unwrap()..BASE.find("message Leg {").unwrap()]
    );
    assert_same(&[("ampy/test/v1/common.proto", common), (MAIN, &main)]);
}

#[test]
fn invariant_file_renamed_and_package_level_options() {
    let v = edit(
        BASE,
        "package ampy.test.v1;\n",
        r#"package ampy.test.v1;

option go_package = "example.invalid/gen/ampy/test/v1;testv1";
option java_package = "com.example.ampy.test.v1";
option java_multiple_files = true;
option java_outer_classname = "BarProto";
option optimize_for = SPEED;
option csharp_namespace = "Ampy.Test.V1";
option objc_class_prefix = "ATX";
option cc_enable_arenas = true;
"#,
    );
    assert_same(&[("somewhere/else/renamed_bar.proto", &v)]);
}

#[test]
fn invariant_reserved_ranges_and_names() {
    let v = edit(
        BASE,
        "  Detail detail = 10;\n",
        "  Detail detail = 10;\n  reserved 11, 20 to 30;\n  reserved \"old_field\", \"legacy\";\n",
    );
    let v = edit(&v, "  SELL = 2;\n", "  SELL = 2;\n  reserved 3 to 5;\n  reserved \"SHORT\";\n");
    assert_same_src(&v);
}

#[test]
fn invariant_deprecated_options() {
    let v = edit(BASE, "  int64 volume = 2;", "  int64 volume = 2 [deprecated = true];");
    let v = edit(&v, "message Bar {\n", "message Bar {\n  option deprecated = true;\n");
    let v = edit(&v, "  SELL = 2;", "  SELL = 2 [deprecated = true];");
    let v = edit(&v, "enum Side {\n", "enum Side {\n  option deprecated = true;\n");
    assert_same_src(&v);
}

#[test]
fn invariant_unrelated_message_edited() {
    let v = edit(
        BASE,
        "message Unrelated {\n  string x = 1;\n}",
        "message Unrelated {\n  int64 x = 1;\n  repeated Side sides = 2;\n}\n\nmessage AlsoUnrelated { Bar bar = 1; }",
    );
    assert_same_src(&v);
    // ...while Unrelated's own hash does move.
    assert_ne!(hash(&[(MAIN, BASE)], "ampy.test.v1.Unrelated"), hash(&[(MAIN, &v)], "ampy.test.v1.Unrelated"));
}

#[test]
fn invariant_custom_json_name_equal_to_default() {
    let v = edit(BASE, "  string px_text = 7;", "    string px_text = 7 [json_name = \"pxText\"];");
    let v = edit(&v, "  int64 volume = 2;", "  int64 volume = 2 [json_name = \"volume\"];");
    assert_same_src(&v);
}

#[test]
fn invariant_unused_import_added() {
    let v = edit(
        BASE,
        "import \"google/protobuf/timestamp.proto\";\n",
        "import \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/duration.proto\";\nimport \"google/protobuf/struct.proto\";\n",
    );
    assert_same_src(&v);
}

#[test]
fn invariant_explicit_packed_true_in_proto3() {
    // proto3 packs repeated scalars by default: spelling it out is cosmetic.
    let v = edit(BASE, "  repeated int32 sizes = 9;", "  repeated int32 sizes = 9 [packed = true];");
    assert_same_src(&v);
}

#[test]
fn invariant_unreferenced_nested_type_added() {
    let v = edit(
        BASE,
        "message Leg {\n",
        "message Leg {\n  message Audit { string who = 1; }\n  enum Kind { KIND_UNSPECIFIED = 0; }\n",
    );
    assert_same_src(&v);
}

#[test]
fn invariant_fully_qualified_type_references() {
    let v = edit(BASE, "  Side side = 3;", "  .ampy.test.v1.Side side = 3;");
    let v = edit(&v, "map<string, Leg>", "map<string, ampy.test.v1.Leg>");
    assert_same_src(&v);
}

// ---------------------------------------------------------------------------
// SENSITIVITY: the hash must move, and diff names the exact line
// ---------------------------------------------------------------------------

#[test]
fn sensitive_scalar_type_change() {
    let c = changes(&edit(BASE, "int64 volume = 2;", "int32 volume = 2;"));
    assert_field_changed(
        &c,
        2,
        "volume",
        r#"  field 2 volume optional implicit int64 json="volume""#,
        r#"  field 2 volume optional implicit int32 json="volume""#,
    );
    assert_eq!(
        c[0].to_string(),
        r#"field ampy.test.v1.Bar.volume (#2) changed: `optional implicit int64 json="volume"` -> `optional implicit int32 json="volume"`"#
    );
}

#[test]
fn sensitive_field_renumbered() {
    let c = changes(&edit(BASE, "int64 volume = 2;", "int64 volume = 12;"));
    assert_eq!(
        c,
        vec![
            bar_field(Removed, 2, "volume", Some(r#"  field 2 volume optional implicit int64 json="volume""#), None),
            bar_field(Added, 12, "volume", None, Some(r#"  field 12 volume optional implicit int64 json="volume""#)),
        ]
    );
}

#[test]
fn sensitive_field_renamed() {
    let c = changes(&edit(BASE, "int64 volume = 2;", "int64 qty = 2;"));
    assert_field_changed(
        &c,
        2,
        "qty",
        r#"  field 2 volume optional implicit int64 json="volume""#,
        r#"  field 2 qty optional implicit int64 json="qty""#,
    );
    assert_eq!(
        c[0].to_string(),
        r#"field ampy.test.v1.Bar.qty (#2) changed: `field 2 volume optional implicit int64 json="volume"` -> `field 2 qty optional implicit int64 json="qty"`"#
    );
}

#[test]
fn sensitive_field_added() {
    let c = changes(&edit(BASE, "  Detail detail = 10;\n", "  Detail detail = 10;\n  bool halted = 11;\n"));
    assert_eq!(
        c,
        vec![bar_field(Added, 11, "halted", None, Some(r#"  field 11 halted optional implicit bool json="halted""#))]
    );
    assert_eq!(
        c[0].to_string(),
        r#"field ampy.test.v1.Bar.halted (#11) added: `optional implicit bool json="halted"`"#
    );
}

#[test]
fn sensitive_field_removed() {
    let c = changes(&edit(BASE, "  int64 volume = 2;\n", ""));
    assert_eq!(
        c,
        vec![bar_field(Removed, 2, "volume", Some(r#"  field 2 volume optional implicit int64 json="volume""#), None)]
    );
}

#[test]
fn sensitive_enum_value_added() {
    let c = changes(&edit(BASE, "  SELL = 2;\n", "  SELL = 2;\n  SHORT = 3;\n"));
    assert_eq!(c, vec![value(Added, 3, "SHORT", None, Some("  value 3 SHORT"))]);
    assert_eq!(c[0].to_string(), "value ampy.test.v1.Side.SHORT (=3) added: `value 3 SHORT`");
}

#[test]
fn sensitive_enum_value_removed() {
    let c = changes(&edit(BASE, "  SELL = 2;\n", ""));
    assert_eq!(c, vec![value(Removed, 2, "SELL", Some("  value 2 SELL"), None)]);
}

#[test]
fn sensitive_enum_value_renumbered() {
    let c = changes(&edit(BASE, "  SELL = 2;", "  SELL = 3;"));
    assert_eq!(
        c,
        vec![
            value(Removed, 2, "SELL", Some("  value 2 SELL"), None),
            value(Added, 3, "SELL", None, Some("  value 3 SELL")),
        ]
    );
}

#[test]
fn sensitive_enum_value_renamed() {
    let c = changes(&edit(BASE, "  SELL = 2;", "  ASK = 2;"));
    assert_eq!(c, vec![value(Changed, 2, "ASK", Some("  value 2 SELL"), Some("  value 2 ASK"))]);
    assert_eq!(c[0].to_string(), "value ampy.test.v1.Side.ASK (=2) changed: `value 2 SELL` -> `value 2 ASK`");
}

#[test]
fn sensitive_enum_alias_added() {
    let v = edit(BASE, "enum Side {\n", "enum Side {\n  option allow_alias = true;\n");
    let c = changes(&edit(&v, "  SELL = 2;\n", "  SELL = 2;\n  ASK = 2;\n"));
    let root = |v: &str| Some(format!("ampy-canonical-schema {v}\nroot ampy.test.v1.Bar"));
    let preamble = Change { kind: Changed, item: Item::Root, old: root("v1"), new: root("v2") };
    assert_eq!(c, vec![preamble.clone(), value(Added, 2, "ASK", None, Some("  value 2 ASK alias"))]);
    // Declared first, the alias becomes the name JSON writers print: the
    // form (v2) says so, and the old name is marked instead.
    let c = changes(&edit(&v, "  SELL = 2;\n", "  ASK = 2;\n  SELL = 2;\n"));
    assert_eq!(
        c,
        vec![
            preamble,
            value(Changed, 2, "SELL", Some("  value 2 SELL"), Some("  value 2 SELL alias")),
            value(Added, 2, "ASK", None, Some("  value 2 ASK")),
        ]
    );
}

/// Forms without aliases keep the v1 version line, so their hashes did not
/// move when v2 (which records primary names) was introduced.
#[test]
fn forms_without_aliases_stay_v1() {
    let m = message(&[(MAIN, BASE)], ROOT);
    assert!(canonical_form(&m).starts_with("ampy-canonical-schema v1\n"));
    let v = edit(BASE, "enum Side {\n", "enum Side {\n  option allow_alias = true;\n");
    let m = message(&[(MAIN, &v)], ROOT);
    assert!(canonical_form(&m).starts_with("ampy-canonical-schema v1\n"), "allow_alias alone adds no alias");
}

#[test]
fn sensitive_field_moved_into_oneof() {
    let c = changes(&edit(BASE, "  string symbol = 1;", "  oneof ident {\n    string symbol = 1;\n  }"));
    assert_field_changed(
        &c,
        1,
        "symbol",
        r#"  field 1 symbol optional implicit string json="symbol""#,
        r#"  field 1 symbol optional explicit string json="symbol" oneof=ident"#,
    );
}

#[test]
fn sensitive_oneof_renamed() {
    let c = changes(&edit(BASE, "oneof price {", "oneof quote {"));
    assert_eq!(
        c,
        vec![
            bar_field(
                Changed,
                6,
                "px",
                Some(r#"  field 6 px optional explicit double json="px" oneof=price"#),
                Some(r#"  field 6 px optional explicit double json="px" oneof=quote"#),
            ),
            bar_field(
                Changed,
                7,
                "px_text",
                Some(r#"  field 7 px_text optional explicit string json="pxText" oneof=price"#),
                Some(r#"  field 7 px_text optional explicit string json="pxText" oneof=quote"#),
            ),
        ]
    );
}

#[test]
fn sensitive_proto3_optional_added() {
    let c = changes(&edit(BASE, "  int64 volume = 2;", "  optional int64 volume = 2;"));
    assert_field_changed(
        &c,
        2,
        "volume",
        r#"  field 2 volume optional implicit int64 json="volume""#,
        r#"  field 2 volume optional explicit int64 json="volume""#,
    );
}

#[test]
fn sensitive_repeated_to_singular() {
    let c = changes(&edit(BASE, "  repeated int32 sizes = 9;", "  int32 sizes = 9;"));
    assert_field_changed(
        &c,
        9,
        "sizes",
        r#"  field 9 sizes repeated implicit int32 json="sizes" packed"#,
        r#"  field 9 sizes optional implicit int32 json="sizes""#,
    );
}

#[test]
fn sensitive_singular_to_repeated() {
    let c = changes(&edit(BASE, "  string symbol = 1;", "  repeated string symbol = 1;"));
    assert_field_changed(
        &c,
        1,
        "symbol",
        r#"  field 1 symbol optional implicit string json="symbol""#,
        r#"  field 1 symbol repeated implicit string json="symbol""#,
    );
}

#[test]
fn sensitive_custom_json_name() {
    let c = changes(&edit(BASE, "  string symbol = 1;", "  string symbol = 1 [json_name = \"sym\"];"));
    assert_field_changed(
        &c,
        1,
        "symbol",
        r#"  field 1 symbol optional implicit string json="symbol""#,
        r#"  field 1 symbol optional implicit string json="sym""#,
    );
}

#[test]
fn sensitive_packed_false_on_repeated_int() {
    let c = changes(&edit(BASE, "  repeated int32 sizes = 9;", "  repeated int32 sizes = 9 [packed = false];"));
    assert_field_changed(
        &c,
        9,
        "sizes",
        r#"  field 9 sizes repeated implicit int32 json="sizes" packed"#,
        r#"  field 9 sizes repeated implicit int32 json="sizes""#,
    );
}

#[test]
fn sensitive_map_value_type_change() {
    let c = changes(&edit(BASE, "map<string, Leg> legs = 5;", "map<string, Detail> legs = 5;"));
    assert_eq!(
        c,
        vec![
            bar_field(
                Changed,
                5,
                "legs",
                Some(r#"  field 5 legs repeated implicit map(string,message(ampy.test.v1.Leg)) json="legs""#),
                Some(r#"  field 5 legs repeated implicit map(string,message(ampy.test.v1.Detail)) json="legs""#),
            ),
            // Leg is no longer reachable from Bar.
            Change {
                kind: Removed,
                item: Item::Message("ampy.test.v1.Leg".into()),
                old: Some(
                    "message ampy.test.v1.Leg proto3\n  field 1 venue optional implicit string json=\"venue\"\n  field 2 side optional implicit enum(ampy.test.v1.Side) json=\"side\"".into()
                ),
                new: None,
            },
        ]
    );
    assert_eq!(c[1].to_string(), "message ampy.test.v1.Leg removed");
}

#[test]
fn sensitive_map_key_type_change() {
    let c = changes(&edit(BASE, "map<string, Leg> legs = 5;", "map<int64, Leg> legs = 5;"));
    assert_field_changed(
        &c,
        5,
        "legs",
        r#"  field 5 legs repeated implicit map(string,message(ampy.test.v1.Leg)) json="legs""#,
        r#"  field 5 legs repeated implicit map(int64,message(ampy.test.v1.Leg)) json="legs""#,
    );
}

#[test]
fn sensitive_nested_referenced_message_changes_transitively() {
    // Leg is only reached through the map value; Side through Leg and Bar.
    let c = changes(&edit(BASE, "  string venue = 1;", "  bytes venue = 1;"));
    assert_eq!(
        c,
        vec![field(
            Changed,
            "ampy.test.v1.Leg",
            1,
            "venue",
            Some(r#"  field 1 venue optional implicit string json="venue""#),
            Some(r#"  field 1 venue optional implicit bytes json="venue""#),
        )]
    );
}

#[test]
fn sensitive_referenced_message_renamed() {
    let v = edit(BASE, "message Detail {", "message Details {");
    let c = changes(&edit(&v, "  Detail detail = 10;", "  Details detail = 10;"));
    assert_eq!(
        c,
        vec![
            bar_field(
                Changed,
                10,
                "detail",
                Some(r#"  field 10 detail optional explicit message(ampy.test.v1.Detail) json="detail""#),
                Some(r#"  field 10 detail optional explicit message(ampy.test.v1.Details) json="detail""#),
            ),
            Change {
                kind: Removed,
                item: Item::Message("ampy.test.v1.Detail".into()),
                old: Some(
                    "message ampy.test.v1.Detail proto3\n  field 1 note optional implicit string json=\"note\"".into()
                ),
                new: None,
            },
            Change {
                kind: Added,
                item: Item::Message("ampy.test.v1.Details".into()),
                old: None,
                new: Some(
                    "message ampy.test.v1.Details proto3\n  field 1 note optional implicit string json=\"note\"".into()
                ),
            },
        ]
    );
}

#[test]
fn sensitive_package_renamed() {
    let v = edit(BASE, "package ampy.test.v1;", "package ampy.test.v2;");
    let old = form(&[(MAIN, BASE)], ROOT);
    let new = form(&[(MAIN, &v)], "ampy.test.v2.Bar");
    assert_ne!(hash_canonical(&old), hash_canonical(&new));
    let c = diff(&old, &new);
    assert_eq!(
        c[0],
        Change {
            kind: Changed,
            item: Item::Root,
            old: Some(format!("{VERSION_LINE}\nroot ampy.test.v1.Bar")),
            new: Some(format!("{VERSION_LINE}\nroot ampy.test.v2.Bar")),
        }
    );
    assert_eq!(
        c[0].to_string(),
        "root changed: `ampy-canonical-schema v1 | root ampy.test.v1.Bar` -> `ampy-canonical-schema v1 | root ampy.test.v2.Bar`"
    );
    // Every definition of the package moved: removed under the old name, added under the new.
    assert!(c.contains(&Change {
        kind: Removed,
        item: Item::Enum("ampy.test.v1.Side".into()),
        old: Some("enum ampy.test.v1.Side proto3\n  value 0 SIDE_UNSPECIFIED\n  value 1 BUY\n  value 2 SELL".into()),
        new: None,
    }));
}

// --- proto2 ----------------------------------------------------------------

const P2: &str = "ampy/test/v2/order.proto";
const P2_ROOT: &str = "ampy.test.v2.Order";

const P2_BASE: &str = r#"syntax = "proto2";

package ampy.test.v2;

message Order {
  required string id = 1;
  optional int32 qty = 2 [default = 100];
  optional Kind kind = 3 [default = LIMIT];
  optional group Fill = 4 {
    optional double px = 1;
  }
  repeated int32 ticks = 5;
  optional string note = 6 [default = "a\"b\\c\nd é"];
  optional float ratio = 7 [default = inf];
  optional bytes raw = 8 [default = "\001\377"];
  repeated sint32 packed_ticks = 9 [packed = true];
  optional double lo = 10 [default = -1.5];
  optional sint64 off = 11 [default = -42];
  optional bool on = 12 [default = true];
  optional double nan_val = 13 [default = nan];
  optional uint64 big = 14 [default = 18446744073709551615];
  optional int32 odd = 15 [json_name = "o\\d\"d"];
  optional float third = 16 [default = 0.1];
}

enum Kind {
  MARKET = 0;
  LIMIT = 1;
}
"#;

#[test]
fn proto2_canonical_form_and_quoting_are_exact() {
    let expected = r#"ampy-canonical-schema v1
root ampy.test.v2.Order
enum ampy.test.v2.Kind proto2
  value 0 MARKET
  value 1 LIMIT
message ampy.test.v2.Order proto2
  field 1 id required explicit string json="id"
  field 2 qty optional explicit int32 json="qty" default=100
  field 3 kind optional explicit enum(ampy.test.v2.Kind) json="kind" default=LIMIT
  field 4 fill optional explicit group(ampy.test.v2.Order.Fill) json="fill"
  field 5 ticks repeated implicit int32 json="ticks"
  field 6 note optional explicit string json="note" default="a\"b\\c\x0ad \xc3\xa9"
  field 7 ratio optional explicit float json="ratio" default=0x7ff0000000000000
  field 8 raw optional explicit bytes json="raw" default="\x01\xff"
  field 9 packed_ticks repeated implicit sint32 json="packedTicks" packed
  field 10 lo optional explicit double json="lo" default=0xbff8000000000000
  field 11 off optional explicit sint64 json="off" default=-42
  field 12 on optional explicit bool json="on" default=true
  field 13 nan_val optional explicit double json="nanVal" default=0x7ff8000000000000
  field 14 big optional explicit uint64 json="big" default=18446744073709551615
  field 15 odd optional explicit int32 json="o\\d\"d"
  field 16 third optional explicit float json="third" default=0x3fb99999a0000000
message ampy.test.v2.Order.Fill proto2
  field 1 px optional explicit double json="px"
"#;
    let got = form(&[(P2, P2_BASE)], P2_ROOT);
    assert_eq!(got, expected);
    assert!(got.is_ascii());
    // 0.1f32 widened to f64 is not 0.1f64: the float default is rounded first.
    assert_eq!(f64::from(0.1f32).to_bits(), 0x3fb9_9999_a000_0000);
}

fn p2_changes(variant: &str) -> Vec<Change> {
    changes_files(&[(P2, P2_BASE)], &[(P2, variant)], P2_ROOT)
}

#[test]
fn sensitive_proto2_default_changed() {
    let c = p2_changes(&edit(P2_BASE, "[default = 100]", "[default = 200]"));
    assert_eq!(
        c,
        vec![field(
            Changed,
            P2_ROOT,
            2,
            "qty",
            Some(r#"  field 2 qty optional explicit int32 json="qty" default=100"#),
            Some(r#"  field 2 qty optional explicit int32 json="qty" default=200"#),
        )]
    );
}

#[test]
fn sensitive_proto2_explicit_default_equal_to_implicit() {
    // An explicit default is part of the descriptor (and of generated code
    // accessors), even when it equals the type's zero value.
    let c = p2_changes(&edit(P2_BASE, "  optional double px = 1;", "  optional double px = 1 [default = 0];"));
    assert_eq!(
        c,
        vec![field(
            Changed,
            "ampy.test.v2.Order.Fill",
            1,
            "px",
            Some(r#"  field 1 px optional explicit double json="px""#),
            Some(r#"  field 1 px optional explicit double json="px" default=0x0000000000000000"#),
        )]
    );
}

#[test]
fn sensitive_proto2_string_default_escapes() {
    let c = p2_changes(&edit(P2_BASE, r#"[default = "a\"b\\c\nd é"]"#, r#"[default = "a\"b\\c\td é"]"#));
    assert_eq!(
        c,
        vec![field(
            Changed,
            P2_ROOT,
            6,
            "note",
            Some(r#"  field 6 note optional explicit string json="note" default="a\"b\\c\x0ad \xc3\xa9""#),
            Some(r#"  field 6 note optional explicit string json="note" default="a\"b\\c\x09d \xc3\xa9""#),
        )]
    );
}

#[test]
fn sensitive_proto2_required_vs_optional() {
    let c = p2_changes(&edit(P2_BASE, "required string id = 1;", "optional string id = 1;"));
    assert_eq!(
        c,
        vec![field(
            Changed,
            P2_ROOT,
            1,
            "id",
            Some(r#"  field 1 id required explicit string json="id""#),
            Some(r#"  field 1 id optional explicit string json="id""#),
        )]
    );
}

#[test]
fn sensitive_group_vs_message() {
    let c = p2_changes(&edit(
        P2_BASE,
        "  optional group Fill = 4 {\n    optional double px = 1;\n  }",
        "  message Fill {\n    optional double px = 1;\n  }\n  optional Fill fill = 4;",
    ));
    assert_eq!(
        c,
        vec![field(
            Changed,
            P2_ROOT,
            4,
            "fill",
            Some(r#"  field 4 fill optional explicit group(ampy.test.v2.Order.Fill) json="fill""#),
            Some(r#"  field 4 fill optional explicit message(ampy.test.v2.Order.Fill) json="fill""#),
        )]
    );
}

#[test]
fn sensitive_message_moved_from_proto3_to_proto2_file() {
    let root3 = r#"syntax = "proto3";
package ampy.test.v3;
import "ampy/test/v3/inner.proto";
message Outer { Inner inner = 1; }
"#;
    let inner3 = "syntax = \"proto3\";\npackage ampy.test.v3;\nmessage Inner { string a = 1; }\n";
    let inner2 = "syntax = \"proto2\";\npackage ampy.test.v3;\nmessage Inner { optional string a = 1; }\n";
    let c = changes_files(
        &[("ampy/test/v3/outer.proto", root3), ("ampy/test/v3/inner.proto", inner3)],
        &[("ampy/test/v3/outer.proto", root3), ("ampy/test/v3/inner.proto", inner2)],
        "ampy.test.v3.Outer",
    );
    assert_eq!(
        c,
        vec![
            Change {
                kind: Changed,
                item: Item::Message("ampy.test.v3.Inner".into()),
                old: Some("message ampy.test.v3.Inner proto3".into()),
                new: Some("message ampy.test.v3.Inner proto2".into()),
            },
            field(
                Changed,
                "ampy.test.v3.Inner",
                1,
                "a",
                Some(r#"  field 1 a optional implicit string json="a""#),
                Some(r#"  field 1 a optional explicit string json="a""#),
            ),
        ]
    );
    assert_eq!(
        c[0].to_string(),
        "message ampy.test.v3.Inner changed: `message ampy.test.v3.Inner proto3` -> `message ampy.test.v3.Inner proto2`"
    );
}

#[test]
fn sensitive_enum_moved_from_proto2_to_proto3_file() {
    // Open vs closed enum semantics follow the declaring file's syntax.
    let outer = "syntax = \"proto2\";\npackage ampy.test.v4;\nimport \"ampy/test/v4/e.proto\";\nmessage Outer { optional E e = 1; }\n";
    let e2 = "syntax = \"proto2\";\npackage ampy.test.v4;\nenum E { E_ZERO = 0; }\n";
    let e3 = "syntax = \"proto3\";\npackage ampy.test.v4;\nenum E { E_ZERO = 0; }\n";
    let c = changes_files(
        &[("ampy/test/v4/outer.proto", outer), ("ampy/test/v4/e.proto", e2)],
        &[("ampy/test/v4/outer.proto", outer), ("ampy/test/v4/e.proto", e3)],
        "ampy.test.v4.Outer",
    );
    assert_eq!(
        c,
        vec![Change {
            kind: Changed,
            item: Item::Enum("ampy.test.v4.E".into()),
            old: Some("enum ampy.test.v4.E proto2".into()),
            new: Some("enum ampy.test.v4.E proto3".into()),
        }]
    );
}

#[test]
fn sensitive_message_set_wire_format() {
    let a = "syntax = \"proto2\";\npackage ampy.test.v5;\nmessage M {\n  extensions 4 to max;\n}\n";
    let b = edit(a, "message M {\n", "message M {\n  option message_set_wire_format = true;\n");
    let fa = form(&[("m.proto", a)], "ampy.test.v5.M");
    let fb = form(&[("m.proto", &b)], "ampy.test.v5.M");
    assert_eq!(fa, format!("{VERSION_LINE}\nroot ampy.test.v5.M\nmessage ampy.test.v5.M proto2\n"));
    assert_eq!(
        fb,
        format!("{VERSION_LINE}\nroot ampy.test.v5.M\nmessage ampy.test.v5.M proto2 message_set_wire_format\n")
    );
}

#[test]
fn extensions_are_not_followed() {
    let a = "syntax = \"proto2\";\npackage ampy.test.v6;\nmessage M {\n  optional int32 a = 1;\n  extensions 100 to 199;\n}\n";
    let b = format!("{a}message Ext {{ optional string s = 1; }}\nextend M {{\n  optional Ext ext = 100;\n}}\n");
    assert_eq!(form(&[("m.proto", a)], "ampy.test.v6.M"), form(&[("m.proto", &b)], "ampy.test.v6.M"));
}

// ---------------------------------------------------------------------------
// diff: added / removed messages, ordering, degenerate inputs
// ---------------------------------------------------------------------------

const DIFF_A: &str = r#"syntax = "proto3";
package ampy.test.d;
message Root { A a = 1; }
message A { string x = 1; }
message B { int32 y = 1; E e = 2; }
enum E { E_UNSPECIFIED = 0; }
"#;

#[test]
fn diff_reports_added_messages_and_enums() {
    let b = edit(DIFF_A, "message Root { A a = 1; }", "message Root { A a = 1; B b = 2; }");
    let old = form(&[("d.proto", DIFF_A)], "ampy.test.d.Root");
    let new = form(&[("d.proto", &b)], "ampy.test.d.Root");
    let c = diff(&old, &new);
    assert_eq!(
        c,
        vec![
            Change {
                kind: Added,
                item: Item::Message("ampy.test.d.B".into()),
                old: None,
                new: Some(
                    "message ampy.test.d.B proto3\n  field 1 y optional implicit int32 json=\"y\"\n  field 2 e optional implicit enum(ampy.test.d.E) json=\"e\"".into()
                ),
            },
            Change {
                kind: Added,
                item: Item::Enum("ampy.test.d.E".into()),
                old: None,
                new: Some("enum ampy.test.d.E proto3\n  value 0 E_UNSPECIFIED".into()),
            },
            field(
                Added,
                "ampy.test.d.Root",
                2,
                "b",
                None,
                Some(r#"  field 2 b optional explicit message(ampy.test.d.B) json="b""#),
            ),
        ]
    );
    let shown: Vec<String> = c.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "message ampy.test.d.B added".to_owned(),
            "enum ampy.test.d.E added".to_owned(),
            r#"field ampy.test.d.Root.b (#2) added: `optional explicit message(ampy.test.d.B) json="b"`"#.to_owned(),
        ]
    );

    // The reverse direction reports removals in the same order.
    let back = diff(&new, &old);
    let kinds: Vec<(ChangeKind, Item)> = back.into_iter().map(|c| (c.kind, c.item)).collect();
    assert_eq!(
        kinds,
        vec![
            (Removed, Item::Message("ampy.test.d.B".into())),
            (Removed, Item::Enum("ampy.test.d.E".into())),
            (Removed, Item::Field { message: "ampy.test.d.Root".into(), number: 2, name: "b".into() }),
        ]
    );
}

#[test]
fn diff_of_identical_forms_is_empty() {
    let f = form(&[(MAIN, BASE)], ROOT);
    assert!(diff(&f, &f).is_empty());
}

#[test]
fn diff_is_ordered_by_definition_then_number() {
    let v = edit(BASE, "  string symbol = 1;", "  bytes symbol = 1;");
    let v = edit(&v, "  Detail detail = 10;", "  Detail detail = 10;\n  bool halted = 11;");
    let v = edit(&v, "  string note = 1;", "  string note = 1;\n  int32 n = 2;");
    let v = edit(&v, "  SELL = 2;", "  SELL = 2;\n  SHORT = 3;");
    let c = diff(&form(&[(MAIN, BASE)], ROOT), &form(&[(MAIN, &v)], ROOT));
    let items: Vec<String> = c.iter().map(|c| c.item.to_string()).collect();
    assert_eq!(
        items,
        vec![
            "field ampy.test.v1.Bar.symbol (#1)",
            "field ampy.test.v1.Bar.halted (#11)",
            "field ampy.test.v1.Detail.n (#2)",
            "value ampy.test.v1.Side.SHORT (=3)",
        ]
    );
}

#[test]
fn diff_never_empty_for_different_forms() {
    let f = form(&[(MAIN, BASE)], ROOT);
    // Same lines, blocks reordered by hand: structurally equal, bytes differ.
    let mut lines: Vec<&str> = f.lines().collect();
    let tail = lines.split_off(lines.len() - 3); // the Timestamp block
    lines.splice(2..2, tail);
    let shuffled = format!("{}\n", lines.join("\n"));
    assert_ne!(shuffled, f);
    let c = diff(&f, &shuffled);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].item, Item::Root);
    assert_eq!(c[0].kind, Changed);
}

// ---------------------------------------------------------------------------
// Snapshot of a feature-rich fixture
// ---------------------------------------------------------------------------

#[test]
fn rich_fixture_snapshot() {
    let files = [
        ("ampy/hashfix/v1/common.proto", include_str!("fixtures/hash/ampy/hashfix/v1/common.proto")),
        ("ampy/hashfix/v1/rich.proto", include_str!("fixtures/hash/ampy/hashfix/v1/rich.proto")),
    ];
    let m = message(&files, "ampy.hashfix.v1.Quote");
    let canonical = canonical_form(&m);
    assert!(!canonical.contains("Unused"), "unreferenced nested type leaked");
    insta::assert_snapshot!("rich_quote_canonical_form", format!("{canonical}{}\n", schema_hash(&m)));
}

// ---------------------------------------------------------------------------
// The worked example quoted in docs/schema-hash.md
// ---------------------------------------------------------------------------

const WORKED_EXAMPLE_FORM: &str = r#"ampy-canonical-schema v1
root ampy.example.v1.Trade
message ampy.example.v1.Trade proto3
  field 1 symbol optional implicit string json="symbol"
  field 2 price optional implicit double json="price"
  field 3 size optional implicit int64 json="size"
  field 4 side optional implicit enum(ampy.example.v1.Trade.Side) json="side"
  field 5 ts optional explicit message(google.protobuf.Timestamp) json="ts"
  field 6 venue optional explicit string json="venue"
  field 7 tags repeated implicit map(string,string) json="tags"
  field 8 fill_ids repeated implicit int64 json="fillIds" packed
  field 9 order_id optional explicit string json="orderId" oneof=ref
  field 10 seq optional explicit uint64 json="sequence" oneof=ref
enum ampy.example.v1.Trade.Side proto3
  value 0 SIDE_UNSPECIFIED
  value 1 BUY
  value 2 SELL
message google.protobuf.Timestamp proto3
  field 1 seconds optional implicit int64 json="seconds"
  field 2 nanos optional implicit int32 json="nanos"
"#;

const WORKED_EXAMPLE_HASH: &str = "sha256:4f0a30f0e88dfeb7935ae5107c1fce5d5595c16fa57835759f8ea2e470cfa214";

#[test]
fn worked_example_in_docs_is_real() {
    let proto = include_str!("fixtures/hash/ampy/example/v1/trade.proto");
    let m = message(&[("ampy/example/v1/trade.proto", proto)], "ampy.example.v1.Trade");
    assert_eq!(canonical_form(&m), WORKED_EXAMPLE_FORM);
    assert_eq!(schema_hash(&m), WORKED_EXAMPLE_HASH);
    assert_eq!(hash_canonical(WORKED_EXAMPLE_FORM), WORKED_EXAMPLE_HASH);

    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema-hash.md");
    let doc = std::fs::read_to_string(doc_path).expect("docs/schema-hash.md");
    assert!(doc.contains(WORKED_EXAMPLE_FORM), "doc must quote the exact canonical form");
    assert!(doc.contains(WORKED_EXAMPLE_HASH), "doc must quote the exact hash");
    let size = format!("{} bytes", WORKED_EXAMPLE_FORM.len());
    assert!(doc.contains(&size), "doc must state the form's size ({size})");
    // The doc quotes the fixture's message body verbatim too.
    let body = &proto[proto.find("syntax").expect("syntax")..];
    assert!(doc.contains(body), "doc must quote the fixture proto");
}

#[test]
fn shared_blocks_render_the_same_canonical_forms() {
    // Roots that share messages and enums (one enum with aliases, so some
    // roots take the v2 version line and others not), met in both orders.
    let files = [
        (
            "common.proto",
            r#"syntax = "proto3"; package c;
               message Id { string symbol = 1; string mic = 2; }
               enum Side { option allow_alias = true; SIDE_UNSPECIFIED = 0; BUY = 1; LONG = 1; }
               enum Plain { PLAIN_UNSPECIFIED = 0; ONE = 1; }
               message Money { int64 units = 1; Plain plain = 2; }"#,
        ),
        (
            "a.proto",
            r#"syntax = "proto3"; package a; import "common.proto";
               message A { c.Id id = 1; c.Money price = 2; map<string, c.Money> legs = 3; }
               message B { repeated A items = 1; c.Side side = 2; }
               message C { c.Money m = 1; oneof o { c.Id id = 2; string s = 3; } }"#,
        ),
    ];
    let pool = pool(&files);
    let roots: Vec<MessageDescriptor> =
        ["a.A", "a.B", "a.C", "c.Id", "c.Money"].iter().map(|n| pool.get_message_by_name(n).unwrap()).collect();
    for order in [roots.clone(), roots.iter().rev().cloned().collect()] {
        let mut blocks = ampygen::canonical::Blocks::default();
        for root in &order {
            assert_eq!(
                ampygen::canonical::canonical_form_with(root, &mut blocks),
                canonical_form(root),
                "{}",
                root.full_name()
            );
        }
    }
    assert!(canonical_form(&roots[1]).starts_with(ampygen::canonical::VERSION_LINE_V2));
    assert!(canonical_form(&roots[0]).starts_with(VERSION_LINE));
}
