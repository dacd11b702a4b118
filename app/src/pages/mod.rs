//! One module per route.

pub mod callback;
pub mod extensions;
pub mod helpdesk;
pub mod login;
pub mod users;
