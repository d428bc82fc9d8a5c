//! The one partitioning rule of the bus on Kafka, Java's murmur2 and
//! default partitioner: the shared implementation in `ampy-canonical`, so
//! the runtime and `ampygen route` cannot disagree.

pub use ampy_canonical::kafka::{key_subtopic, murmur2, partition_for, to_positive};
