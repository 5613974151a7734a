//! The payments tests' fixture: an account with a finance user, customer service and buyers, a
//! product at 10.00, invoices made by shipping orders, and the check that the running exposure
//! equals the exposure from the records.
#![allow(dead_code)]

use crate::common::{self, TestApp};
use portico::domain::auth::{BuyerRole, Principal, StaffRole};
use portico::domain::money::Money;
use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement, ShipmentInput};
use portico::service::payments::{ApplyInput, PaymentInput};
use portico::service::{Actor, invoices};
use portico::store::products::ProductInput;

pub struct Fixture {
    pub account: String,
    pub account_number: String,
    pub other: String,
    pub finance: Principal,
    pub cs: Principal,
    pub manager: Principal,
    pub other_manager: Principal,
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let account = app.account("Pay Clinic", None).await;
    let other = app.account("Other Labs", None).await;
    common::sell(app.db(), app.now(), vec![(ProductInput::new("GLV-1", "Nitrile Gloves"), "10.00", 1000)]).await;
    let finance = app.staff("Fin Ance", &[StaffRole::Finance]).await.principal().unwrap();
    let cs = app.staff("Cass Service", &[StaffRole::CustomerService]).await.principal().unwrap();
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await.principal().unwrap();
    let other_manager = app.buyer(&other, "Otto Other", BuyerRole::Manager).await.principal().unwrap();
    let account_number = portico::store::accounts::get(app.db(), &account).await.unwrap().unwrap().number;
    Fixture { account, account_number, other, finance, cs, manager, other_manager }
}

/// Places an order of `qty` gloves for `account` and ships `ship` of them: one invoice of
/// ship × 10.00 (no tax rates set). Returns the invoice's number.
pub async fn invoiced(app: &TestApp, f: &Fixture, account: &str, qty: i64, ship: i64) -> String {
    let cs = Actor::web(&f.cs);
    let req = PlaceOrder {
        account_id: account.to_string(),
        lines: vec![LineInput::sku("GLV-1", qty)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let o = match orders::place_order(app.db(), app.now(), &cs, &req, None, |o, _| (201, o.id.clone())).await.unwrap() {
        Placement::Placed { order, .. } => order,
        _ => panic!("not placed"),
    };
    orders::confirm_order(app.db(), app.now(), &cs, &o.number, None).await.unwrap();
    let input = ShipmentInput { warehouse: "CHI".into(), lines: vec![(1, ship)], ..Default::default() };
    orders::record_shipment(app.db(), app.now(), &cs, &o.number, &input).await.unwrap();
    let list = invoices::list_invoices(app.db(), &cs, Some(account), None, 100).await.unwrap();
    list.into_iter().find(|i| i.order_number == o.number).expect("the shipment's invoice").number
}

pub fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

pub async fn invoice(app: &TestApp, f: &Fixture, number: &str) -> (Money, Money, String) {
    let (i, _) = invoices::get_invoice(app.db(), &Actor::web(&f.finance), number).await.unwrap();
    (Money::from_raw(i.total), Money::from_raw(i.paid), i.status)
}

pub async fn exposure_is_exact(app: &TestApp, account: &str) -> portico::domain::credit::Exposure {
    let running = portico::store::credit::get(app.db(), account).await.unwrap();
    let records = portico::store::credit::from_records(app.db(), account).await.unwrap();
    assert_eq!(running, records, "running exposure == exposure from the records");
    running
}

pub fn pay(f: &Fixture, amount: &str, apply: ApplyInput) -> PaymentInput {
    PaymentInput {
        account: f.account_number.clone(),
        amount: amount.into(),
        received_on: String::new(),
        method: "check".into(),
        reference: "CHK 1001".into(),
        external_id: None,
        apply,
    }
}
