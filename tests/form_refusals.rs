//! Refused staff forms are never dead ends: the same page comes back inside the shell (menu, user),
//! answered 422 (bad input) or 409 (state), with the reason next to the field and what was typed
//! kept; a form without a page of its own still answers inside the shell with a way back.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use portico::domain::auth::StaffRole;
use portico::store::new_id;
use portico::store::products::{self, ProductInput};

/// An admin, one product and one warehouse; the admin's e-mail.
async fn setup(app: &TestApp) -> String {
    let now = app.now();
    common::write(app.db(), move |tx| {
        Box::pin(async move {
            products::upsert(tx, &new_id(), &ProductInput::new("GLV-1", "Nitrile gloves"), now).await?;
            portico::store::inventory::insert_warehouse(tx, &new_id(), "CHI", "Chicago DC", 0, now).await?;
            Ok(())
        })
    })
    .await;
    app.staff("Ada Admin", &[StaffRole::Admin]).await.email
}

/// The page is a full page in the shell: the menu and the signed-in user are there.
fn assert_in_shell(body: &str) {
    assert!(body.contains("id=\"menu-toggle\""), "the menu button is on the page");
    assert!(body.contains("<nav class=\"nav\" id=\"main-nav\""), "the navigation is on the page");
    assert!(body.contains("Ada Admin"), "the signed-in user is shown");
}

#[tokio::test]
async fn a_bad_stock_quantity_comes_back_on_the_product_page_with_the_input() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res = a
        .post("/admin/products/GLV-1/stock", &[("warehouse", "CHI"), ("delta", "ten"), ("reason", "Cycle count")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("<h1>Nitrile gloves"), "the same page: the product's");
    assert!(
        res.body.contains("<span class=\"field-error\" id=\"delta-error\">“ten” is not a whole number of units"),
        "the reason is next to the field: {}",
        res.body
    );
    assert!(res.body.contains(
        "name=\"delta\" inputmode=\"numeric\" placeholder=\"25 or -3\" required value=\"ten\" aria-invalid=\"true\""
    ));
    assert!(res.body.contains("value=\"Cycle count\""), "the reason typed is kept");
    assert!(res.body.contains("<option value=\"CHI\" selected>"), "the warehouse chosen is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements").await, 0, "nothing changed");

    // A missing reason is named next to its field.
    let res = a.post("/admin/products/GLV-1/stock", &[("warehouse", "CHI"), ("delta", "4"), ("reason", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("value=\"4\""), "the quantity typed is kept");
    assert!(res.body.contains("id=\"reason-error\">") && !res.body.contains("id=\"reason-error\"></span>"));

    // Removing more than is on hand is a conflict (409), shown next to the quantity.
    let res =
        a.post("/admin/products/GLV-1/stock", &[("warehouse", "CHI"), ("delta", "-3"), ("reason", "Damage")]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"delta-error\">Not enough stock of GLV-1 in CHI"), "{}", res.body);
    assert!(res.body.contains("value=\"-3\"") && res.body.contains("value=\"Damage\""));

    // Fixed, it saves and goes back to the product.
    let res =
        a.post("/admin/products/GLV-1/stock", &[("warehouse", "CHI"), ("delta", "+5"), ("reason", "Receipt")]).await;
    assert_eq!(res.location(), "/admin/products/GLV-1?notice=saved");
    assert_eq!(app.count("SELECT COUNT(*) FROM stock_movements").await, 1);
}

