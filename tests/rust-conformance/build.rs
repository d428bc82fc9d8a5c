fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every leaf kind, `[0]`, nested `[*]`, explicit presence and oneofs.
    ampygen::configure().registry("../../codegen/tests/fixtures/route/registry.yaml").compile()?;
    Ok(())
}
