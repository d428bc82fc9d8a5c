// Placeholders name the struct's own fields.
#[derive(ampy_bus::Payload)]
#[ampy(
    domain = "quotes",
    version = "v1",
    subtopic = "{venue}.{ticker}",
    key = "{sybmol}|{venue}",
    schema = "acme.quotes.v1.Quote",
    schema_version = "1.0.0"
)]
pub struct Quote {
    pub symbol: String,
    pub venue: String,
}

fn main() {}
