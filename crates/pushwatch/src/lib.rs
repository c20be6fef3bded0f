//! Library side of the `pushwatch` binary: subcommands, sources, configuration and generators.
//! It is a library so that the benches and integration tests can call the same code.

pub mod cmd;
pub mod config;
pub mod gen;
pub mod input;
pub mod logging;
pub mod merge;
pub mod pipeline;
pub mod ratelimit;
pub mod report;
pub mod serve;
pub mod summary;
