//! The corpus. Each case is a schema (proto3, package `ampy.t.v1`, root
//! `M`, unless it says otherwise) and an edit. None of these repeats an
//! edit of tests/mutations.rs, which runs against the default registry.

use crate::{case, Case};

/// The same in a proto2 file.
macro_rules! pair2 {
    ($name:literal, $a:literal, $b:literal) => {
        case(
            $name,
            concat!(
                "syntax = \"proto2\";\npackage ampy.t.v1;\nenum E2 {\n  E2_ZERO = 0;\n  E2_ONE = 1;\n  E2_BIG = 100000;\n}\nmessage M {\n  optional ",
                $a,
                " x = 1;\n}\n"
            ),
            &[(concat!("optional ", $a, " x = 1;"), concat!("optional ", $b, " x = 1;"))],
        )
    };
}

const ALIASED: &str = "enum S {\n  option allow_alias = true;\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_UNO = 1;\n  S_TWO = 2;\n}\nmessage M {\n  S s = 1;\n  repeated S ss = 2;\n}\n";
const PLAIN_ENUM: &str = "enum S {\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_TWO = 2;\n  S_SIX = 6;\n}\nmessage M {\n  S s = 1;\n  repeated S ss = 2;\n  map<string, S> by = 3;\n}\n";
const PROTO2_ENUM: &str = "syntax = \"proto2\";\npackage ampy.t.v1;\nenum S {\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_SIX = 6;\n}\nmessage M {\n  optional S s = 1;\n  repeated S ss = 2;\n}\n";
const INNER: &str = "message Inner {\n  int32 a = 1;\n  string b = 2;\n}\nmessage M {\n  Inner inner = 1;\n  repeated Inner many = 2;\n}\n";
const ONEOF: &str =
    "message M {\n  oneof pick {\n    string a = 1;\n    int64 b = 2;\n  }\n  string c = 3;\n  int64 d = 4;\n}\n";
const MAP: &str = "message M {\n  map<string, int32> m = 1;\n}\n";
const MAP_KEYS: &str = "message M {\n  map<int32, string> m = 1;\n}\n";
const ENTRIES: &str =
    "message M {\n  message MEntry {\n    string key = 1;\n    int32 value = 2;\n  }\n  repeated MEntry m = 1;\n}\n";
const P2: &str = "syntax = \"proto2\";\npackage ampy.t.v1;\nmessage M {\n  optional int32 x = 1;\n  optional string s = 2;\n  optional int32 d = 3 [default = 7];\n}\n";
const FIELDS: &str = "message M {\n  int32 x = 1;\n  string name = 2;\n  repeated int64 ids = 3;\n}\n";
const SHARED: &str = "message Money {\n  int64 units = 1;\n  string currency = 2;\n}\nmessage Leg {\n  Money price = 1;\n}\nmessage M {\n  Money total = 1;\n  repeated Leg legs = 2;\n}\n";
const NODE: &str =
    "message Node {\n  string label = 1;\n  repeated Node children = 2;\n}\nmessage M {\n  Node root = 1;\n}\n";
const MOVED_INNER: &str = "import \"ampy/u/v1/u.proto\";\nmessage M {\n  ampy.u.v1.Inner inner = 1;\n}\n//// ampy/u/v1/u.proto\nsyntax = \"proto3\";\npackage ampy.u.v1;\nmessage Inner {\n  int32 a = 1;\n  string b = 2;\n}\n";

