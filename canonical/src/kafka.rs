//! The one partitioning rule of the bus on Kafka, byte for byte Java's
//! `org.apache.kafka.common.utils.Utils.murmur2` and default partitioner:
//! `partition = to_positive(murmur2(key)) % partitions`.
//!
//! librdkafka's default partitioner (CRC32 "consistent_random") agrees
//! with Java on about a quarter of keys, so producers never rely on it:
//! every record's partition is chosen here and set explicitly (the Rust
//! runtime re-exports these as `ampy_bus::kafka::{murmur2, partition_for,
//! to_positive}`, and `ampygen route` prints a record's partition with
//! them). Go and Python implement the same three functions;
//! tests/vectors/kafka and the matrix runner hold all of them to Java's
//! own output, and the route differential tests hold them to these.

/// Java's `Utils.murmur2`: MurmurHash2, seed `0x9747b28c`, 32-bit
/// wrapping arithmetic, little-endian 4-byte blocks, the tail switch, the
/// final mixes. An empty key hashes like any other byte string.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java: `int h = seed ^ length` with an int length.
    let mut h: u32 = SEED ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        let mut k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: the sign bit cleared (not the absolute
/// value, so `i32::MIN` maps to 0).
pub fn to_positive(x: i32) -> i32 {
    x & 0x7fff_ffff
}

/// The partition of `key` in a topic of `partitions` partitions (at least
/// 1; 0 is treated as 1): what Java's default partitioner picks for a
/// non-null key.
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    to_positive(murmur2(key)) % partitions.max(1)
}

/// The subtopic a record key names. Keys are `{subtopic} {partition key}`
/// (docs/kafka.md §3), so it is the text before the key's first space.
/// `None` when the record has no key, the key is not UTF-8, holds no space
/// or nothing before it: no producer of the bus writes such a key, and a
/// consumer hands such a record to the first route of its Kafka topic,
/// where decoding judges it, rather than skip it as another topic's.
/// Go and Python implement the same rule; tests/vectors/kafka/key-subtopics.tsv
/// holds all three to it.
pub fn key_subtopic(key: Option<&[u8]>) -> Option<&str> {
    let key = std::str::from_utf8(key?).ok()?;
    key.split_once(' ').map(|(s, _)| s).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of Kafka's own `UtilsTest.testMurmur2`.
    #[test]
    fn java_utils_test_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
            (b"abc", 479470107),
        ];
        for (key, want) in cases {
            assert_eq!(murmur2(key), want, "{}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn partitions_are_in_range_and_one_partition_is_zero() {
        for key in [&b""[..], b"a", b"XNAS.AAPL XNAS.AAPL", "€ ünïcødé".as_bytes()] {
            assert_eq!(partition_for(key, 1), 0);
            for n in [3, 6, 12, 100] {
                let p = partition_for(key, n);
                assert!((0..n).contains(&p));
                assert_eq!(p, to_positive(murmur2(key)) % n);
            }
        }
        assert_eq!(partition_for(b"k", 0), 0, "no partitions is treated as one");
    }
}
