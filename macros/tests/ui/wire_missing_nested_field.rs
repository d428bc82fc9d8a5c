// A nested struct without one of its message's fields would drop it from
// every record it relays.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire.yaml", message = "acme.ticks.v1.Venue")]
pub struct Venue {
    #[prost(string, tag = "1")]
    pub mic: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "tests/fixtures/wire.yaml", enumeration = "acme.ticks.v1.Side")]
pub enum Side {
    Unspecified = 0,
    Buy = 1,
    Sell = 2,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<Venue>,
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