/// The 15 scalar types, and `E`, a proto3 enum with a negative and a large
/// value.
const SCALARS: [&str; 16] = [
    "double", "float", "int64", "uint64", "int32", "fixed64", "fixed32", "bool", "string", "bytes", "uint32",
    "sfixed32", "sfixed64", "sint32", "sint64", "E",
];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Every ordered pair of scalar types (and the enum against each), as a
/// singular field and as a map value: the pairs protobuf calls
/// wire-compatible and the ones it does not.
fn matrix() -> Vec<Case> {
    let mut out = Vec::new();
    for a in SCALARS {
        for b in SCALARS.iter().copied().filter(|b| *b != a) {
            let old = leak(format!(
                "enum E {{\n  E_ZERO = 0;\n  E_ONE = 1;\n  E_BIG = 100000;\n  E_NEG = -5;\n}}\nmessage M {{\n  {a} x = 1;\n}}\n"
            ));
            let edit: &'static [(&'static str, &'static str)] =
                Box::leak(vec![(leak(format!("{a} x = 1;")), leak(format!("{b} x = 1;")))].into_boxed_slice());
            out.push(case(leak(format!("{}_to_{}", a.to_lowercase(), b.to_lowercase())), old, edit));
        }
    }
    out
}

/// The corpus: the hand-written cases and the scalar matrix.
pub fn all() -> Vec<Case> {
    let mut out = matrix();
    out.extend(CASES.iter().copied());
    out
}

