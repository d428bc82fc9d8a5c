// `#[derive(WireShape)]` names one definition of the registry.
#[derive(ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire.yaml", message = "acme.ticks.v1.Venu")]
pub struct Venue {
    pub mic: String,
}

#[derive(ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire.yaml", message = "acme.ticks.v1.Side")]
pub enum Side {
    Unspecified = 0,
}

#[derive(ampy_bus::WireShape)]
#[ampy(message = "acme.ticks.v1.Venue")]
pub struct NoRegistry {
    pub mic: String,
}

#[derive(ampy_bus::WireShape)]
#[ampy(registry = "tests/fixtures/wire.yaml", message = "acme.ticks.v1.Venue", enumeration = "acme.ticks.v1.Side")]
pub struct Both {
    pub mic: String,
}

#[derive(ampy_bus::WireShape)]
pub struct Nothing {
    pub mic: String,
}

fn main() {}
