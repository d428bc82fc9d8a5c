use std::path::Path;
use std::time::Instant;
fn main() {
    for _ in 0..5 {
        let t = Instant::now();
        let p = ampygen::load(Path::new("registry/ampy.yaml")).unwrap();
        let a = t.elapsed();
        let t = Instant::now();
        let _f = ampygen::rust::generate(&p, &ampygen::rust::Options::default()).unwrap();
        let b = t.elapsed();
        let t = Instant::now();
        let files: Vec<String> = p.registry.protos.files.iter().map(|f| f.value.clone()).collect();
        let _ = protox::compile(&files, ["proto"]).unwrap();
        println!("load {a:?} generate {b:?} protox alone {:?}", t.elapsed());
    }
}