#[tokio::test]
async fn a_bad_regulated_class_comes_back_on_the_product_page() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res = a.post("/admin/products/GLV-1/regulated-class", &[("regulated_class", "bad\u{0}class")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_in_shell(&res.body);
    assert!(
        res.body.contains("id=\"regulated_class-error\">")
            && !res.body.contains("id=\"regulated_class-error\"></span>")
    );
    assert!(res.body.contains("id=\"delta-error\"></span>"), "the stock form shows no error");
}

#[tokio::test]
async fn a_bad_credit_limit_comes_back_on_the_account_page_with_the_input() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let account = app.account("Acme Clinic", None).await;
    let mut a = app.signed_in(&admin).await;
    let page = a.get(&format!("/accounts/{account}")).await;
    let version = page.attr("name=\"version\" value=\"");
    let res = a
        .post(
            &format!("/accounts/{account}/credit"),
            &[
                ("version", &version),
                ("terms", "net45"),
                ("credit_limit", "lots"),
                ("status", "active"),
                ("credit_over_limit", "hold"),
                ("overdue_hold_days", "soon"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("<h1>Acme Clinic"));
    assert!(res.body.contains("id=\"credit_limit-error\">Credit limit:"), "{}", res.body);
    assert!(res.body.contains("id=\"overdue_hold_days-error\">Hold after: “soon”"));
    assert!(
        res.body.contains("value=\"lots\"")
            && res.body.contains("value=\"net45\"")
            && res.body.contains("value=\"soon\"")
    );

    // A ship-to without its required parts keeps what was typed, the details open.
    let res = a
        .post(
            &format!("/accounts/{account}/ship-tos"),
            &[("label", "Back dock"), ("line1", "1 Main St"), ("city", ""), ("postal_code", ""), ("country", "US")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("<details id=\"add-ship-to\" open>"));
    assert!(res.body.contains("value=\"Back dock\"") && res.body.contains("value=\"1 Main St\""));
    assert!(res.body.contains("id=\"st-city-error\">") && !res.body.contains("id=\"st-city-error\"></span>"));
}

#[tokio::test]
async fn a_bad_staff_member_comes_back_on_the_staff_pages() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res = a.post("/admin/staff", &[("name", "Nia New"), ("email", "not-an-address"), ("phone", "555-0100")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"email-error\">Enter a valid e-mail address"), "{}", res.body);
    assert!(
        res.body.contains("id=\"roles-error\">Choose at least one role.")
            || res.body.contains("id=\"roles-error\"></span>")
    );
    assert!(res.body.contains("value=\"Nia New\"") && res.body.contains("value=\"not-an-address\""));

    let rep = app.staff("Rita Rep", &[StaffRole::SalesRep]).await;
    let res = a.post(&format!("/admin/staff/{}", rep.id), &[("name", "Rita R."), ("phone", "555-0101")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"roles-error\">Choose at least one role."));
    assert!(res.body.contains("value=\"Rita R.\""), "the name typed is kept");
}

#[tokio::test]
async fn bad_price_lines_come_back_in_their_box() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res =
        a.post("/admin/pricing/lists", &[("code", "BASE"), ("name", "Base"), ("priority", "100"), ("base", "1")]).await;
    assert!(res.status.is_redirection(), "{}", res.body);
    let res = a.post("/admin/pricing/lists/BASE/prices", &[("lines", "GLV-1, many, 9.50"), ("action", "set")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("“many” is not a quantity"), "{}", res.body);
    assert!(res.body.contains(">GLV-1, many, 9.50</textarea>"), "the lines typed are kept");
}

#[tokio::test]
async fn a_form_without_its_own_page_still_answers_inside_the_shell() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    a.extra_headers.push(("referer".into(), "http://localhost/admin/pricing".into()));
    a.extra_headers.push(("host".into(), "localhost".into()));
    // The remove button of a tax rate is a form of hidden fields: nothing to show next to them.
    let res = a.post("/admin/pricing/tax-rates/remove", &[("country", "US\u{0}"), ("region", "IL")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_in_shell(&res.body);
    assert!(res.body.contains("Please correct the input"));
    assert!(res.body.contains("<a href=\"/admin/pricing\" id=\"error-back\">Back to the form</a>"), "{}", res.body);

    // Someone signed out still gets the plain page (no shell to show).
    let mut anon = app.client();
    let res = anon.get("/no-such-page").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("menu-toggle"));
}

#[tokio::test]
async fn a_refused_api_token_keeps_its_name_and_scopes_with_the_reasons_next_to_them() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let res = a.post("/admin/api-tokens", &[("name", "ERP sync")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("value=\"ERP sync\""), "the name typed is kept");
    assert!(
        res.body.contains("<span class=\"field-error\" id=\"scopes-error\">Choose at least one scope.</span>"),
        "{}",
        res.body
    );
    let res = a.post("/admin/api-tokens", &[("name", ""), ("scope_orders:read", "1")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("aria-invalid=\"true\" autofocus aria-describedby=\"name-error\""), "{}", res.body);
    assert!(res.body.contains("name=\"scope_orders:read\" value=\"1\" checked>"), "the scope ticked is kept");
    assert!(!res.body.contains("name=\"scope_orders:write\" value=\"1\" checked>"));
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0, "nothing created");
    // Accepted: the token is shown once, and the form is empty again.
    let res = a.post("/admin/api-tokens", &[("name", "ERP sync"), ("scope_orders:read", "1")]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("id=\"new-token\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 1);
}

#[tokio::test]
async fn a_refused_tax_rate_comes_back_on_the_pricing_page_with_every_field_kept() {
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let mut a = app.signed_in(&admin).await;
    let form = [("country", "USA"), ("region", "IL"), ("tax_class", "medical"), ("rate", "six"), ("label", "IL tax")];
    let res = a.post("/admin/pricing/tax-rates", &form).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("<h1>Pricing"), "the same page: {}", res.body);
    assert!(res.body.contains(
        "<span class=\"field-error\" id=\"tr-country-error\">Use the two-letter country code, e.g. US.</span>"
    ));
    assert!(
        res.body.contains("value=\"six\" aria-invalid=\"true\" aria-describedby=\"tr-rate-error\""),
        "{}",
        res.body
    );
    for kept in ["value=\"USA\"", "value=\"IL\"", "value=\"medical\"", "value=\"IL tax\""] {
        assert!(res.body.contains(kept), "{kept} kept");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM tax_rates").await, 0, "nothing changed");
    let ok = [("country", "US"), ("region", "IL"), ("tax_class", "medical"), ("rate", "6.25"), ("label", "IL tax")];
    let res = a.post("/admin/pricing/tax-rates", &ok).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM tax_rates").await, 1);
}

#[tokio::test]
async fn a_refused_invitation_keeps_what_was_typed_for_staff_and_for_the_buyers_manager() {
    use portico::domain::auth::BuyerRole;
    let app = TestApp::new().await;
    let admin = setup(&app).await;
    let account = app.account("Smile Dental", None).await;
    let manager = app.buyer(&account, "Mia Manager", BuyerRole::Manager).await;
    let users = || app.count("SELECT COUNT(*) FROM users");
    let before = users().await;

    // Staff, on the account page: the form opens again with the reason beside the e-mail.
    let mut a = app.signed_in(&admin).await;
    let res = a
        .post(&format!("/accounts/{account}/users"), &[("name", "Bo Buyer"), ("email", "bo@"), ("role", "finance")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("<details id=\"invite-user\" open>"), "the form is open");
    assert!(res.body.contains("id=\"invite-email-error\">Enter a valid e-mail address"), "{}", res.body);
    assert!(res.body.contains("value=\"Bo Buyer\"") && res.body.contains("value=\"bo@\""), "what was typed is kept");
    assert!(res.body.contains("<option value=\"finance\" selected>"), "the role chosen is kept");

    // The buyer's manager, on the portal's users page: a name missing.
    let mut m = app.signed_in(&manager.email).await;
    let res = m.post("/portal/users", &[("name", ""), ("email", "bo@smile.test"), ("role", "viewer")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"invite-name-error\">Name is required.</span>"), "{}", res.body);
    assert!(res.body.contains("value=\"bo@smile.test\""));
    assert!(res.body.contains("<option value=\"viewer\" selected>"));
    assert_eq!(users().await, before, "nobody invited");
    let res = m.post("/portal/users", &[("name", "Bo Buyer"), ("email", "bo@smile.test"), ("role", "viewer")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(users().await, before + 1);
}

/// An admin's order for a new account, confirmed (so it can ship): (admin e-mail, order number, version).
async fn confirmed_order(app: &TestApp) -> (String, String, i64) {
    use portico::service::Actor;
    use portico::service::orders::{self, LineInput, OrderHeader, PlaceOrder, Placement};
    let now = app.now();
    common::sell(app.db(), now, vec![(ProductInput::new("GZ-1", "Gauze"), "2.50", 100)]).await;
    let admin = app.staff("Ada Admin", &[StaffRole::Admin]).await;
    let account = app.account("Smile Dental", None).await;
    let who = admin.principal().unwrap();
    let req = PlaceOrder {
        account_id: account,
        lines: vec![LineInput::sku("GZ-1", 4)],
        header: OrderHeader::default(),
        clear_cart: false,
    };
    let actor = Actor::web(&who);
    let placed = orders::place_order(app.db(), now, &actor, &req, None, |o, _| (201, o.id.clone())).await;
    let Placement::Placed { order, .. } = placed.unwrap() else { panic!("not placed") };
    let o = orders::confirm_order(app.db(), now, &Actor::web(&who), &order.number, Some(order.version)).await.unwrap();
    (admin.email, o.number, o.version)
}

#[tokio::test]
async fn refused_shipments_amendments_and_cancellations_come_back_on_the_order_page() {
    let app = TestApp::new().await;
    let (admin, number, version) = confirmed_order(&app).await;
    let mut a = app.signed_in(&admin).await;
    let url = |what: &str| format!("/orders/{number}/{what}");

    // A ship date in the future: the reason above the form and beside the date, the rest kept.
    let res = a
        .post(
            &url("shipments"),
            &[
                ("warehouse", "CHI"),
                ("carrier", "UPS"),
                ("tracking_number", "1Z999"),
                ("shipped_on", "2099-01-01"),
                ("ship_1", "3"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"ship-refused\""), "{}", res.body);
    assert!(res.body.contains("<li>The ship date is in the future.</li>"));
    assert!(res.body.contains("value=\"2099-01-01\" aria-invalid=\"true\""), "the date typed, marked");
    assert!(res.body.contains("value=\"1Z999\"") && res.body.contains("value=\"UPS\""), "what was typed is kept");
    assert!(res.body.contains("name=\"ship_1\" type=\"number\" min=\"0\" max=\"4\" value=\"3\""), "3 of 4 kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM shipments").await, 0, "nothing shipped");

    // An amendment without a reason: the PO typed is kept, the reason marked.
    let v = version.to_string();
    let res = a
        .post(&url("amend"), &[("version", v.as_str()), ("qty_GZ-1", "6"), ("po_number", "PO-9"), ("reason", "")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.body.contains("id=\"amend-refused\""));
    assert!(res.body.contains("value=\"PO-9\""), "the PO typed is kept");
    assert!(res.body.contains("name=\"qty_GZ-1\" type=\"number\" min=\"0\" value=\"6\""), "the quantity typed is kept");
    assert!(res.body.contains("id=\"am-reason\" name=\"reason\" required placeholder=\"Customer called to change quantities\" value=\"\" aria-invalid=\"true\""));
    // A stale version: 409, said above the form.
    let res = a.post(&url("amend"), &[("version", "999"), ("qty_GZ-1", "6"), ("reason", "Customer called")]).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("id=\"conflict-refused\""), "said at the top of the page");
    assert!(!res.body.contains("id=\"amend-refused\""));

    // A cancellation without a reason.
    let res = a.post(&url("cancel"), &[("version", v.as_str()), ("reason", " ")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("<li>Say why the order is cancelled (the customer sees it).</li>"), "{}", res.body);
    let res = a.post(&url("cancel"), &[("reason", "no version")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "a form without the version is refused");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE status = 'confirmed'").await, 1, "the order is unchanged");
}

/// A licence the service refuses (a date that is not one, no number, an unknown type) comes back
/// on the account page: the form open, each reason beside its field, everything typed kept, and
/// nothing added.
#[tokio::test]
async fn a_refused_licence_comes_back_on_the_account_page_with_what_was_typed() {
    let app = TestApp::new().await;
    let email = setup(&app).await;
    let account = app.account("Lakeside Clinic", None).await;
    let mut c = app.signed_in(&email).await;
    let path = format!("/accounts/{account}/licences");
    let typed = [
        ("licence_type", "state_pharmacy"),
        ("number", "TX-\u{1F48A}-0042"),
        ("issuing_region", "tx"),
        ("valid_from", "2026-01-01"),
        ("expires_on", "31/12/2027"),
    ];
    let res = c.post(&path, &typed).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"licence-refused\""), "said at the form");
    assert!(res.body.contains("<details id=\"add-licence\" open>"), "the form is open");
    assert!(res.body.contains("“31/12/2027” is not a date (YYYY-MM-DD)"), "{}", res.body);
    assert!(res.body.contains("value=\"TX-\u{1F48A}-0042\""), "the number is kept");
    assert!(res.body.contains("value=\"tx\""), "the state is kept");
    assert!(res.body.contains("value=\"2026-01-01\""), "the start is kept");
    assert!(res.body.contains("value=\"31/12/2027\""), "the bad date is kept to fix");
    assert!(res.body.contains("value=\"state_pharmacy\" selected"), "the type is kept");
    assert!(res.body.contains(
        "id=\"lic-expires\" name=\"expires_on\" type=\"date\" required value=\"31/12/2027\" aria-invalid=\"true\""
    ));

    let res = c.post(&path, &[("licence_type", "moon_permit"), ("number", "  "), ("expires_on", "2027-12-31")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("is not a licence type"), "{}", res.body);
    assert!(res.body.contains("The licence number is required"), "every problem at once: {}", res.body);
    assert_eq!(
        app.count_dyn(&format!("SELECT COUNT(*) FROM account_licences WHERE account_id = '{account}'")).await,
        0
    );

    // Fixed, it is added.
    let fixed = [
        ("licence_type", "state_pharmacy"),
        ("number", "TX-0042"),
        ("issuing_region", "TX"),
        ("expires_on", "2027-12-31"),
    ];
    let res = c.post(&path, &fixed).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.count_dyn(&format!("SELECT COUNT(*) FROM account_licences WHERE account_id = '{account}'")).await,
        1
    );
}

/// A licence rule the service refuses comes back on the rules page as typed, each reason beside
/// its field; a rule that exists already is said at its class.
#[tokio::test]
async fn a_refused_licence_rule_comes_back_on_the_rules_page_as_typed() {
    let app = TestApp::new().await;
    let email = setup(&app).await;
    let mut c = app.signed_in(&email).await;
    let page = c.get("/admin/licence-rules").await;
    assert!(
        page.body.contains("name=\"require_verified\" value=\"1\" checked"),
        "a new rule wants a verified document"
    );

    let typed = [("regulated_class", "controlled_substance"), ("licence_type", "dea"), ("region", "TEXAS-AND-MORE")];
    let res = c.post("/admin/licence-rules", &typed).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_in_shell(&res.body);
    assert!(res.body.contains("id=\"rule-refused\""));
    assert!(res.body.contains("The state is a code such as TX"), "{}", res.body);
    assert!(res.body.contains("value=\"TEXAS-AND-MORE\" aria-invalid=\"true\""), "kept and marked");
    assert!(res.body.contains("value=\"controlled_substance\""), "the class is kept");
    assert!(res.body.contains("value=\"dea\" selected"), "the type is kept");
    assert!(!res.body.contains("name=\"require_verified\" value=\"1\" checked"), "the unticked box stays unticked");

    let fixed = [("regulated_class", "controlled_substance"), ("licence_type", "dea"), ("region", "TX")];
    assert_eq!(c.post("/admin/licence-rules", &fixed).await.status, StatusCode::SEE_OTHER);
    let again = c.post("/admin/licence-rules", &fixed).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("This rule exists already."), "{}", again.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM licence_rules").await, 1);
}
