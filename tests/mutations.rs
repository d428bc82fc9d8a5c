//! The mutation corpus: small edits to copies of the default registry and
//! protos, each with its expected class, finding code, location and exit
//! codes. Runs the real binary against the committed lock:
//!
//! 1. `check --format json` classifies the edit (exit 0 only when nothing
//!    changed: any change leaves the lock to be refreshed);
//! 2. `lock` accepts exactly the edits that pass the gate and writes
//!    nothing otherwise;
//! 3. after a successful `lock`, `check` passes.
//!
//! Includes the false positives other tools are known for: comment-only
//! edits, reordering, file splits and option-only edits are no change.

mod common;

use std::path::Path;

use common::{ampygen, default_layout, snapshot_tree};
use serde_json::Value;

const B: &str = "proto/ampy/bars/v1/bars.proto";
const T: &str = "proto/ampy/ticks/v1/ticks.proto";
const CTRL: &str = "proto/ampy/control/v1/control.proto";
const COMMON: &str = "proto/ampy/common/v1/common.proto";
const FILLS: &str = "proto/ampy/fills/v1/fills.proto";
const R: &str = "registry/ampy.yaml";
const LOCK: &str = "registry/ampy.lock.json";

#[derive(Clone, Copy)]
enum Edit {
    /// Replace the first occurrence (which must exist) in a file.
    Replace(&'static str, &'static str, &'static str),
    /// Write a new file with the given text.
    Write(&'static str, &'static str),
    /// Copy a file to a new path, replacing every occurrence of a string.
    CopyReplace(&'static str, &'static str, &'static str, &'static str),
    /// Cut a file from the marker to its end.
    Truncate(&'static str, &'static str),
    /// Append text to a file.
    Append(&'static str, &'static str),
}
use Edit::*;

struct Case {
    name: &'static str,
    /// Applied and locked (must pass) before `edits`.
    prelude: &'static [Edit],
    edits: &'static [Edit],
    /// The most severe class among the findings; `None`: no classified change.
    class: Option<&'static str>,
    /// A finding with this code must be reported at `at`.
    code: Option<&'static str>,
    /// File and the text that starts the reported line (in the edited file).
    at: Option<(&'static str, &'static str)>,
    /// Other codes that must be reported too.
    also: &'static [&'static str],
    check_exit: i32,
    lock_exit: i32,
}

const fn case(name: &'static str, edits: &'static [Edit]) -> Case {
    Case { name, prelude: &[], edits, class: None, code: None, at: None, also: &[], check_exit: 0, lock_exit: 0 }
}

impl Case {
    const fn finds(
        mut self,
        class: &'static str,
        code: &'static str,
        file: &'static str,
        marker: &'static str,
    ) -> Case {
        self.class = Some(class);
        self.code = Some(code);
        self.at = Some((file, marker));
        self.check_exit = 1;
        self
    }
    const fn refused(mut self) -> Case {
        self.lock_exit = 1;
        self
    }
    const fn also(mut self, codes: &'static [&'static str]) -> Case {
        self.also = codes;
        self
    }
    const fn after(mut self, prelude: &'static [Edit]) -> Case {
        self.prelude = prelude;
        self
    }
}

const RESERVE_20: Edit = Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  reserved 20;\n");
const BARS_VERSION: &str = "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.0.0";
const MINOR: Edit = Replace(R, BARS_VERSION, "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.1.0");
const PATCH: Edit = Replace(R, BARS_VERSION, "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.0.1");
/// The line of the bars topic's schema_version (unique thanks to the hash).
const BARS_VERSION_LINE: &str = "schema_version: 1.0.0\n            schema_hash: \"sha256:1f3a";
const INTERVAL_BLOCKS: &str = "// Calendar unit of a bar interval.
enum IntervalUnit {
  INTERVAL_UNIT_UNSPECIFIED = 0;
  INTERVAL_UNIT_SECOND = 1;
  INTERVAL_UNIT_MINUTE = 2;
  INTERVAL_UNIT_HOUR = 3;
  // One trading session.
  INTERVAL_UNIT_DAY = 4;
  INTERVAL_UNIT_WEEK = 5;
  INTERVAL_UNIT_MONTH = 6;
}
";
const BAR_INTERVAL: &str = "// Bar size, e.g. 1 minute is {unit: MINUTE, count: 1}, daily is {unit: DAY, count: 1}.
message BarInterval {
  // Calendar unit.
  IntervalUnit unit = 1;
  // Number of units per bar; must be >= 1.
  int32 count = 2;
}
";
const INTERVAL_FILE: &str = "syntax = \"proto3\";

