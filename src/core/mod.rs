//! The sans-IO core of ringlet: a Dynamo node as a value. Time and messages go in; sends,
//! persist batches, replies and events come out as data. No IO, clock, async or ambient
//! randomness lives here, and every map is ordered, so a run replays exactly from its seed.

pub mod bytes;
pub mod dvv;
pub mod id;
pub mod rng;
pub mod context;
pub mod hash;
pub mod resolve;
pub mod ring;
