fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure().registry("../../registry/ampy.yaml").linked_descriptors(true).compile()?;
    Ok(())
}