// Bar intervals, split out of bars.proto.
package ampy.bars.v1;

// Bar size in calendar units.
message BarInterval {
  // Number of units per bar; must be >= 1.
  int32 count = 2;
  // Calendar unit.
  IntervalUnit unit = 1;
}

enum IntervalUnit {
  INTERVAL_UNIT_UNSPECIFIED = 0;
  INTERVAL_UNIT_SECOND = 1;
  INTERVAL_UNIT_MINUTE = 2;
  INTERVAL_UNIT_HOUR = 3;
  INTERVAL_UNIT_DAY = 4;
  INTERVAL_UNIT_WEEK = 5;
  INTERVAL_UNIT_MONTH = 6;
}
";
const CONTROL_DEPRECATED: Edit = Replace(
    R,
    "    versions:\n      v1:\n        topics:\n          replay_requests:",
    "    versions:\n      v1:\n        deprecated: {since: \"2026-11-01\", reason: \"replays move to the ops API\"}\n        topics:\n          replay_requests:",
);
const NEW_TICKS_TOPIC: &str = "          imbalance:
            subtopic: \"imbalance.{symbol}\"
            payload: ampy.ticks.v1.TradeBatch
            schema_version: 1.0.0
            key:
              fields:
                symbol: trades[*].security.symbol
              format: \"{symbol}\"
          quote:
";
const NEW_DOMAIN: &str = "
  nbbo:
    description: Consolidated quotes.
    qos: realtime
    versions:
      v1:
        topics:
          quotes:
            subtopic: \"{symbol}\"
            payload: ampy.ticks.v1.QuoteBatch
            schema_version: 1.0.0
            key:
              fields:
                symbol: quotes[*].security.symbol
              format: \"{symbol}\"
";
const BARS_V2: &str = "      v2:
        topics:
          bars:
            subtopic: \"{mic}.{symbol}\"
            payload: ampy.bars.v2.BarBatch
            schema_version: 2.0.0
            key:
              fields:
                mic: bars[*].security.mic
                symbol: bars[*].security.symbol
              format: \"{mic}.{symbol}\"

  ticks:
";
/// The fingerprint `check` prints for `int64 volume` -> `double volume`.
const VOLUME_TO_DOUBLE: &str = "552bbbbaa2ce2b74";
const ACCEPT_VOLUME: Edit = Replace(
    R,
    "            ordering: bars[*].event_time\n",
    "            ordering: bars[*].event_time\n            accept_breaking:\n              - {fingerprint: \"552bbbbaa2ce2b74\", by: \"ana@ampyfin\", reason: \"volume is fractional for crypto; all consumers upgraded\"}\n",
);

