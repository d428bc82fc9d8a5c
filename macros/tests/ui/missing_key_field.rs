// The key paths of `bars.v1` start at `bars`, which this struct misspells.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct BarBatch {
    pub bar: Vec<Bar>,
}

pub struct Bar;

fn main() {}
