//! Shared helpers of the black-box tests, compiled once into the one test binary.
#![allow(dead_code)]

pub mod app;
pub mod db;
pub mod flows;
pub mod live;
pub mod oas;
pub mod process;
pub mod sandbox;
