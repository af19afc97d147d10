//! Security measures: the control catalogue, what each CI must implement, and the gaps.

pub mod api;
pub mod pages;
