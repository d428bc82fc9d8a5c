// tests/fixtures/broken.yaml names a QoS tier that does not exist.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "tests/fixtures/broken.yaml", topic = "bars.v1")]
pub struct BarBatch {
    pub bars: Vec<()>,
}

fn main() {}
