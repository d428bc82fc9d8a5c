// The build script of a service crate, exactly as the README shows.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure().registry("../registry/acme.yaml").compile()?;
    Ok(())
}
