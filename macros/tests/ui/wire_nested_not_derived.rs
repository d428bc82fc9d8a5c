// A held type must be derived (`WireShape`), or nothing checks it against
// the message its field holds: an error on the field.
include!("../fixtures/ticks.rs");

#[derive(Clone, PartialEq, prost::Message)]
pub struct PlainVenue {
    #[prost(string, tag = "1")]
    pub mic: String,
    #[prost(string, tag = "2")]
    pub name: String,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<PlainVenue>,
    #[prost(string, tag = "2")]
    pub symbol: String,
    #[prost(int64, tag = "3")]
    pub price: i64,
    #[prost(string, repeated, tag = "4")]
    pub flags: Vec<String>,
    #[prost(enumeration = "Side", tag = "5")]
    pub side: i32,
    #[prost(message, optional, tag = "6")]
    pub at: Option<ampy_bus::prost_types::Timestamp>,
}

fn main() {}
