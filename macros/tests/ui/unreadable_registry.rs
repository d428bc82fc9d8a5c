#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/missing.yaml", topic = "bars.v1")]
pub struct BarBatch {
    pub bars: Vec<()>,
}

fn main() {}
