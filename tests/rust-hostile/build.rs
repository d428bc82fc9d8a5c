fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure().registry("registry/hostile.yaml").compile()?;
    Ok(())
}
