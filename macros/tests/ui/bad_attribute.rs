// Wrong value types, a repeated key, a key without a value, a bare attribute.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = 1)]
pub struct A {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
#[ampy(topic = "fills.v1")]
pub struct B {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry, topic = "bars.v1")]
pub struct C {
    pub bars: Vec<()>,
}

#[derive(ampy_bus::Payload)]
#[ampy]
pub struct D {
    pub bars: Vec<()>,
}

fn main() {}
