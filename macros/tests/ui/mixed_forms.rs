// The registry defines the domain and key; the explicit settings conflict.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1", domain = "bars", key = "{symbol}")]
pub struct BarBatch {
    pub bars: Vec<()>,
}

fn main() {}
