//! Where the build.rs time goes (debug): load, the whole Rust backend, and
//! the backend without prost. `cargo run -p ampygen --example gen_profile`.
use std::path::Path;
use std::time::Instant;
fn main() {
    let p = ampygen::load(Path::new("registry/ampy.yaml")).unwrap();
    for _ in 0..5 {
        let t = Instant::now();
        let p2 = ampygen::load(Path::new("registry/ampy.yaml")).unwrap();
        let a = t.elapsed();
        drop(p2);
        let t = Instant::now();
        let _f = ampygen::rust::generate(&p, &ampygen::rust::Options::default()).unwrap();
        let b = t.elapsed();
        let t = Instant::now();
        let _d =
            ampygen::rust::generate(&p, &ampygen::rust::Options { domains: vec!["bars".into()], ..Default::default() })
                .unwrap();
        println!("load {a:?} generate all {b:?} generate bars only {:?}", t.elapsed());
    }
}
