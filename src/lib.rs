pub mod core;
#[cfg(not(target_arch = "wasm32"))]
pub mod relay;
pub mod sim;
