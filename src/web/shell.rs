//! The page shell: title, role-aware navigation, user, CSRF token and notices, shared by every page.

use super::session::{Ctx, MaybeCtx};
use crate::domain::auth::{Permission, Principal};
use crate::domain::branding::Brand;
use crate::domain::orders::OrderStatus;
use crate::domain::time_zone::Zone;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct Shell {
    pub title: String,
    pub user_name: String,
    pub role_labels: String,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub notice: Option<String>,
    /// Staff acting for a customer: (account id, account name), shown as a banner on every page.
    pub acting_for: Option<(String, String)>,
    /// The seller's name, logo and accent colour, in the header of every page.
    pub brand: Brand,
}

/// Navigation for a principal: the portal for buyers; rep, desk, finance and admin areas for staff.
pub fn nav_for(p: &Principal, path: &str, acting: bool) -> Vec<NavItem> {
    let mut items: Vec<(&'static str, &'static str)> = Vec::new();
    if p.can(Permission::PortalView) {
        items.push(("/portal", "Home"));
        if p.can(Permission::PortalCatalog) {
            items.push(("/portal/catalog", "Catalog"));
        }
        if p.can(Permission::PortalOrder) {
            items.push(("/portal/quick-order", "Quick order"));
        }
        items.push(("/portal/orders", "Orders"));
        if p.can(Permission::PortalBilling) {
            items.push(("/portal/invoices", "Invoices"));
            items.push(("/portal/payments", "Payments"));
            items.push(("/portal/statement", "Statement"));
        }
        if p.can(Permission::PortalCatalog) {
            items.push(("/portal/lists", "Lists"));
        }
        if p.can(Permission::PortalOrder) {
            items.push(("/portal/cart", "Cart"));
        }
        items.push(("/portal/account", "Account"));
        if p.can(Permission::ManageOwnAccountUsers) {
            items.push(("/portal/users", "Users"));
        }
    }
    if acting {
        items.push(("/portal/catalog", "Catalog"));
        items.push(("/portal/quick-order", "Quick order"));
        items.push(("/portal/lists", "Lists"));
        items.push(("/portal/cart", "Cart"));
        items.push(("/portal/orders", "Their orders"));
    }
    if p.can(Permission::ViewOwnBook) {
        items.push(("/rep", "My accounts"));
    }
    if p.can(Permission::DeskArea) {
        items.push(("/desk", "Desk"));
    }
    if p.is_staff() && (p.can(Permission::OrderForCustomers) || p.can(Permission::ViewAllAccounts)) {
        items.push(("/orders", "Orders"));
    }
    if p.is_staff() && p.can(Permission::OrderForCustomers) {
        items.push(("/quotes", "Quotes"));
    }
    if p.can(Permission::SignOffQuotes) && !p.can(Permission::AdminArea) {
        items.push(("/quotes/signoff", "Sign-off"));
    }
    if p.is_staff() && (p.can(Permission::ViewOwnBook) || p.can(Permission::ViewCommissions)) {
        items.push(("/commissions", "Commissions"));
    }
    if p.is_staff() && p.can(Permission::ViewDashboards) {
        items.push(("/dashboards", "Dashboards"));
    }
    if p.can(Permission::FinanceArea) {
        items.push(("/finance", "Finance"));
        items.push(("/invoices", "Invoices"));
        items.push(("/finance/payments", "Payments"));
    }
    if p.can(Permission::AdminArea) {
        items.push(("/admin/accounts", "Accounts"));
        if p.can(Permission::ManageCatalog) {
            items.push(("/admin/products", "Products"));
            items.push(("/admin/categories", "Categories"));
        }
        if p.can(Permission::ManagePrices) {
            items.push(("/admin/pricing", "Pricing"));
        }
        items.push(("/admin/staff", "Staff"));
    }
    // The longest matching prefix is the active item; an account page belongs to the area its
    // lists live in (admin's accounts, else the rep's book, the desk, finance).
    let matches = |href: &str| path == href || path.starts_with(&format!("{href}/"));
    let active = if path.starts_with("/portal/products/") {
        Some("/portal/catalog")
    } else if path.starts_with("/admin/imports")
        || path.starts_with("/admin/warehouses")
        || path.starts_with("/admin/catalogs")
    {
        // Where products are kept and who sees them belong with the products.
        Some("/admin/products")
    } else if path.starts_with("/admin/account-groups") {
        Some("/admin/accounts")
    } else if path.starts_with("/admin/webhooks")
        || path.starts_with("/admin/api-tokens")
        || path.starts_with("/admin/mail")
        || path.starts_with("/admin/company")
    {
        // Integrations are set up from the Staff page.
        Some("/admin/staff")
    } else if path.starts_with("/portal/quotes") {
        // A customer's quotes live with their orders (the orders page links them).
        Some("/portal/orders")
    } else if path.starts_with("/admin/quotes") {
        Some("/quotes")
    } else if path.starts_with("/admin/commissions") {
        Some("/commissions")
    } else if path.starts_with("/portal/reorder/list/") {
        // Reordering a saved list starts from Lists; an order or the buy-again page from Orders.
        Some("/portal/lists")
    } else if path.starts_with("/portal/reorder") || path.starts_with("/portal/buy-again") {
        Some("/portal/orders")
    } else if path.starts_with("/portal/checkout") {
        Some("/portal/cart")
    } else if path.starts_with("/accounts/") {
        ["/admin/accounts", "/rep", "/desk", "/finance"].into_iter().find(|h| items.iter().any(|(i, _)| i == h))
    } else {
        items.iter().filter(|(href, _)| matches(href)).max_by_key(|(href, _)| href.len()).map(|(href, _)| *href)
    };
    items.into_iter().map(|(href, label)| NavItem { href, label, active: Some(href) == active }).collect()
}

