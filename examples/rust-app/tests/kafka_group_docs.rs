//! The "Consuming several topics in one group" example of docs/rust.md,
//! run against the real broker; a second test keeps the page and this file
//! identical.

#[path = "support/docs.rs"]
mod docs;
#[path = "support/kafka_broker.rs"]
mod kafka_broker;

#[test]
fn consuming_several_topics_in_one_group_example() {
    let Some(broker) = kafka_broker::Broker::get("consuming_several_topics_in_one_group_example") else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(broker.fresh_topics(&["ampy.dev.ticks.v1", "ampy.dev.bars.v1", "ampy.dev.dlq.v1"], 6));
    rt.block_on(example(&broker.bootstrap)).unwrap();
}

// docs:start
use std::time::Duration;

use ampy_bus::kafka::{Body, Bus, Delivery, HandlerError, RouteOptions};
use ampy_example::contract::ampy::ticks::v1::{QuoteBatch, TradeBatch};
use ampy_example::contract::topics::{bars::v1::Bars, ticks::v1::Quote, ticks::v1::Trade};
use ampy_example::contract::{transport, Env};
use ampy_example::{sample_bars, sample_quotes, sample_trades};

async fn example(bootstrap: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::connect(bootstrap, &transport::LAYOUT, Env::Dev).await?;
    bus.publisher::<Trade>().producer("ticks@1").build()?.publish(sample_trades("AAPL")).await?;
    bus.publisher::<Quote>().producer("ticks@1").build()?.publish(sample_quotes("AAPL")).await?;
    bus.publisher::<Bars>().producer("bars@1").build()?.publish(sample_bars("AAPL")).await?;

    // One member of group "market-writer" over three registry topics, each
    // with a handler of its own payload type. Trade and Quote are siblings
    // in the Kafka topic ampy.dev.ticks.v1; records go to the route whose
    // subtopic pattern (trade.*, quote.*) matches the record key.
    let (mut trades, mut quotes, mut bars) = (Vec::new(), Vec::new(), 0);
    let mut group = bus
        .group("market-writer")
        .route::<Trade, _>(async |d: Delivery<TradeBatch>| {
            let Body::Payload(batch) = d.body else {
                return Err(HandlerError::permanent("unexpected_pointer", "no blob store here"));
            };
            trades.extend(batch.trades);
            Ok(())
        })
        .route::<Quote, _>(async |d: Delivery<QuoteBatch>| {
            quotes.push(d.headers.message_id);
            Ok(())
        })
        // This route's own retry bound; the others keep their tier's.
        .route_with::<Bars, _>(RouteOptions::default().max_deliveries(5), async |_d| {
            bars += 1;
            Ok(())
        })
        .build()
        .await?;
    assert_eq!(group.kafka_topics(), ["ampy.dev.ticks.v1", "ampy.dev.bars.v1"]);
    let stats = group.drain(Duration::from_secs(2)).await?; // then commits
    drop(group); // the handlers borrow `trades`, `quotes` and `bars` until here
    assert_eq!((stats.consumed, stats.skipped), (3, 0));
    assert_eq!((trades.len(), quotes.len(), bars), (1, 1, 1));
    Ok(())
}
// docs:end

#[test]
fn docs_show_this_example() {
    docs::assert_docs_show(
        "Consuming several topics in one group",
        include_str!("kafka_group_docs.rs"),
        "kafka_group_docs.rs",
    );
}
