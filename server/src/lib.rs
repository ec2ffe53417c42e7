//! perfwatch-server: configuration, the REST API, and the router that puts the REST
//! API, the Leptos pages and the static files together. `main.rs` is the CLI.

pub mod allocator;
pub mod api;
pub mod cli;
pub mod config;
pub mod lifecycle;
pub mod observe;
pub mod openapi;
pub mod openapi_page;
pub mod router;
pub mod security;
pub mod shutdown;
pub mod state;
pub mod testing;

pub use config::ServerConfig;
pub use lifecycle::{serve, serve_until};
pub use router::build_router;
pub use state::AppState;
