#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bar.v1")]
pub struct BarBatch {
    pub bars: Vec<()>,
}

// `ticks.v1` has two topics, so the short id is ambiguous.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "ticks.v1")]
pub struct TradeBatch {
    pub trades: Vec<()>,
}

fn main() {}
