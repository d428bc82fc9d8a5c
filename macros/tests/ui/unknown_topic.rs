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

// Dead letters carry the original record, not a payload type of their own.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "dlq.v1")]
pub struct DeadLetter {
    pub source_domain: String,
}

fn main() {}
