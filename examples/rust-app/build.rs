fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure().registry("../../registry/ampy.yaml").compile()?;
    Ok(())
}
