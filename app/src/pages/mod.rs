//! One module per route.

pub mod callback;
pub mod helpdesk;
pub mod login;
