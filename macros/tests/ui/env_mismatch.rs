// tests/fixtures/two_envs.yaml has envs [dev, prod]: `ampy_bus::Env` (the
// contract's dev, paper, prod) would let `Env::Paper` form a subject the
// registry does not have, so the derive needs an env type of its own.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/two_envs.yaml", topic = "ticks.v1")]
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

mod named {
    #[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
    #[ampy(registry = "tests/fixtures/two_envs.yaml", topic = "ticks.v1", env = "ampy_bus::Env")]
    pub struct Tick {
        #[prost(message, optional, tag = "1")]
        pub venue: Option<super::Venue>,
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
#[ampy(registry = "tests/fixtures/two_envs.yaml", message = "acme.ticks.v1.Venue")]
pub struct Venue {
    #[prost(string, tag = "1")]
    pub mic: String,
    #[prost(string, tag = "2")]
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "tests/fixtures/two_envs.yaml", enumeration = "acme.ticks.v1.Side")]
pub enum Side {
    Unspecified = 0,
    Buy = 1,
    Sell = 2,
}

fn main() {}
