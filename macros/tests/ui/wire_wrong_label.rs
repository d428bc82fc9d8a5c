// A repeated field declared singular: every flag but the last would be lost.
include!("../fixtures/ticks.rs");

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<Venue>,
    #[prost(string, tag = "2")]
    pub symbol: String,
    #[prost(int64, tag = "3")]
    pub price: i64,
    #[prost(string, tag = "4")]
    pub flags: String,
    #[prost(enumeration = "Side", tag = "5")]
    pub side: i32,
    #[prost(message, optional, tag = "6")]
    pub at: Option<ampy_bus::prost_types::Timestamp>,
}

fn main() {}