/// Where a principal lands after sign-in.
pub fn home_for(p: &Principal) -> &'static str {
    if p.can(Permission::PortalView) {
        "/portal"
    } else if p.can(Permission::AdminArea) {
        "/admin/accounts"
    } else if p.can(Permission::ViewOwnBook) {
        "/rep"
    } else if p.can(Permission::DeskArea) {
        "/desk"
    } else if p.can(Permission::FinanceArea) {
        "/finance"
    } else if p.can(Permission::SignOffQuotes) {
        "/quotes/signoff"
    } else {
        "/me/password"
    }
}

/// Messages shown after a redirect (`?notice=code`); codes keep free text out of URLs. After a
/// status change the code is the status the order became (see `status_notice`).
pub fn notice_text(code: Option<&str>) -> Option<String> {
    let code = code?;
    if let Some(text) = OrderStatus::parse(code).and_then(status_notice) {
        return Some(text.to_string());
    }
    let text = match code {
        "saved" => "Saved.",
        "commission_approved" => "Statement approved: its total is frozen; later lines land in the next open month.",
        "commission_locked" => "Statement locked: this month never changes again.",
        "commission_reopened" => "Statement reopened.",
        "commission_plan_saved" => "Plan saved.",
        "commission_plan_assigned" => "Plan assigned.",
        "webhook_test_sent" => "Test event queued: it is delivered within seconds; its attempt appears below.",
        "webhook_replayed" => "Queued to be sent again now.",
        "webhook_deleted" => "Endpoint deleted: it receives nothing more; what it still had to receive was cancelled.",
        "quote_requested" => "Your request is sent. Your rep prices it and you are told when it is ready.",
        "quote_draft" => "Quote created. Price the lines, then send it.",
        "quote_priced" => "Prices saved.",
        "quote_sent" => "Quote sent to the customer.",
        "quote_awaiting_signoff" => {
            "The quote waits for a sales manager's sign-off; it goes to the customer once signed off."
        }
        "quote_signed_off" => "Signed off: the quote is sent to the customer.",
        "quote_signoff_refused" => "Sign-off refused: the quote is back with the rep.",
        "quote_revised" => "A new revision is open: change the lines and send it again.",
        "quote_withdrawn" => "Quote withdrawn.",
        "quote_declined" => "Quote declined.",
        "quote_message" => "Message sent.",
        "password_changed" => "Your password was changed. Your other sessions were signed out.",
        "role_changed" => "Role changed.",
        "deactivated" => "User deactivated; their sessions were ended.",
        "reactivated" => "User reactivated.",
        "ship_to_added" => "Ship-to location added.",
        "ship_to_removed" => "Ship-to location removed.",
        "ship_to_default" => "Default ship-to changed.",
        "signed_out" => "You are signed out.",
        "choose_account" => "Choose the account you are ordering for first (Act for this account).",
        "acting_ended" => "You are no longer acting for a customer.",
        "list_saved" => "List saved.",
        "list_deleted" => "List deleted.",
        "added_to_cart" => "Added to your cart.",
        "amended" => "Order amended; the customer sees the new revision.",
        "shipment_recorded" => "Shipment recorded; the customer sees it with its tracking.",
        "statement_sent" => {
            "Statement sent: it goes by mail to the account's finance contacts (else its purchasing managers) within a minute."
        }
        "released" => "Released from credit hold; the order continues.",
        "rejected" => "Order rejected and cancelled; its stock is released and the customer sees why.",
        "approved" => "Order approved: it is placed at today's prices and its stock is reserved.",
        "approved_held" => "Order approved; it is now held for credit until finance releases it.",
        "approval_given" => "Your approval is recorded; the order waits for its other approvers.",
        "approval_rejected" => "Order rejected; whoever placed it sees your comment.",
        "rule_added" => "Approval rule added; it applies to orders placed from now on.",
        "rule_deleted" => "Approval rule deleted.",
        "limits_saved" => "Spending limits saved.",
        "completed" => "Order completed: it is placed and the customer sees it.",
        "completed_held" => "Order completed; it is held for credit until finance releases it.",
        "sent_back" => "Order sent back; the customer reads your comment.",
        "category_created" => "Category created.",
        "warehouse_created" => "Warehouse added. Put stock on hand from a product's page.",
        "company_saved" => {
            "Saved: every page, invoice, statement and mail from now on carries this name, address and brand."
        }
        "group_created" => {
            "Account group created. Choose it on an account's Edit page; assign catalogs and price lists to it."
        }
        "catalog_created" => "Catalog created. Add its rules and assign it to accounts or groups below.",
        "catalog_rule_added" => "Rule added; the catalog's products were updated.",
        "catalog_rule_removed" => "Rule removed; the catalog's products were updated.",
        "catalog_assigned" => "Assigned: they see this catalog's products now.",
        "catalog_unassigned" => "Assignment removed.",
        "catalog_deleted" => "Catalog deleted. Its accounts and groups see their other catalogs, or the default one.",
        "group_renamed" => "Group renamed. Imports and the API name it by its new name from now on.",
        "group_deleted" => "Group deleted. Its accounts left it; its catalog and price list assignments went.",
        "images_added" => {
            "Images added. The first image of a product is its primary: catalog, cart and quick order show it."
        }
        "image_primary" => "Primary image changed: catalog, cart and quick order show it now.",
        "image_saved" => "Alt text saved.",
        "image_deleted" => "Image deleted.",
        "product_created" => "Product created. Put stock on hand below and give it a price on a price list.",
        "price_list_created" => "Price list created. Add prices below and assign it to accounts or groups.",
        "category_renamed" => "Category renamed; the paths of its subcategories changed with it.",
        "category_moved" => "Category moved with its subcategories; customer catalogs now follow its new place.",
        "category_sorted" => "Sort order saved.",
        "category_deleted" => "Category deleted.",
        "unchanged" => "Nothing to change: that is already so.",
        "password_set" => "Your password is set. Sign in with it now.",
        "reset_sent" => {
            "If that address belongs to an active user, a reset link is on its way. It expires in 72 hours."
        }
        _ => return None,
    };
    Some(text.to_string())
}

