//! docs/rust.md's derive example compiles, routes, and is what the doc
//! shows: the doc's code block is docs/examples/derive_metrics.rs with the
//! registry path a crate at the repository root would write.

include!("../../docs/examples/derive_metrics.rs");

#[test]
fn the_example_routes_a_metric() {
    let metric = Metric {
        service: "pricer".into(),
        name: "latency_ms".into(),
        r#type: MetricType::Gauge as i32,
        value: 4.2,
        labels: HashMap::from([("host".to_owned(), "a1".to_owned())]),
        histogram: Some(Histogram { bounds: vec![1.0, 5.0], counts: vec![3, 4, 0], sum: 9.5, count: 7 }),
        ..Default::default()
    };
    let routed = route(&metric).unwrap();
    assert_eq!(routed, ("ampy.prod.metrics.v1.pricer".to_owned(), "pricer|latency_ms".to_owned()));
    assert_eq!(<Metric as ampy_bus::WireShape>::PROTO, "ampy.metrics.v1.Metric");
    use ampy_bus::Schema as _;
    assert_eq!(Some(<Metric as ampy_bus::WireShape>::SHAPE), Metric::SCHEMA_HASH);
}

#[test]
fn the_doc_shows_the_example_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let doc = std::fs::read_to_string(format!("{root}/docs/rust.md")).unwrap();
    let file = std::fs::read_to_string(format!("{root}/docs/examples/derive_metrics.rs")).unwrap();
    let start = doc.find("```rust\n// The `metrics.v1` payload").expect("docs/rust.md shows the derive example") + 8;
    let end = start + doc[start..].find("```\n").expect("the code block ends");
    let shown = doc[start..end].replace("\"registry/ampy.yaml\"", "\"../registry/ampy.yaml\"");
    assert_eq!(shown, file, "docs/rust.md and docs/examples/derive_metrics.rs differ");
}
