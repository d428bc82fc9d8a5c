//! The contract's worked examples (../shared/contract.md, "Topics" and
//! "Keys and ordering"), routed through the generated bindings.

use ampy_bus::prost_types::Timestamp;
use ampy_bus::{PartitionKey, RouteError, Schema, Topic};
use ampy_example::contract::ampy::common::v1::SecurityId;
use ampy_example::contract::ampy::{bars, fills, fx, metrics, news, orders, positions, signals, ticks};
use ampy_example::contract::{topics, Env};

fn sec(symbol: &str, mic: &str) -> Option<SecurityId> {
    Some(SecurityId { symbol: symbol.into(), mic: mic.into(), ..Default::default() })
}

fn route<P: PartitionKey>(subject: Result<ampy_bus::Subject, RouteError>, p: &P) -> (String, String) {
    let subject = subject.unwrap_or_else(|e| panic!("{e}"));
    (subject.into_string(), p.partition_key().unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn bars_ticks_news_fx() {
    let bar = bars::v1::Bar { security: sec("AAPL", "XNAS"), ..Default::default() };
    let batch = bars::v1::BarBatch { bars: vec![bar.clone(), bar], ..Default::default() };
    assert_eq!(route(batch.topic_for(Env::Prod), &batch), ("ampy.prod.bars.v1.XNAS.AAPL".into(), "XNAS.AAPL".into()));

    let trades = ticks::v1::TradeBatch {
        trades: vec![ticks::v1::Trade { security: sec("MSFT", "XNAS"), ..Default::default() }],
        ..Default::default()
    };
    assert_eq!(
        route(trades.topic_for(Env::Prod), &trades),
        ("ampy.prod.ticks.v1.trade.MSFT".into(), "MSFT.XNAS".into())
    );

    let item = news::v1::NewsItem { id: "marketbeat:2025-09-05:amzn-headline-8b12c6".into(), ..Default::default() };
    assert_eq!(
        route(item.topic_for(Env::Prod), &item),
        ("ampy.prod.news.v1.raw".into(), "marketbeat:2025-09-05:amzn-headline-8b12c6".into())
    );
    assert_eq!(item.dedupe_key().as_deref(), Some("marketbeat:2025-09-05:amzn-headline-8b12c6"));

    // fx travels on two topics, so routing goes through the topic types.
    let rate = fx::v1::FxRate { base: "USD".into(), quote: "JPY".into(), ..Default::default() };
    assert_eq!(
        route(topics::fx::v1::Rates::topic_for(&rate, Env::Prod), &rate),
        ("ampy.prod.fx.v1.rates".into(), "USD.JPY".into())
    );
    assert_eq!(
        route(topics::fx::v1::Pair::topic_for(&rate, Env::Prod), &rate),
        ("ampy.prod.fx.v1.USD.JPY".into(), "USD.JPY".into())
    );
}

#[test]
fn signals_orders_fills_positions_metrics() {
    let signal = signals::v1::Signal {
        model_id: "hyper@2025-09-05".into(),
        security: sec("NVDA", "XNAS"),
        ..Default::default()
    };
    assert_eq!(
        route(signal.topic_for(Env::Prod), &signal),
        ("ampy.prod.signals.v1.hyper@2025-09-05".into(), "hyper@2025-09-05|NVDA.XNAS".into())
    );

    let order = orders::v1::OrderRequest { client_order_id: "co_20250905_001".into(), ..Default::default() };
    assert_eq!(
        route(order.topic_for(Env::Paper), &order),
        ("ampy.paper.orders.v1.requests".into(), "co_20250905_001".into())
    );

    let fill = fills::v1::Fill {
        account_id: "ALPACA-LIVE-01".into(),
        client_order_id: "co_20250905_001".into(),
        ..Default::default()
    };
    assert_eq!(
        route(fill.topic_for(Env::Prod), &fill),
        ("ampy.prod.fills.v1.events".into(), "ALPACA-LIVE-01|co_20250905_001".into())
    );

    let position = positions::v1::PositionSnapshot {
        account_id: "ALPACA-LIVE-01".into(),
        security: sec("AAPL", "XNAS"),
        ..Default::default()
    };
    assert_eq!(
        route(position.topic_for(Env::Prod), &position),
        ("ampy.prod.positions.v1.snapshots".into(), "ALPACA-LIVE-01|AAPL.XNAS".into())
    );

    let metric =
        metrics::v1::Metric { service: "ampy-oms".into(), name: "oms.order_rejects".into(), ..Default::default() };
    assert_eq!(
        route(metric.topic_for(Env::Prod), &metric),
        ("ampy.prod.metrics.v1.ampy-oms".into(), "ampy-oms|oms.order_rejects".into())
    );
}

#[test]
fn fundamentals_key_a_timestamp() {
    use ampy_example::contract::ampy::fundamentals::v1::FundamentalsSnapshot;
    let snap = FundamentalsSnapshot {
        security: sec("AAPL", "XNAS"),
        period_end: Some(Timestamp { seconds: 1_751_068_800, nanos: 0 }),
        source: "sec-edgar".into(),
        ..Default::default()
    };
    assert_eq!(snap.partition_key().unwrap(), "AAPL.XNAS|2025-06-28T00:00:00Z|sec-edgar");
    assert_eq!(snap.topic_for(Env::Prod).unwrap().as_str(), "ampy.prod.fundamentals.v1.XNAS.AAPL");
}

#[test]
fn typed_builders_patterns_and_kafka_mapping() {
    let s = topics::bars::v1::bars::subject(Env::Prod, "XNAS", "AAPL").unwrap();
    assert_eq!(s.as_str(), "ampy.prod.bars.v1.XNAS.AAPL");
    assert_eq!(s.kafka_topic(), "ampy.prod.bars.v1");
    assert_eq!(s.kafka_key("XNAS.AAPL"), "XNAS.AAPL XNAS.AAPL");
    let orders = topics::orders::v1::requests::subject(Env::Paper).unwrap();
    assert_eq!(orders.kafka_key("co_20250905_001"), "requests co_20250905_001");

    assert_eq!(topics::pattern(Env::Prod).unwrap(), "ampy.prod.>");
    assert_eq!(topics::bars::pattern(Env::Prod).unwrap(), "ampy.prod.bars.>");
    assert_eq!(topics::bars::v1::pattern(Env::Prod).unwrap(), "ampy.prod.bars.v1.>");
    assert_eq!(
        topics::bars::v1::bars::pattern_with(Env::Prod, Some("XNAS"), None).unwrap(),
        "ampy.prod.bars.v1.XNAS.*"
    );
    assert_eq!(topics::ticks::v1::Trade::pattern(Env::Dev).unwrap(), "ampy.dev.ticks.v1.trade.*");
    assert_eq!("paper".parse::<Env>(), Ok(Env::Paper));
    // Text outside the registry's envs never becomes an `Env`, and only an
    // `Env` forms a subject (`topic_for("prod")` does not compile).
    for bad in ["staging", "PROD", "Prod", " prod", ""] {
        let err = bad.parse::<Env>().unwrap_err();
        assert_eq!(err.kind(), "unknown_env", "{bad:?}");
        assert_eq!(err.to_string(), format!("unknown env `{bad}`; the registry has: dev, paper, prod"));
    }
    assert_eq!(<Env as ampy_bus::EnvName>::NAMES, &["dev", "paper", "prod"]);
}

#[test]
fn schema_constants_come_from_the_registry() {
    type B = bars::v1::BarBatch;
    assert_eq!(B::FQDN, "ampy.bars.v1.BarBatch");
    assert_eq!(B::SCHEMA_VERSION, "1.0.0");
    let hash = B::SCHEMA_HASH.unwrap();
    assert!(hash.starts_with("sha256:") && hash.len() == 71, "{hash}");
    assert_eq!(topics::bars::v1::Bars::DOMAIN, "bars");
    assert_eq!(topics::bars::v1::Bars::VERSION, "v1");
    assert_eq!(topics::bars::v1::Bars::QOS.tier, "realtime");
    assert_eq!(topics::bars::v1::Bars::QOS.p99_ms, Some(150));
    assert_eq!(topics::orders::v1::Requests::QOS.p99_ms, Some(50));
    // The hash constant is the registry's: check it against the file.
    let registry = std::fs::read_to_string("../../registry/ampy.yaml").unwrap();
    assert!(registry.contains(hash));
}

#[test]
fn error_cases_are_typed() {
    // A hostile token in a topic builder.
    let err = topics::bars::v1::bars::subject(Env::Prod, "XNAS", "AA.PL").unwrap_err();
    assert!(matches!(err, RouteError::IllegalToken { field: "symbol", ref value, .. } if value == "AA.PL"), "{err:?}");
    let err = topics::signals::v1::signals::subject(Env::Prod, "hyper *").unwrap_err();
    assert_eq!(err.kind(), "illegal_token");
    // The same through a payload.
    let signal = signals::v1::Signal { model_id: "a>b".into(), security: sec("NVDA", "XNAS"), ..Default::default() };
    assert_eq!(signal.topic_for(Env::Prod).unwrap_err().kind(), "illegal_token");

    // Mixed keys in a batch.
    let batch = bars::v1::BarBatch {
        bars: vec![
            bars::v1::Bar { security: sec("AAPL", "XNAS"), ..Default::default() },
            bars::v1::Bar { security: sec("AAPL", "ARCX"), ..Default::default() },
        ],
        ..Default::default()
    };
    let err = batch.partition_key().unwrap_err();
    assert_eq!(
        err,
        RouteError::MixedKeys {
            field: "mic",
            path: "bars[*].security.mic",
            first: "XNAS".into(),
            other: "ARCX".into(),
            index: 1
        }
    );
    // An empty batch and an empty key field.
    assert_eq!(bars::v1::BarBatch::default().partition_key().unwrap_err().kind(), "empty_batch");
    let order = orders::v1::OrderRequest::default();
    assert_eq!(order.partition_key().unwrap_err().kind(), "empty_key_field");
}

#[test]
fn linked_types_hash_to_the_locked_schemas() {
    use ampy_bus::Linked;
    ampy_example::contract::verify_linked().unwrap_or_else(|failed| panic!("{failed:?}"));
    // The recomputation is real: it reads the embedded descriptor.
    let desc = <bars::v1::BarBatch as Linked>::descriptor().unwrap();
    assert_eq!(desc.full_name(), "ampy.bars.v1.BarBatch");
    assert_eq!(Some(ampy_bus::linked::canonical_hash(&desc).as_str()), bars::v1::BarBatch::SCHEMA_HASH);
    let fill = <fills::v1::Fill as Linked>::descriptor().unwrap();
    assert_ne!(ampy_bus::linked::canonical_hash(&fill), ampy_bus::linked::canonical_hash(&desc));
}
