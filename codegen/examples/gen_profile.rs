//! Where the build.rs time goes (debug): load, the whole Rust backend, and
//! the backend for one domain; the minimum of N runs, which is the least
//! disturbed by a busy machine. `cargo run -p ampygen --example gen_profile [N]`.
use std::path::Path;
use std::time::{Duration, Instant};

fn min_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let registry = Path::new("registry/ampy.yaml");
    let p = ampygen::load(registry).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let load = min_of(n, || drop(ampygen::load(registry)));
    let all = min_of(n, || drop(ampygen::rust::generate(&p, &ampygen::rust::Options::default())));
    let bars = ampygen::rust::Options { domains: vec!["bars".into()], ..Default::default() };
    let one = min_of(n, || drop(ampygen::rust::generate(&p, &bars)));
    let files: Vec<String> = p.registry.protos.files.iter().map(|f| f.value.clone()).collect();
    let protox = min_of(n, || drop(protox::compile(&files, ["proto"])));
    let prost = min_of(n, || {
        let fds = protox::compile(&files, ["proto"]).unwrap();
        let requests =
            fds.file.into_iter().map(|f| (prost_build::Module::from_protobuf_package_name(f.package()), f)).collect();
        drop(prost_build::Config::new().generate(requests));
    });
    println!("min of {n}: load {load:?}, generate all {all:?}, generate bars {one:?}; protox alone {protox:?}, protox + prost generate {prost:?}");
}