/// What staff are told after changing an order's status to `status`.
fn status_notice(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Cancelled => Some("Order cancelled; its reserved stock was released."),
        OrderStatus::Confirmed => Some("Order confirmed."),
        _ => None,
    }
}

impl Shell {
    pub fn new(ctx: &Ctx, title: impl Into<String>) -> Shell {
        let p = &ctx.session.principal;
        Shell {
            title: title.into(),
            user_name: p.name.clone(),
            role_labels: p.role_labels(),
            nav: nav_for(p, &ctx.path, ctx.session.acting_account_id.is_some()),
            csrf: ctx.csrf.clone(),
            notice: None,
            acting_for: ctx.session.acting_account_id.clone().zip(ctx.session.acting_account_name.clone()),
            brand: ctx.brand.clone(),
        }
    }

    /// A page for someone not signed in (sign-in, set password).
    pub fn anonymous(title: impl Into<String>, ctx: &MaybeCtx) -> Shell {
        Shell {
            title: title.into(),
            user_name: String::new(),
            role_labels: String::new(),
            nav: Vec::new(),
            csrf: ctx.csrf.clone(),
            notice: None,
            acting_for: None,
            brand: ctx.brand.clone(),
        }
    }

    pub fn with_notice(mut self, code: Option<&str>) -> Shell {
        self.notice = notice_text(code);
        self
    }
}

