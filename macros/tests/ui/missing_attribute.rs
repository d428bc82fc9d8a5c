#[derive(ampy_bus::Payload)]
pub struct NoAttribute {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml")]
pub struct NoTopic {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy(domain = "quotes", version = "v1")]
pub struct HalfExplicit {
    pub symbol: String,
}

#[derive(ampy_bus::Payload)]
#[ampy()]
pub struct Empty {
    pub symbol: String,
}

fn main() {}
