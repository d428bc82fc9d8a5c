//! A service crate built by scripts/package-check against the packaged
//! `ampygen` (build-dependency) and `ampy-bus` only: routes a quote, builds
//! an envelope, encodes it and decodes it back, and prints what it got.

pub mod contract {
    ampy_bus::include_generated!();
}

use ampy_bus::{Envelope, PartitionKey, Schema};
use contract::acme::quotes::v1::Quote;
use contract::Env;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quote = Quote { venue: "XNAS".into(), symbol: "AAPL".into(), bid_micros: 189_120_000, ask_micros: 189_130_000 };
    let subject = quote.topic_for(Env::Prod)?;
    let key = quote.partition_key()?;
    assert_eq!(subject.to_string(), "acme.prod.quotes.v1.XNAS.AAPL");
    assert_eq!(key, "XNAS.AAPL");
    let record =
        Envelope::builder(quote.clone()).producer("user@1").source("package-check").run_id("r-1").build()?.encode()?;
    let back = Envelope::<Quote>::decode_record(&record)?;
    assert_eq!(back.payload, quote);
    // A record whose schema hash is not the locked one is refused.
    let mut wrong = record.clone();
    for (name, value) in &mut wrong.headers {
        if *name == "schema_hash" {
            *value = format!("sha256:{}", "0".repeat(64));
        }
    }
    assert!(Envelope::<Quote>::decode_record(&wrong).is_err());
    let hash = Quote::SCHEMA_HASH.ok_or("the registry locks the schema")?;
    println!("rust user: subject {subject}, key {key}, schema {} {hash}", Quote::FQDN);
    Ok(())
}
