//! The bus on Kafka (docs/kafka.md), behind the `kafka` feature.

mod provision;

pub use provision::{
    provision, topic_plans, Change, Effect, Outcome, ProvisionError, ProvisionOptions, ProvisionReport, TopicAction,
    TopicPlan,
};
/// The client library, for callers that build an `AdminClient` themselves.
pub use rdkafka;