tokio::task_local! {
    /// The zone the page being made shows times in: the reader's (see `session::session_layer`).
    static READER_ZONE: Zone;
}

/// Runs `page` (a request's handling) with times shown in `zone`.
pub async fn in_zone<F: Future>(zone: Zone, page: F) -> F::Output {
    READER_ZONE.scope(zone, page).await
}

/// Unix seconds as a date for pages, in the reader's zone.
pub fn date(ts: i64) -> String {
    READER_ZONE.try_with(|z| z.date(ts)).unwrap_or_else(|_| Zone::default().date(ts))
}

/// Unix seconds as a date and time for pages, in the reader's zone, with its abbreviation.
pub fn datetime(ts: i64) -> String {
    READER_ZONE.try_with(|z| z.datetime(ts)).unwrap_or_else(|_| Zone::default().datetime(ts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::{BuyerRole, StaffRole};

    fn active(p: &Principal, path: &str) -> Vec<&'static str> {
        nav_for(p, path, false).into_iter().filter(|i| i.active).map(|i| i.label).collect()
    }

    #[test]
    fn one_active_item_by_area() {
        let admin = Principal::staff("a".into(), "A".into(), "a@x".into(), vec![StaffRole::Admin]);
        assert_eq!(active(&admin, "/admin/accounts/new"), vec!["Accounts"]);
        assert_eq!(active(&admin, "/accounts/123"), vec!["Accounts"]);
        assert_eq!(active(&admin, "/desk"), vec!["Desk"]);
        assert_eq!(active(&admin, "/admin/catalogs/k1"), vec!["Products"]);
        assert_eq!(active(&admin, "/admin/warehouses"), vec!["Products"]);
        assert_eq!(active(&admin, "/admin/account-groups"), vec!["Accounts"]);
        let rep = Principal::staff("r".into(), "R".into(), "r@x".into(), vec![StaffRole::SalesRep]);
        assert_eq!(active(&rep, "/accounts/123"), vec!["My accounts"]);
        let buyer = Principal::buyer("b".into(), "B".into(), "b@x".into(), "acc".into(), BuyerRole::Manager);
        assert_eq!(active(&buyer, "/portal"), vec!["Home"]);
        assert_eq!(active(&buyer, "/portal/users"), vec!["Users"]);
        assert_eq!(active(&buyer, "/portal/products/GLV-1"), vec!["Catalog"]);
        assert_eq!(active(&buyer, "/portal/reorder/order/SO-100001"), vec!["Orders"]);
        assert_eq!(active(&buyer, "/portal/reorder/list/l1"), vec!["Lists"]);
        assert_eq!(active(&buyer, "/portal/buy-again"), vec!["Orders"]);
        assert_eq!(active(&buyer, "/portal/checkout"), vec!["Cart"]);
        assert!(active(&buyer, "/me/password").is_empty());
    }
}
