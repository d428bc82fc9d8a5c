// Fields matched by name: a misnamed field (its tag is another field's),
// one the message does not have, one without `#[prost]`; the missing
// ones are reported on the struct.
include!("../fixtures/ticks.rs");

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<Venue>,
    #[prost(string, tag = "2")]
    pub ticker: String,
    #[prost(int64, tag = "3")]
    pub price: i64,
    #[prost(string, repeated, tag = "4")]
    pub flags: Vec<String>,
    #[prost(double, tag = "7")]
    pub size: f64,
}

#[derive(ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire.yaml", message = "acme.ticks.v1.Venue")]
pub struct NoAttributes {
    pub mic: String,
    pub name: String,
}

fn main() {}