const CASES: &[Case] = &[
    // Enums against integers in proto2, where the enum is closed (the
    // proto3 enum against every scalar is in the matrix below).
    pair2!("proto2_int32_to_closed_enum", "int32", "E2"),
    pair2!("proto2_closed_enum_to_int32", "E2", "int32"),
    pair2!("proto2_uint32_to_closed_enum", "uint32", "E2"),
    pair2!("proto2_closed_enum_to_uint32", "E2", "uint32"),
    pair2!("proto2_int64_to_closed_enum", "int64", "E2"),
    pair2!("proto2_closed_enum_to_int64", "E2", "int64"),
    pair2!("proto2_closed_enum_to_uint64", "E2", "uint64"),
    pair2!("proto2_closed_enum_to_bool", "E2", "bool"),
    // string, bytes and messages, both directions.
    case("string_to_message", "message Sub {\n  string v = 1;\n}\nmessage M {\n  string x = 1;\n}\n", &[("string x = 1;", "Sub x = 1;")]),
    case("message_to_string", "message Sub {\n  string v = 1;\n}\nmessage M {\n  Sub x = 1;\n}\n", &[("Sub x = 1;", "string x = 1;")]),
    case("bytes_to_message", "message Sub {\n  int32 v = 1;\n}\nmessage M {\n  bytes x = 1;\n}\n", &[("bytes x = 1;", "Sub x = 1;")]),
    case("message_to_bytes", "message Sub {\n  int32 v = 1;\n}\nmessage M {\n  Sub x = 1;\n}\n", &[("Sub x = 1;", "bytes x = 1;")]),
    pair2!("proto2_string_to_bytes", "string", "bytes"),
    case("repeated_string_to_bytes", "message M {\n  repeated string x = 1;\n}\n", &[("string x", "bytes x")]),
    case(
        "message_replaced_by_same_shape",
        INNER,
        &[("message M {", "message Other {\n  int32 a = 1;\n  string b = 2;\n}\nmessage M {"), ("Inner inner = 1;", "Other inner = 1;")],
    ),
    case(
        "message_replaced_by_other_shape",
        INNER,
        &[("message M {", "message Other {\n  string a = 1;\n}\nmessage M {"), ("Inner inner = 1;", "Other inner = 1;")],
    ),
    // Enums: values, names, aliases, value 0.
    case("enum_value_added_open", PLAIN_ENUM, &[("  S_SIX = 6;\n", "  S_SIX = 6;\n  S_SEVEN = 7;\n")]),
    case("enum_value_added_closed", PROTO2_ENUM, &[("  S_SIX = 6;\n", "  S_SIX = 6;\n  S_SEVEN = 7;\n")]),
    case("enum_value_renamed_in_map", PLAIN_ENUM, &[("S_TWO = 2;", "S_DOS = 2;")]),
    case("enum_zero_renamed", PLAIN_ENUM, &[("S_ZERO = 0;", "S_NONE = 0;")]),
    case("enum_values_swapped", PLAIN_ENUM, &[("S_ONE = 1;\n  S_TWO = 2;", "S_ONE = 2;\n  S_TWO = 1;")]),
    case("enum_value_removed_name_reserved_only", PLAIN_ENUM, &[("  S_SIX = 6;\n", "  reserved \"S_SIX\";\n")])
        .stricter("the number 6 stays free: a later value 6 would give old data another meaning"),
    case("enum_value_removed_number_reserved_only", PLAIN_ENUM, &[("  S_SIX = 6;\n", "  reserved 6;\n")])
        .stricter("the name S_SIX stays free: a later S_SIX under another number would make old JSON read as that number"),
    case("enum_value_removed_unreserved_open", PLAIN_ENUM, &[("  S_SIX = 6;\n", "")])
        .stricter("neither the number nor the name is reserved, so a later edit can reuse them with another meaning"),
    case("enum_value_removed_reserved_closed", PROTO2_ENUM, &[("  S_SIX = 6;\n", "  reserved 6;\n  reserved \"S_SIX\";\n")]),
    case("enum_zero_value_renumbered", PLAIN_ENUM, &[("S_ZERO = 0;\n  S_ONE = 1;", "S_ONE = 0;\n  S_ZERO = 1;")]),
    case("enum_alias_added_after", PLAIN_ENUM, &[("enum S {\n  S_ZERO = 0;\n  S_ONE = 1;", "enum S {\n  option allow_alias = true;\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_UNO = 1;")]),
    case("enum_alias_added_before", PLAIN_ENUM, &[("enum S {\n  S_ZERO = 0;\n  S_ONE = 1;", "enum S {\n  option allow_alias = true;\n  S_ZERO = 0;\n  S_UNO = 1;\n  S_ONE = 1;")]),
    case("enum_aliases_reordered", ALIASED, &[("  S_ONE = 1;\n  S_UNO = 1;", "  S_UNO = 1;\n  S_ONE = 1;")]),
    case("enum_alias_removed", ALIASED, &[("  S_UNO = 1;\n", "")])
        .stricter("JSON readers accept every alias: JSON written with S_UNO (by hand, or by an encoder that prints another alias, as prost-reflect 0.16 can) stops parsing"),
    case("enum_primary_alias_removed", ALIASED, &[("  S_ONE = 1;\n", "")]),
    case("enum_alias_added_to_zero_before", PLAIN_ENUM, &[("enum S {\n  S_ZERO = 0;", "enum S {\n  option allow_alias = true;\n  S_NONE = 0;\n  S_ZERO = 0;")]),
    case(
        "enum_type_renamed_same_values",
        PLAIN_ENUM,
        &[("enum S {", "enum T {"), ("  S s = 1;\n  repeated S ss = 2;\n  map<string, S> by = 3;", "  T s = 1;\n  repeated T ss = 2;\n  map<string, T> by = 3;")],
    ),
    // Maps and repeated entry messages.
    case("map_to_repeated_entries", MAP, &[("map<string, int32> m = 1;", "message MEntry {\n    string key = 1;\n    int32 value = 2;\n  }\n  repeated MEntry m = 1;")]),
    case("repeated_entries_to_map", ENTRIES, &[("message MEntry {\n    string key = 1;\n    int32 value = 2;\n  }\n  repeated MEntry m = 1;", "map<string, int32> m = 1;")]),
    case("map_value_int32_to_int64", MAP, &[("map<string, int32>", "map<string, int64>")]),
    case("map_value_int32_to_sint32", MAP, &[("map<string, int32>", "map<string, sint32>")]),
    case("map_value_string_to_bytes", "message M {\n  map<int32, string> m = 1;\n}\n", &[("map<int32, string>", "map<int32, bytes>")]),
    case("map_key_int32_to_int64", MAP_KEYS, &[("map<int32, string>", "map<int64, string>")]),
    case("map_key_int32_to_uint32", MAP_KEYS, &[("map<int32, string>", "map<uint32, string>")]),
    case("map_key_int32_to_string", MAP_KEYS, &[("map<int32, string>", "map<string, string>")]),
    case("map_value_enum_to_int32", PLAIN_ENUM, &[("map<string, S> by = 3;", "map<string, int32> by = 3;")]),
    case(
        "map_value_message_same_shape",
        "message V {\n  int32 a = 1;\n}\nmessage M {\n  map<string, V> m = 1;\n}\n",
        &[("message M {", "message W {\n  int32 a = 1;\n}\nmessage M {"), ("map<string, V>", "map<string, W>")],
    ),
    case("map_value_field_added", "message V {\n  int32 a = 1;\n}\nmessage M {\n  map<string, V> m = 1;\n}\n", &[("  int32 a = 1;\n", "  int32 a = 1;\n  string b = 2;\n")]),
    // Oneofs: into, out of, renamed, new.
    case("field_moved_into_oneof_with_sibling", ONEOF, &[("    int64 b = 2;\n  }\n  string c = 3;", "    int64 b = 2;\n    string c = 3;\n  }")]),
    case("field_moved_out_of_oneof_with_sibling", ONEOF, &[("    int64 b = 2;\n  }", "  }\n  int64 b = 2;")]),
    case("oneof_renamed", ONEOF, &[("oneof pick {", "oneof choice {")]),
    case("new_oneof_around_one_field", ONEOF, &[("  int64 d = 4;\n", "  oneof solo {\n    int64 d = 4;\n  }\n")]),
    case("new_oneof_around_two_fields", ONEOF, &[("  string c = 3;\n  int64 d = 4;\n", "  oneof both {\n    string c = 3;\n    int64 d = 4;\n  }\n")]),
    case("field_added_to_oneof", ONEOF, &[("    int64 b = 2;\n", "    int64 b = 2;\n    bool e = 5;\n")]),
    case("single_member_oneof_dissolved", "message M {\n  oneof solo {\n    string a = 1;\n  }\n  int32 b = 2;\n}\n", &[("  oneof solo {\n    string a = 1;\n  }\n", "  string a = 1;\n")]),
    case("oneof_split_in_two", ONEOF, &[("    string a = 1;\n    int64 b = 2;\n  }", "    string a = 1;\n  }\n  oneof other {\n    int64 b = 2;\n  }")]),
    // Cardinality, presence and packing.
    case("singular_to_repeated_message", INNER, &[("  Inner inner = 1;", "  repeated Inner inner = 1;")]),
    case("repeated_to_singular_int64", FIELDS, &[("repeated int64 ids = 3;", "int64 ids = 3;")]),
    case("proto3_optional_added_to_int", FIELDS, &[("  int32 x = 1;", "  optional int32 x = 1;")]),
    case("proto3_optional_removed", "message M {\n  optional int32 x = 1;\n}\n", &[("optional int32 x = 1;", "int32 x = 1;")]),
    case("packed_false_added", FIELDS, &[("repeated int64 ids = 3;", "repeated int64 ids = 3 [packed = false];")]),
    case("proto2_packed_true_added", "syntax = \"proto2\";\npackage ampy.t.v1;\nmessage M {\n  repeated int32 xs = 1;\n}\n", &[("repeated int32 xs = 1;", "repeated int32 xs = 1 [packed = true];")]),
    // proto2 defaults and required.
    case("proto2_default_changed", P2, &[("[default = 7]", "[default = 8]")]),
    case("proto2_default_added_zero", P2, &[("optional int32 x = 1;", "optional int32 x = 1 [default = 0];")]),
    case("proto2_default_added_nonzero", P2, &[("optional int32 x = 1;", "optional int32 x = 1 [default = 3];")]),
    case("proto2_default_removed", P2, &[(" [default = 7]", "")]),
    case("proto2_string_default_added", P2, &[("optional string s = 2;", "optional string s = 2 [default = \"n/a\"];")]),
    case("proto2_optional_to_required", P2, &[("optional int32 x = 1;", "required int32 x = 1;")]),
    case("proto2_required_to_optional", "syntax = \"proto2\";\npackage ampy.t.v1;\nmessage M {\n  required int32 x = 1;\n}\n", &[("required int32 x = 1;", "optional int32 x = 1;")]),
    case("proto2_required_added", P2, &[("  optional string s = 2;\n", "  optional string s = 2;\n  required int64 r = 4;\n")]),
    case("proto2_required_removed_reserved", "syntax = \"proto2\";\npackage ampy.t.v1;\nmessage M {\n  required int32 x = 1;\n  optional string s = 2;\n}\n", &[("  required int32 x = 1;\n", "  reserved 1;\n  reserved \"x\";\n")]),
    case("proto2_optional_added", P2, &[("  optional string s = 2;\n", "  optional string s = 2;\n  optional bool flag = 4;\n")]),
    case("proto2_group_to_message", "syntax = \"proto2\";\npackage ampy.t.v1;\nmessage M {\n  optional group Fill = 1 {\n    optional int32 qty = 2;\n  }\n}\n", &[("optional group Fill = 1 {\n    optional int32 qty = 2;\n  }", "message Fill {\n    optional int32 qty = 2;\n  }\n  optional Fill fill = 1;")]),
    case(
        "syntax_proto3_to_proto2",
        "syntax = \"proto3\";\npackage ampy.t.v1;\nmessage M {\n  string s = 1;\n  repeated string tags = 2;\n}\n",
        &[("syntax = \"proto3\";", "syntax = \"proto2\";"), ("  string s = 1;", "  optional string s = 1;")],
    )
    .stricter("proto2 and proto3 differ in presence, default packing, enum openness and (in Go and C++) UTF-8 validation of strings; the gate does not weigh a syntax change field by field"),
    case("comment_and_order_only", FIELDS, &[("  int32 x = 1;\n  string name = 2;\n", "  // The name.\n  string name = 2;\n  int32 x = 1;\n")]),
    // Reservations, names and additions.
    case("field_removed_unreserved_no_reuse", FIELDS, &[("  string name = 2;\n", "")])
        .stricter("the number 2 is left free: a later field 2 of another type would misread old data"),
    case("field_removed_number_and_name_reserved", FIELDS, &[("  string name = 2;\n", "  reserved 2;\n  reserved \"name\";\n")]),
    case("field_removed_number_reserved_only", FIELDS, &[("  string name = 2;\n", "  reserved 2;\n")])
        .stricter("the JSON name `name` is left free: a later field `name` of another type would misread old JSON"),
    case("reserved_number_reused", "message M {\n  int32 x = 1;\n  reserved 2;\n}\n", &[("  reserved 2;\n", "  string later = 2;\n")])
        .stricter("the number was reserved because an earlier schema used it: old data may carry it with another type"),
    case("reserved_name_reused", "message M {\n  int32 x = 1;\n  reserved \"old\";\n}\n", &[("  reserved \"old\";\n", "  string old = 2;\n")])
        .stricter("the name was reserved because an earlier schema used it: old JSON may carry it with another type"),
    case("reservation_added", FIELDS, &[("  repeated int64 ids = 3;\n", "  repeated int64 ids = 3;\n  reserved 4 to 9;\n")]),
    case("field_renamed_int", FIELDS, &[("int32 x = 1;", "int32 y = 1;")]),
    case("json_name_set_to_default", FIELDS, &[("int32 x = 1;", "int32 x = 1 [json_name = \"x\"];")]),
    case("json_name_changed_repeated", FIELDS, &[("repeated int64 ids = 3;", "repeated int64 ids = 3 [json_name = \"idList\"];")]),
    case("field_added_message", FIELDS, &[("  repeated int64 ids = 3;\n", "  repeated int64 ids = 3;\n  Extra extra = 4;\n}\nmessage Extra {\n  string note = 1;\n")]),
    // Nested, shared and recursive messages.
    case("nested_field_widened", INNER, &[("int32 a = 1;", "int64 a = 1;")]),
    case("nested_field_renamed", INNER, &[("string b = 2;", "string bee = 2;")]),
    case("shared_message_field_added", SHARED, &[("  string currency = 2;\n", "  string currency = 2;\n  int32 nanos = 3;\n")]),
    case("shared_message_field_retyped", SHARED, &[("int64 units = 1;", "double units = 1;")]),
    case("recursive_message_field_added", NODE, &[("  repeated Node children = 2;\n", "  repeated Node children = 2;\n  int32 weight = 3;\n")]),
    case("recursive_message_label_changed", NODE, &[("repeated Node children = 2;", "Node children = 2;")]),
    case("nested_type_declared_not_used", INNER, &[("message Inner {", "message Unused {\n  bool z = 1;\n}\nmessage Inner {")]),
    // Package moves and file moves.
    case(
        "nested_message_moved_package",
        INNER,
        &[
            ("message Inner {\n  int32 a = 1;\n  string b = 2;\n}\n", "import \"ampy/u/v1/u.proto\";\n"),
            ("  Inner inner = 1;\n  repeated Inner many = 2;", "  ampy.u.v1.Inner inner = 1;\n  repeated ampy.u.v1.Inner many = 2;"),
            ("repeated ampy.u.v1.Inner many = 2;\n}\n", "repeated ampy.u.v1.Inner many = 2;\n}\n//// ampy/u/v1/u.proto\nsyntax = \"proto3\";\npackage ampy.u.v1;\nmessage Inner {\n  int32 a = 1;\n  string b = 2;\n}\n"),
        ],
    ),
    case("nested_message_moved_back", MOVED_INNER, &[("package ampy.u.v1;", "package ampy.w.v1;"), ("ampy.u.v1.Inner inner", "ampy.w.v1.Inner inner")]),
    case("root_moved_package", FIELDS, &[("message M {", "message Keep {\n  bool k = 1;\n}\n//// ampy/u/v1/u.proto\nsyntax = \"proto3\";\npackage ampy.u.v1;\nmessage M {")])
        .moves_root("ampy.u.v1.M")
        .stricter("the payload's full name is the schema_fqdn header, which every consumer verifies before decoding"),
    case("message_moved_to_other_file", INNER, &[("message Inner {\n  int32 a = 1;\n  string b = 2;\n}\n", "import \"ampy/t/v1/inner.proto\";\n"), ("repeated Inner many = 2;\n}\n", "repeated Inner many = 2;\n}\n//// ampy/t/v1/inner.proto\nsyntax = \"proto3\";\npackage ampy.t.v1;\nmessage Inner {\n  int32 a = 1;\n  string b = 2;\n}\n")]),
    case(
        "enum_moved_package",
        PLAIN_ENUM,
        &[
            ("enum S {\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_TWO = 2;\n  S_SIX = 6;\n}\n", "import \"ampy/u/v1/s.proto\";\n"),
            ("  S s = 1;\n  repeated S ss = 2;\n  map<string, S> by = 3;\n}\n", "  ampy.u.v1.S s = 1;\n  repeated ampy.u.v1.S ss = 2;\n  map<string, ampy.u.v1.S> by = 3;\n}\n//// ampy/u/v1/s.proto\nsyntax = \"proto3\";\npackage ampy.u.v1;\nenum S {\n  S_ZERO = 0;\n  S_ONE = 1;\n  S_TWO = 2;\n  S_SIX = 6;\n}\n"),
        ],
    ),
];
