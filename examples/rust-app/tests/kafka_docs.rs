//! The "Running on Kafka" example of docs/rust.md, run against the real
//! broker; a second test keeps the page and this file identical.

#[path = "support/docs.rs"]
mod docs;
#[path = "support/kafka_broker.rs"]
mod kafka_broker;

#[test]
fn running_on_kafka_example() {
    let Some(broker) = kafka_broker::Broker::get("running_on_kafka_example") else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // What `ampygen provision kafka --env dev` creates for these topics.
    rt.block_on(broker.fresh_topics(&["ampy.dev.bars.v1", "ampy.dev.dlq.v1"], 6));
    rt.block_on(example(&broker.bootstrap)).unwrap();
}

// docs:start
use std::time::Duration;

use ampy_bus::kafka::{partition_for, Body, Bus, Delivery, HandlerError, Metrics};
use ampy_example::contract::{ampy::bars::v1::BarBatch, topics::bars::v1::Bars, transport, Env};

async fn example(bootstrap: &str) -> Result<(), Box<dyn std::error::Error>> {
    let metrics = Metrics::new();
    // The env's topics exist already: `ampygen provision kafka --bootstrap … --env dev`.
    let bus = Bus::connect(bootstrap, &transport::LAYOUT, Env::Dev).await?.with_observer(metrics.clone());

    // Publish: Kafka topic, record key and schema headers from the bindings;
    // the partition is Java's murmur2 rule over the key, whatever the client.
    let publisher = bus.publisher::<Bars>().producer("ingest@1").source("yfinance-go").build()?;
    let batch: BarBatch = ampy_example::sample_bars("AAPL");
    let published = publisher.publish(batch.clone()).await?; // awaits the delivery report
    assert_eq!(published.topic, "ampy.dev.bars.v1");
    let key = published.subject.kafka_key("XNAS.AAPL"); // "XNAS.AAPL XNAS.AAPL"
    assert_eq!(published.partition, partition_for(key.as_bytes(), bus.partition_count(&published.topic, false).await?));

    // Consume: a consumer group; the offset is stored once the handler
    // returns Ok (or the record's dead letter is stored), retries happen in
    // process, and the DLQ follows the tier's max_deliveries.
    let mut consumer = bus.consumer::<Bars>("bar-writer").build().await?;
    let mut received = Vec::new();
    let handler = async |delivery: Delivery<BarBatch>| {
        let Body::Payload(bars) = delivery.body else {
            return Err(HandlerError::permanent("unexpected_pointer", "no blob store here"));
        };
        received.push((delivery.info.partition, bars));
        Ok(())
    };
    let stats = consumer.drain(handler, Duration::from_secs(2)).await?; // then commits
    assert_eq!((stats.consumed, received), (1, vec![(published.partition, batch)]));
    assert_eq!(metrics.counter("bus_consumed_total", &[("topic", "bars.v1.bars"), ("consumer", "bar-writer")]), 1);
    Ok(())
}
// docs:end

#[test]
fn docs_show_this_example() {
    docs::assert_docs_show("Running on Kafka", include_str!("kafka_docs.rs"), "kafka_docs.rs");
}
