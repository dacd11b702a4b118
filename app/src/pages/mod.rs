//! One module per route.

pub mod agent;
pub mod callback;
pub mod contacts;
pub mod extensions;
pub mod helpdesk;
pub mod log;
pub mod login;
pub mod pbx_connection;
pub mod rules;
pub mod simulator;
pub mod users;
