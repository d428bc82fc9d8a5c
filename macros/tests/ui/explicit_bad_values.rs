// Every value the registry would reject, plus field types that cannot be
// key values; all reported at once.
#[derive(ampy_bus::Payload)]
#[ampy(
    namespace = "Acme",
    domain = "Quotes",
    version = "v0",
    subtopic = "{venue}.{at}",
    key = "{symbol}|{price}",
    schema = "acme.quotes.v2.Quote",
    schema_version = "1.0",
    schema_hash = "sha256:ABC",
    qos = "realtim"
)]
pub struct Quote {
    pub symbol: String,
    pub venue: String,
    pub price: f64,
    pub at: Option<::ampy_bus::prost_types::Timestamp>,
}

#[derive(ampy_bus::Payload)]
#[ampy(
    domain = "quotes",
    version = "v2",
    subtopic = "{venue}",
    key = "{venue}",
    schema = "acme.quotes.v2.Quote",
    schema_version = "1.0.0",
    dedupe = "quote_id"
)]
pub struct MajorMismatch {
    pub venue: String,
}

fn main() {}
