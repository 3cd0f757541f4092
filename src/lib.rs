pub mod core;
pub mod link;
#[cfg(not(target_arch = "wasm32"))]
pub mod relay;
pub mod sim;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
