#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topik = "bars.v1")]
pub struct BarBatch {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1", colour = "blue")]
pub struct Other {
    pub bars: Vec<()>,
}

fn main() {}
