// Only an env type's values form a subject: text never does, so a typo
// cannot create an env the registry does not have.
use ampy_bus::Topic;

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
    #[prost(string, repeated, tag = "4")]
    pub flags: Vec<String>,
    #[prost(enumeration = "Side", tag = "5")]
    pub side: i32,
    #[prost(message, optional, tag = "6")]
    pub at: Option<ampy_bus::prost_types::Timestamp>,
}

fn main() {
    let tick = Tick::default();
    let _ = tick.topic_for("staging");
    let _ = <Tick as Topic>::pattern("prod");
    let _ = ampy_bus::Dlq::new("staging");
}
