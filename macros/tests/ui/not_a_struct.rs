#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub enum Bars {
    One,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct Tuple(Vec<()>);

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct Generic<T> {
    pub bars: Vec<T>,
}

fn main() {}
