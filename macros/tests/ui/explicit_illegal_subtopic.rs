// Subject tokens cannot hold whitespace or NATS wildcards.
#[derive(ampy_bus::Payload)]
#[ampy(
    domain = "quotes",
    version = "v1",
    subtopic = "top of book.{symbol}",
    key = "{symbol}",
    schema = "acme.quotes.v1.Quote",
    schema_version = "1.0.0"
)]
pub struct Quote {
    pub symbol: String,
}

#[derive(ampy_bus::Payload)]
#[ampy(
    domain = "quotes",
    version = "v1",
    subtopic = "quotes.>",
    key = "{symbol}",
    schema = "acme.quotes.v1.Quote",
    schema_version = "1.0.0"
)]
pub struct Wildcard {
    pub symbol: String,
}

fn main() {}
