//! The sans-IO core of ringlet: a Dynamo node as a value. Time and messages go in; sends,
//! persist batches, replies and events come out as data. No IO, clock, async or ambient
//! randomness lives here, and every map is ordered, so a run replays exactly from its seed.

mod antientropy;
pub mod bytes;
pub mod config;
pub mod context;
pub mod detector;
pub mod dvv;
pub mod error;
mod get;
pub mod gossip;
mod handoff;
pub mod hash;
pub mod hashtree;
pub mod id;
pub mod io;
mod liveness;
mod members;
pub mod membership;
pub mod message;
pub mod node;
mod put;
pub mod quorum;
mod read_repair;
pub mod record;
pub mod resolve;
pub mod ring;
pub mod rng;
pub mod storage;
pub mod swim;
mod timers;
mod transfer;
pub mod watch;

pub use bytes::Bytes;
pub use config::{Config, DEFAULT_MEMBER_TTL_MS, MEMORY_MEMBER_TTL_MS};
pub use context::Context;
pub use dvv::{Dot, Siblings, Value, Version, VersionVector};
pub use error::Error;
pub use id::{NodeId, ReqId};
pub use io::{
    AdminRequest, BatchId, ClientReply, ClientRequest, Event, Input, Output, RequestOptions,
};
pub use membership::{Membership, Status};
pub use message::{Message, Refusal};
pub use node::{Node, Stats};
pub use record::{CorruptRecord, Record, RecordError, RecordStore};
pub use resolve::{Op, Resolved, Resolver, ResolverRules};
pub use ring::{Member, Ring};
pub use storage::{
    ForwardMark, MembershipSnapshot, MemoryStore, NodeMeta, RecordId, Snapshot, StoreOp,
};
