// A held type derived for another message, or for another definition of
// the same message (fixtures/wire_other.yaml's `Venue` has a `country`),
// fails a compile-time assertion on the field that holds it.
include!("../fixtures/ticks.rs");

mod wrong_message {
    #[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
    #[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
    pub struct Tick {
        #[prost(message, optional, tag = "1")]
        pub venue: Option<super::Tick>,
        #[prost(string, tag = "2")]
        pub symbol: String,
        #[prost(int64, tag = "3")]
        pub price: i64,
        #[prost(string, repeated, tag = "4")]
        pub flags: Vec<String>,
        #[prost(enumeration = "super::Side", tag = "5")]
        pub side: i32,
        #[prost(message, optional, tag = "6")]
        pub at: Option<ampy_bus::prost_types::Timestamp>,
    }
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire_other.yaml", message = "acme.ticks.v1.Venue")]
pub struct OtherVenue {
    #[prost(string, tag = "1")]
    pub mic: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub country: String,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/wire.yaml", topic = "ticks.v1")]
pub struct Tick {
    #[prost(message, optional, tag = "1")]
    pub venue: Option<OtherVenue>,
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
