//! One module per subcommand. Each defines its clap arguments as `Args` and a `run` function
//! that returns the process exit code.

pub mod bench;
pub mod check_config;
pub mod gen;
pub mod parse;
pub mod replay;
pub mod run;
