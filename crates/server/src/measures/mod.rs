//! Security measures: the control catalogue, what each CI must implement, and the gaps.

pub mod api;
pub mod controls;
pub mod gaps;
pub mod pages;

pub use gaps::{GapReport, MeasuresOut, ci_gap, gap_csv, gap_report, level_baselines, measures};