const CASES: &[Case] = &[
    // No change: what other tools get wrong.
    case("comment_only", &[Replace(B, "// Traded quantity in shares (or contracts) over the window.", "// Shares traded.")]),
    case("block_comment_added", &[Replace(B, "message BarInterval {", "/* Sizes. */\nmessage BarInterval {")]),
    case("whitespace_only", &[Replace(B, "  int64 volume = 10;", "  int64    volume =  10 ;")]),
    case(
        "fields_reordered",
        &[Replace(B, "  int64 volume = 10;\n", ""), Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  int64 volume = 10;\n")],
    ),
    case("message_moved_to_end", &[Replace(B, BAR_INTERVAL, ""), Append(B, BAR_INTERVAL)]),
    case("enum_moved_to_end", &[Replace(B, INTERVAL_BLOCKS, ""), Append(B, INTERVAL_BLOCKS)]),
    case(
        "file_split",
        &[
            Replace(B, INTERVAL_BLOCKS, ""),
            Replace(B, BAR_INTERVAL, ""),
            Replace(B, "import \"ampy/common/v1/common.proto\";", "import \"ampy/bars/v1/interval.proto\";\nimport \"ampy/common/v1/common.proto\";"),
            Write("proto/ampy/bars/v1/interval.proto", INTERVAL_FILE),
            Replace(R, "    - ampy/bars/v1/bars.proto\n", "    - ampy/bars/v1/bars.proto\n    - ampy/bars/v1/interval.proto\n"),
        ],
    ),
    case("option_go_package", &[Replace(B, "package ampy.bars.v1;", "package ampy.bars.v1;\n\noption go_package = \"example.com/ampy/bars/v1;barsv1\";")]),
    case("option_field_deprecated", &[Replace(B, "int32 trade_count = 11;", "int32 trade_count = 11 [deprecated = true];")]),
    case("option_message_deprecated", &[Replace(B, "message BarInterval {", "message BarInterval {\n  option deprecated = true;")]),
    case("registry_description_only", &[Replace(R, "description: OHLCV bars per instrument and interval.", "description: OHLCV candles.")]),
    // No subject, key or schema moves: not a change, not a stale lock.
    case(
        "key_field_renamed_everywhere",
        &[
            Replace(R, "subtopic: \"trade.{symbol}\"", "subtopic: \"trade.{sym}\""),
            Replace(R, "symbol: trades[*].security.symbol\n                mic: trades[*].security.mic\n              format: \"{symbol}.{mic}\"", "sym: trades[*].security.symbol\n                mic: trades[*].security.mic\n              format: \"{sym}.{mic}\""),
        ],
    ),
    case("qos_description_only", &[Replace(R, "description: Market data streams.", "description: Quotes, trades and bars.")]),
    // Wire level.
    case("field_removed_unreserved", &[Replace(B, "  int32 trade_count = 11;\n", "")])
        .finds("breaking-wire", "compat::breaking_wire", B, "message Bar {")
        .refused(),
    case("field_removed_number_reserved_only", &[Replace(B, "  int32 trade_count = 11;\n", "  reserved 11;\n")])
        .finds("breaking-json", "compat::breaking_json", B, "message Bar {")
        .refused(),
    case(
        "field_removed_number_and_name_reserved",
        &[Replace(B, "  int32 trade_count = 11;\n", "  reserved 11;\n  reserved \"trade_count\";\n"), PATCH],
    )
    .finds("compatible", "compat::compatible", B, "message Bar {"),
    case("field_number_reused_with_other_type", &[Replace(B, "  int32 trade_count = 11;\n", "  string venue = 11;\n")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  string venue = 11;")
        .refused(),
    case("int32_to_string", &[Replace(B, "int32 count = 2;", "string count = 2;")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  string count = 2;")
        .refused(),
    // Same wire bytes, different proto3 JSON: breaking at the JSON level.
    case("enum_to_int32", &[Replace(B, "  AdjustmentPolicy adjustment_policy = 13;", "  int32 adjustment_policy = 13;")])
        .finds("breaking-json", "compat::breaking_json", B, "  int32 adjustment_policy = 13;")
        .refused(),
    // Old readers reject new bytes that are not UTF-8: a wire break.
    case("string_to_bytes", &[Replace(B, "  string currency = 14;", "  bytes currency = 14;")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  bytes currency = 14;")
        .refused(),
    // New readers read old data unchanged; old readers truncate new values.
    case("int32_to_int64_widened", &[Replace(B, "int32 trade_count = 11;", "int64 trade_count = 11;"), PATCH])
        .finds("breaking-wire", "compat::breaking_wire", B, "  int64 trade_count = 11;")
        .refused(),
    case("int64_to_int32_narrowed", &[Replace(B, "int64 volume = 10;", "int32 volume = 10;")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  int32 volume = 10;")
        .refused(),
    case("singular_to_repeated", &[Replace(B, "  string currency = 14;", "  repeated string currency = 14;")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  repeated string currency = 14;")
        .refused(),
    case("repeated_to_singular", &[Replace(T, "  repeated string conditions = 6;", "  string conditions = 6;")])
        .finds("breaking-wire", "compat::breaking_wire", T, "  string conditions = 6;")
        .refused(),
    case(
        "moved_into_oneof",
        &[Replace(CTRL, "    KeyScope keys = 6;\n  }\n  // Why the replay is requested, e.g. \"backfill after ingest outage\".\n  string reason = 7;", "    KeyScope keys = 6;\n    string reason = 7;\n  }")],
    )
    .finds("breaking-wire", "compat::breaking_wire", CTRL, "    string reason = 7;")
    .refused(),
    case("moved_out_of_oneof", &[Replace(CTRL, "    // Partition keys, for orders, fills and positions.\n    KeyScope keys = 6;\n  }", "  }\n  KeyScope keys = 6;")])
        .finds("breaking-wire", "compat::breaking_wire", CTRL, "  KeyScope keys = 6;")
        .refused(),
    case("proto3_optional_added", &[Replace(B, "  string currency = 14;", "  optional string currency = 14;"), PATCH])
        .finds("compatible", "compat::compatible", B, "  optional string currency = 14;"),
    case("shared_message_field_removed", &[Replace(COMMON, "  string figi = 3;\n", "")])
        .finds("breaking-wire", "compat::breaking_wire", COMMON, "message SecurityId {")
        .refused(),
    // Same shape under another name: wire and JSON unchanged, generated
    // code names move.
    case("referenced_message_renamed", &[Replace(B, "message BarInterval {", "message BarSize {"), Replace(B, "  BarInterval interval = 4;", "  BarSize interval = 4;"), PATCH])
        .finds("compatible", "compat::api_changed", B, "  BarSize interval = 4;"),
    case(
        "referenced_message_replaced_by_other_shape",
        &[Replace(B, "message BarInterval {", "message BarSize {"), Replace(B, "  BarInterval interval = 4;", "  BarSize interval = 4;"), Replace(B, "  int32 count = 2;", "  uint32 count = 2;")],
    )
    .finds("breaking-wire", "compat::breaking_wire", B, "  BarSize interval = 4;")
    .refused(),
    case("reservation_dropped", &[Replace(B, "  reserved 20;\n", "")])
        .after(&[RESERVE_20])
        .finds("compatible", "compat::caution", B, "message Bar {"),
    case("reserved_number_reused", &[Replace(B, "  reserved 20;\n", "  string venue = 20;\n"), MINOR])
        .after(&[RESERVE_20])
        .finds("breaking-wire", "compat::breaking_wire", B, "  string venue = 20;")
        .refused(),
    // Enums.
    case("enum_value_removed", &[Replace(B, "  INTERVAL_UNIT_MONTH = 6;\n", "")])
        .finds("breaking-wire", "compat::breaking_wire", B, "enum IntervalUnit {")
        .refused(),
    case("enum_value_renumbered", &[Replace(B, "INTERVAL_UNIT_MONTH = 6;", "INTERVAL_UNIT_MONTH = 7;")])
        .finds("breaking-wire", "compat::breaking_wire", B, "  INTERVAL_UNIT_MONTH = 7;")
        .refused(),
    case("enum_value_removed_and_reserved", &[Replace(B, "  INTERVAL_UNIT_MONTH = 6;\n", "  reserved 6;\n  reserved \"INTERVAL_UNIT_MONTH\";\n"), PATCH])
        .finds("compatible", "compat::compatible", B, "enum IntervalUnit {"),
    case("enum_value_added", &[Replace(B, "  INTERVAL_UNIT_MONTH = 6;\n", "  INTERVAL_UNIT_MONTH = 6;\n  INTERVAL_UNIT_QUARTER = 7;\n"), MINOR])
        .finds("compatible", "compat::compatible", B, "  INTERVAL_UNIT_QUARTER = 7;"),
    // JSON level.
    case("enum_value_renamed", &[Replace(B, "INTERVAL_UNIT_MONTH = 6;", "INTERVAL_UNIT_MON = 6;")])
        .finds("breaking-json", "compat::breaking_json", B, "  INTERVAL_UNIT_MON = 6;")
        .refused(),
    case("field_renamed", &[Replace(B, "bool is_final = 17;", "bool final = 17;")])
        .finds("breaking-json", "compat::breaking_json", B, "  bool final = 17;")
        .refused(),
    case(
        "field_renamed_json_relaxed",
        &[
            Replace(B, "bool is_final = 17;", "bool final = 17;"),
            Replace(R, "    qos: realtime\n    versions:\n      v1:\n        topics:\n          bars:", "    qos: realtime\n    compat: {json: false}\n    versions:\n      v1:\n        topics:\n          bars:"),
            PATCH,
        ],
    )
    .finds("compatible", "compat::compatible", B, "  bool final = 17;"),
    case("json_name_changed", &[Replace(B, "bool is_final = 17;", "bool is_final = 17 [json_name = \"final\"];")])
        .finds("breaking-json", "compat::breaking_json", B, "  bool is_final = 17")
        .refused(),
    // Additions and the version rules.
    case("field_added_without_bump", &[Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  string venue = 18;\n")])
        .finds("compatible", "compat::version_not_bumped", R, BARS_VERSION_LINE)
        .refused(),
    case("field_added_with_patch_bump", &[Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  string venue = 18;\n"), PATCH])
        .finds("compatible", "compat::minor_bump_required", R, "schema_version: 1.0.1")
        .refused(),
    case("field_added_with_minor_bump", &[Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  string venue = 18;\n"), MINOR])
        .finds("compatible", "compat::compatible", B, "  string venue = 18;"),
    case(
        "message_added",
        &[Replace(B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  BarStats stats = 18;\n"), Append(B, "\nmessage BarStats {\n  int64 trades = 1;\n}\n"), MINOR],
    )
    .finds("compatible", "compat::compatible", B, "message BarStats {"),
    // Routing level.
    case("subtopic_changed", &[Replace(R, "subtopic: \"trade.{symbol}\"", "subtopic: \"trades.{symbol}\"")])
        .finds("breaking-routing", "compat::breaking_routing", R, "            subtopic: \"trades.{symbol}\"")
        .refused(),
    case("key_path_changed", &[Replace(R, "mic: bars[*].security.mic\n", "mic: bars[0].security.mic\n")])
        .finds("breaking-routing", "compat::breaking_routing", R, "                mic: bars[0].security.mic")
        .refused(),
    case("key_format_changed", &[Replace(R, "format: \"{account_id}|{client_order_id}\"", "format: \"{account_id}:{client_order_id}\"")])
        .finds("breaking-routing", "compat::breaking_routing", R, "              format: \"{account_id}:{client_order_id}\"")
        .refused(),
    case("key_field_repointed_to_other_type", &[Replace(R, "                client_order_id: client_order_id\n              format: \"{account_id}|", "                client_order_id: side\n              format: \"{account_id}|")])
        .finds("breaking-routing", "compat::breaking_routing", R, "                client_order_id: side")
        .refused(),
    case("key_field_type_changed_in_proto", &[Replace(FILLS, "  string account_id = 2;", "  int64 account_id = 2;")])
        .finds("breaking-wire", "compat::breaking_routing", R, "                account_id: account_id\n                client_order_id: client_order_id")
        .also(&["compat::breaking_wire"])
        .refused(),
    case("dlq_subtopic_changed", &[Replace(R, "subtopic: \"{source_domain}\"", "subtopic: \"dead.{source_domain}\"")])
        .finds("breaking-routing", "compat::breaking_routing", R, "            subtopic: \"dead.{source_domain}\"")
        .refused(),
    // Topics, versions, domains.
    case("new_topic", &[Replace(R, "          quote:\n", NEW_TICKS_TOPIC)])
        .finds("compatible", "compat::topic_added", R, "          imbalance:"),
    case("new_domain", &[Append(R, NEW_DOMAIN)]).finds("compatible", "compat::topic_added", R, "          quotes:"),
    case(
        "new_v2_next_to_v1",
        &[
            CopyReplace(B, "proto/ampy/bars/v2/bars.proto", "ampy.bars.v1", "ampy.bars.v2"),
            Replace("proto/ampy/bars/v2/bars.proto", "int64 volume = 10;", "double volume = 10;"),
            Replace(R, "    - ampy/bars/v1/bars.proto\n", "    - ampy/bars/v1/bars.proto\n    - ampy/bars/v2/bars.proto\n"),
            Replace(R, "  ticks:\n", BARS_V2),
        ],
    )
    .finds("compatible", "compat::topic_added", R, "          bars:\n            subtopic: \"{mic}.{symbol}\"\n            payload: ampy.bars.v2"),
    case("version_removed_without_deprecation", &[Truncate(R, "  control:\n")])
        .finds("breaking-routing", "compat::topic_removed", LOCK, "    \"control.v1.replay_requests\": {")
        .refused(),
    case("version_deprecated", &[CONTROL_DEPRECATED])
        .finds("compatible", "compat::compatible", R, "        deprecated: {since: \"2026-11-01\""),
    case("version_removed_after_deprecation", &[Truncate(R, "  control:\n")])
        .after(&[CONTROL_DEPRECATED])
        .finds("compatible", "compat::topic_retired", LOCK, "    \"control.v1.replay_requests\": {"),
    // Delivery level: what consumers do with the same bytes and subjects.
    case("dedupe_changed", &[Replace(R, "            dedupe: fill_id\n", "            dedupe: broker_order_id\n")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "            dedupe: broker_order_id")
        .refused(),
    case("dedupe_removed", &[Replace(R, "            dedupe: fill_id\n", "")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "          events:\n            subtopic: events\n            payload: ampy.fills")
        .refused(),
    case("ordering_changed", &[Replace(R, "            ordering: event_time\n            dedupe: fill_id\n", "            ordering: ingest_time\n            dedupe: fill_id\n")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "            ordering: ingest_time")
        .refused(),
    case("qos_tier_delivery_changed", &[Replace(R, "  realtime:\n    delivery: at_least_once", "  realtime:\n    delivery: at_most_once")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "  realtime:\n    delivery: at_most_once")
        .refused(),
    // Kafka partitions: keys move between partitions, per-key order breaks.
    case("qos_tier_partitions_changed", &[Replace(R, "    max_age_hours: 720           # 30 days", "    partitions: 12\n    max_age_hours: 720           # 30 days")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "  critical:\n    delivery: at_least_once")
        .refused(),
    case("domain_partitions_added", &[Replace(R, "    qos: critical\n    versions:\n      v1:\n        topics:\n          requests:", "    qos: critical\n    partitions: 12\n    versions:\n      v1:\n        topics:\n          requests:")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "          requests:")
        .refused(),
    case("qos_tier_p99_changed", &[Replace(R, "    p99_ms: 150\n", "    p99_ms: 120\n")])
        .finds("compatible", "compat::compatible", R, "  realtime:\n    delivery: at_least_once\n    p99_ms: 120"),
    // `standard` leaves the broker settings at their defaults, `critical` does not.
    case("qos_domain_moved_to_other_tier", &[Replace(R, "description: Executions per order; may arrive out of order, so accumulate.\n    qos: critical", "description: Executions per order; may arrive out of order, so accumulate.\n    qos: standard")])
        .finds("breaking-delivery", "compat::breaking_delivery", R, "    qos: standard\n    versions:\n      v1:\n        topics:\n          events:\n            subtopic: events\n            payload: ampy.fills")
        .refused(),
    // A tier with the same settings but another name and target: compatible.
    case("qos_domain_moved_to_equivalent_tier", &[
        Replace(R, "  standard:\n    delivery: at_least_once\n", "  trading:\n    delivery: at_least_once\n    max_deliveries: 5\n    nak_backoff_ms: [250, 1000, 5000]\n    max_age_hours: 720\n  standard:\n    delivery: at_least_once\n"),
        Replace(R, "description: Executions per order; may arrive out of order, so accumulate.\n    qos: critical", "description: Executions per order; may arrive out of order, so accumulate.\n    qos: trading"),
    ])
        .finds("compatible", "compat::compatible", R, "    qos: trading\n    versions:\n      v1:\n        topics:\n          events:\n            subtopic: events\n            payload: ampy.fills"),
    case("json_compat_relaxed", &[Replace(R, "    qos: realtime\n    versions:\n      v1:\n        topics:\n          bars:", "    qos: realtime\n    compat: {json: false}\n    versions:\n      v1:\n        topics:\n          bars:")])
        .finds("compatible", "compat::caution", R, "    compat: {json: false}"),
    // Registry-wide routing: the first subject tokens.
    case("namespace_changed", &[Replace(R, "namespace: ampy\n", "namespace: ampyx\n")])
        .finds("breaking-routing", "compat::breaking_routing", R, "namespace: ampyx")
        .refused(),
    case("env_removed", &[Replace(R, "envs: [dev, paper, prod]", "envs: [dev, prod]")])
        .finds("breaking-routing", "compat::breaking_routing", R, "envs: [dev, prod]")
        .refused(),
    case("env_added", &[Replace(R, "envs: [dev, paper, prod]", "envs: [dev, paper, prod, uat]")])
        .finds("compatible", "compat::compatible", R, "envs: [dev, paper, prod, uat]"),
    // Acceptances.
    case("accepted_break_passes", &[Replace(B, "int64 volume = 10;", "double volume = 10;"), ACCEPT_VOLUME, MINOR])
        .finds("breaking-wire", "compat::accepted", B, "  double volume = 10;"),
    case("accepted_break_without_bump", &[Replace(B, "int64 volume = 10;", "double volume = 10;"), ACCEPT_VOLUME])
        .finds("breaking-wire", "compat::version_not_bumped", R, BARS_VERSION_LINE)
        .refused(),
    case("stale_acceptance_fails", &[Replace(B, "int64 volume = 10;", "float volume = 10;"), ACCEPT_VOLUME, MINOR])
        .finds("breaking-wire", "compat::breaking_wire", B, "  float volume = 10;")
        .also(&["compat::stale_acceptance"])
        .refused(),
];

fn apply(root: &Path, edits: &[Edit], name: &str) {
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{name}: read {f}: {e}"));
    let write = |f: &str, text: &str| {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    for edit in edits {
        match *edit {
            Replace(f, from, to) => {
                let text = read(f);
                assert!(text.contains(from), "{name}: `{from}` not found in {f}");
                write(f, &text.replacen(from, to, 1));
            }
            Write(f, text) => write(f, text),
            CopyReplace(from, to, a, b) => write(to, &read(from).replace(a, b)),
            Truncate(f, marker) => {
                let text = read(f);
                let at = text.find(marker).unwrap_or_else(|| panic!("{name}: `{marker}` not found in {f}"));
                write(f, &text[..at]);
            }
            Append(f, more) => write(f, &(read(f) + more)),
        }
    }
}

fn rank(class: &str) -> u8 {
    match class {
        "compatible" => 0,
        "breaking-json" => 1,
        "breaking-delivery" => 2,
        "breaking-routing" => 3,
        "breaking-wire" => 4,
        other => panic!("unknown class {other}"),
    }
}

fn run(case: &Case) {
    let name = case.name;
    let dir = default_layout();
    let root = dir.path();
    if !case.prelude.is_empty() {
        apply(root, case.prelude, name);
        let out = ampygen(root).arg("lock").output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{name}: prelude lock: {}", String::from_utf8_lossy(&out.stderr));
    }
    apply(root, case.edits, name);
    let out = ampygen(root).args(["check", "--format", "json"]).output().expect("run");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let findings = report["findings"].as_array().expect("findings");
    let shown = serde_json::to_string_pretty(findings).expect("json");
    assert_eq!(out.status.code(), Some(case.check_exit), "{name}: check exit\n{shown}");
    assert_eq!(report["ok"], case.check_exit == 0, "{name}");
    let worst = findings.iter().filter_map(|f| f["class"].as_str()).max_by_key(|c| rank(c));
    assert_eq!(worst, case.class, "{name}: class\n{shown}");
    if let (Some(code), Some((file, marker))) = (case.code, case.at) {
        let text = std::fs::read_to_string(root.join(file)).expect("read");
        let at = text.find(marker).unwrap_or_else(|| panic!("{name}: marker `{marker}` not in {file}"));
        let line = text[..at].matches('\n').count() as u64 + 1;
        let hit = findings.iter().any(|f| f["code"] == code && f["file"] == file && f["line"] == line);
        assert!(hit, "{name}: no `{code}` at {file}:{line}\n{shown}");
    }
    for code in case.also {
        assert!(findings.iter().any(|f| f["code"] == *code), "{name}: no `{code}`\n{shown}");
    }
    for f in findings.iter().filter(|f| f["class"].as_str().is_some_and(|c| c.starts_with("breaking"))) {
        if f["severity"] == "error" && f["code"] != "compat::topic_removed" {
            let fp = f["fingerprint"].as_str().unwrap_or_default();
            assert!(fp.len() == 16 && f["help"].as_str().unwrap_or_default().contains(fp), "{name}: {f}");
        }
    }
    let before = snapshot_tree(root);
    let out = ampygen(root).arg("lock").output().expect("run");
    assert_eq!(out.status.code(), Some(case.lock_exit), "{name}: lock exit: {}", String::from_utf8_lossy(&out.stderr));
    if case.lock_exit == 0 {
        let out = ampygen(root).arg("check").output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{name}: check after lock: {}", String::from_utf8_lossy(&out.stderr));
    } else {
        assert!(String::from_utf8_lossy(&out.stderr).contains("lock refused"), "{name}");
        assert_eq!(snapshot_tree(root), before, "{name}: a refused lock writes nothing");
    }
}

#[test]
fn mutation_corpus() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names are unique");
    for case in CASES {
        run(case);
    }
}

/// Fingerprints are part of the registry (acceptances), so they must not
/// move between runs, machines or ampygen builds for the same change.
#[test]
fn fingerprints_are_stable_and_printed_for_copying() {
    let dir = default_layout();
    apply(dir.path(), &[Replace(B, "int64 volume = 10;", "double volume = 10;")], "fingerprint");
    let out = ampygen(dir.path()).args(["--diagnostics", "short", "check"]).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("fingerprint: {VOLUME_TO_DOUBLE}")), "{stderr}");
    assert!(stderr.contains(&format!("accept_breaking: [{{fingerprint: \"{VOLUME_TO_DOUBLE}\"")), "{stderr}");
    let Replace(_, _, accepted) = ACCEPT_VOLUME else { unreachable!() };
    assert!(accepted.contains(VOLUME_TO_DOUBLE));
}

/// What a reviewer sees for a break: the class, the proto line, the
/// affected topics, old and new, and the two ways out with the fingerprint.
#[test]
fn human_output_for_a_breaking_change() {
    let dir = default_layout();
    apply(dir.path(), &[Replace(B, "  bool is_final = 17;", "  repeated bool is_final = 17;")], "human");
    let out = ampygen(dir.path()).arg("check").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let gate = stderr.split("compat::breaking_wire").nth(1).expect("the classified finding");
    insta::assert_snapshot!(format!("compat::breaking_wire{gate}"));
}
