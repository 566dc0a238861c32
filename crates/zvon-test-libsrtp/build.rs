//! Links the system libsrtp2 (Debian `libsrtp2-dev`, which `scripts/test` installs).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=dylib=srtp2");
}
