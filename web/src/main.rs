//! The browser demo's entry point: mounts the Leptos app. It runs in a browser only;
//! `scripts/demo` builds it to WebAssembly and serves it.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(web::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the demo runs in a browser: `scripts/demo` builds it and serves it");
    std::process::exit(2);
}
