// Enums are checked value by value, as prost-build names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "tests/fixtures/wire.yaml", enumeration = "acme.ticks.v1.Side")]
pub enum Side {
    Unspecified = 0,
    Buy = 1,
    Short = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "tests/fixtures/wire.yaml", enumeration = "acme.ticks.v1.Side")]
pub enum Renamed {
    Unspecified = 0,
    Bid = 1,
    Sell = 2,
}

fn main() {}
