//! API, web and authorisation tests against the real application, on every backend.

mod helpers;

mod accounts;
mod announcements;
mod cmdb;
mod controls;
mod fuzz;
mod incident_flow;
mod incident_web;
mod incidents;
mod instances;
mod matrix;
mod measures;
mod need_to_know;
mod notifications;
mod notify_sinks;
mod openapi;
mod problems;
mod problems_web;
mod service_levels;
mod sl_web;
mod web;
