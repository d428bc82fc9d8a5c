//! `ampy.common.v1`, written by hand as prost-build writes it, each type
//! derived with `WireShape` against the default registry so that payloads
//! can hold it.

#![allow(dead_code)]

use ampy_bus::prost_types::Timestamp;

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.common.v1.SecurityId")]
pub struct SecurityId {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(string, tag = "2")]
    pub mic: String,
    #[prost(string, tag = "3")]
    pub figi: String,
    #[prost(string, tag = "4")]
    pub isin: String,
}

#[derive(Clone, Copy, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.common.v1.Decimal")]
pub struct Decimal {
    #[prost(int64, tag = "1")]
    pub scaled: i64,
    #[prost(int32, tag = "2")]
    pub scale: i32,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.common.v1.Money")]
pub struct Money {
    #[prost(message, optional, tag = "1")]
    pub amount: Option<Decimal>,
    #[prost(string, tag = "2")]
    pub currency: String,
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

pub fn security(mic: &str, symbol: &str) -> SecurityId {
    SecurityId { symbol: symbol.into(), mic: mic.into(), ..Default::default() }
}
