// int32 and int64 share a wire type, but a price over 2^31 would be cut.
include!("../fixtures/ticks.rs");

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<Venue>,
    #[prost(string, tag = "2")]
    pub symbol: String,
    #[prost(int32, tag = "3")]
    pub price: i32,
    #[prost(string, repeated, tag = "4")]
    pub flags: Vec<String>,
    #[prost(enumeration = "Side", tag = "5")]
    pub side: i32,
    #[prost(message, optional, tag = "6")]
    pub at: Option<ampy_bus::prost_types::Timestamp>,
}

fn main() {}
