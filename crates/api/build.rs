//! Debug builds read the console's files (`web/dist`) from disk, and rust-embed only
//! serves a file whose real path lies under the folder's real path as resolved when this
//! crate was compiled. A fresh checkout compiles before the console is built; with no
//! folder to resolve, rust-embed keeps `crates/api/../../web/dist`, which no real path
//! starts with, so the console would answer "not built" until the next recompile. The
//! folder therefore exists before the crate compiles (Vite empties it, never removes it).

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = std::path::Path::new(&manifest_dir).join("../../web/dist");
    if let Err(e) = std::fs::create_dir_all(&dist) {
        println!("cargo::warning=could not create {}: {e}", dist.display());
    }
    println!("cargo::rerun-if-changed=build.rs");
}
