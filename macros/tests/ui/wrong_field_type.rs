// prost represents `string` fields as `String` and messages as `Option<_>`.
#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "fills.v1")]
pub struct Fill {
    pub fill_id: String,
    pub account_id: i64,
    pub client_order_id: Option<String>,
}

#[derive(ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct BarBatch {
    pub bars: Option<Bar>,
}

pub struct Bar;

fn main() {}
