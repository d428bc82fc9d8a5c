//! Every prost-build option ampygen passes through, each with an effect
//! the tests observe (tests/passthrough.rs says which).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure()
        .registry("registry/pass.yaml")
        // Messages and enums of the package: Serialize.
        .type_attribute(".acme.pass.v1", "#[derive(serde::Serialize)]")
        // Messages only: camelCase field names (an enum would get camelCase
        // variant names, or a second `rename_all` next to the enum one).
        .message_attribute(".acme.pass.v1", "#[serde(rename_all = \"camelCase\")]")
        // Enums only: SCREAMING_SNAKE_CASE variant names.
        .enum_attribute(".acme.pass.v1.Side", "#[serde(rename_all = \"SCREAMING_SNAKE_CASE\")]")
        // One field each.
        .field_attribute(".acme.pass.v1.Trade.symbol", "#[serde(rename = \"ticker\")]")
        .field_attribute(".acme.pass.v1.Trade.payload", "#[serde(skip)]")
        .bytes([".acme.pass.v1.Trade.payload"])
        .btree_map([".acme.pass.v1.Trade.labels"])
        .compile()?;
    Ok(())
}
