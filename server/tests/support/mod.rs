//! Shared helpers of the integration tests (each test binary compiles its own copy).
#![allow(dead_code)]

pub mod app;
pub mod flows;
pub mod oas;
pub mod sandbox;
