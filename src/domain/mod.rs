//! Pure business rules: no I/O, no sqlx, no axum, no tokio.

pub mod account;
pub mod aging;
pub mod approvals;
pub mod auth;
pub mod catalog;
pub mod categories;
pub mod credit;
pub mod fulfilment;
pub mod import;
pub mod import_price_list;
pub mod import_stock;
pub mod input;
pub mod invoicing;
pub mod licences;
pub mod money;
pub mod orders;
pub mod password;
pub mod payments;
pub mod pipeline;
pub mod pricing;
pub mod queues;
pub mod quotes;
pub mod redirect;
pub mod routing;
pub mod signature;
pub mod statement;
