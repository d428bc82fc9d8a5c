//! The "Running on NATS" example of docs/rust.md, run against a real
//! server; a second test keeps the page and this file identical.

#[path = "support/docs.rs"]
mod docs;
#[path = "support/nats_server.rs"]
mod nats_server;

#[test]
fn running_on_nats_example() {
    let Some(server) = nats_server::Server::start("running_on_nats_example") else { return };
    let url = server.url();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(example(&url)).unwrap();
}

// docs:start
use std::time::Duration;

use ampy_bus::nats::{Body, Bus, HandlerError, Metrics};
use ampy_example::contract::{ampy::bars::v1::BarBatch, topics::bars::v1::Bars, transport, Env};

async fn example(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let metrics = Metrics::new();
    let bus = Bus::connect(url, &transport::LAYOUT, Env::Dev).await?.with_observer(metrics.clone());
    bus.provision(Default::default()).await?; // the env's streams, as the registry says

    // Publish: subject, key, schema headers and Nats-Msg-Id from the bindings.
    let publisher = bus.publisher::<Bars>().producer("ingest@1").source("yfinance-go").build()?;
    let batch: BarBatch = ampy_example::sample_bars("AAPL");
    let published = publisher.publish(batch.clone()).await?; // awaits the JetStream ack
    assert_eq!(published.subject.as_str(), "ampy.dev.bars.v1.XNAS.AAPL");

    // Consume: a durable pull consumer; ack on Ok, nak with backoff on Err,
    // the DLQ after the tier's max_deliveries.
    let mut consumer = bus.consumer::<Bars>("bar-writer").build().await?;
    let mut received = Vec::new();
    consumer
        .drain(
            async |delivery| match delivery.body {
                Body::Payload(bars) => {
                    received.push((delivery.headers.partition_key, bars));
                    Ok(())
                }
                Body::Pointer(_) => Err(HandlerError::permanent("unexpected_pointer", "no blob store here")),
            },
            Duration::from_secs(1),
        )
        .await?;
    assert_eq!(received, [("XNAS.AAPL".to_owned(), batch)]);
    assert!(metrics.render().contains("bus_consumed_total{topic=\"bars.v1.bars\",consumer=\"bar-writer\"} 1"));
    Ok(())
}
// docs:end

#[test]
fn docs_show_this_example() {
    docs::assert_docs_show("Running on NATS", include_str!("nats_docs.rs"), "nats_docs.rs");
}
