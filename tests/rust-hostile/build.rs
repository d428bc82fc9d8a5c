fn main() -> Result<(), Box<dyn std::error::Error>> {
    ampygen::configure().registry("registry/hostile.yaml").compile()?;
    // The registry every backend must survive (Go and Python keywords too).
    let polyglot = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("polyglot");
    ampygen::configure().registry("../hostile/hostile.yaml").out_dir(&polyglot).compile()?;
    Ok(())
}
