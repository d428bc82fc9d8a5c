// The `metrics.v1` payload of the default registry and every type it
// holds, derived and checked against the registry at compile time.
use std::collections::HashMap;

use ampy_bus::prost_types::Timestamp;
use ampy_bus::{Env, PartitionKey, RouteError};

/// `ampy.metrics.v1.MetricType`, as prost-build names it (prefix stripped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.metrics.v1.MetricType")]
pub enum MetricType {
    Unspecified = 0,
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.metrics.v1.Histogram")]
pub struct Histogram {
    #[prost(double, repeated, tag = "1")]
    pub bounds: Vec<f64>,
    #[prost(uint64, repeated, tag = "2")]
    pub counts: Vec<u64>,
    #[prost(double, tag = "3")]
    pub sum: f64,
    #[prost(uint64, tag = "4")]
    pub count: u64,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.common.v1.Meta")]
pub struct Meta {
    #[prost(string, tag = "1")]
    pub run_id: String,
    #[prost(string, tag = "2")]
    pub source: String,
    #[prost(string, tag = "3")]
    pub producer: String,
    #[prost(string, tag = "4")]
    pub schema_version: String,
    #[prost(message, optional, tag = "5")]
    pub produced_at: Option<Timestamp>,
    #[prost(string, repeated, tag = "6")]
    pub upstream_ids: Vec<String>,
    #[prost(string, tag = "7")]
    pub code_version: String,
}

/// The payload: the whole `ampy.metrics.v1.Metric`, field for field.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "metrics.v1")]
pub struct Metric {
    #[prost(string, tag = "1")]
    pub service: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(enumeration = "MetricType", tag = "3")]
    pub r#type: i32,
    #[prost(map = "string, string", tag = "4")]
    pub labels: HashMap<String, String>,
    #[prost(double, tag = "5")]
    pub value: f64,
    #[prost(message, optional, tag = "6")]
    pub histogram: Option<Histogram>,
    #[prost(string, tag = "7")]
    pub unit: String,
    #[prost(message, optional, tag = "8")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub event_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub meta: Option<Meta>,
}

/// Subject and partition key come from the registry's `metrics.v1` entry.
pub fn route(metric: &Metric) -> Result<(String, String), RouteError> {
    let subject = metric.topic_for(Env::Prod)?; // ampy.prod.metrics.v1.pricer
    let key = metric.partition_key()?; // pricer|latency_ms
    Ok((subject.into_string(), key))
}
