pub mod core;
pub mod sim;
