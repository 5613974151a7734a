//! Roles, permissions and the one role → permission table. Every check in Portico asks for a
//! [`Permission`]; no code outside this module compares role names.

use std::fmt;

/// Seller staff roles; a staff user may hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StaffRole {
    Admin,
    SalesRep,
    CustomerService,
    Finance,
    /// Leads the reps: sees every account, signs off quotes priced past the discount threshold.
    SalesManager,
}

/// Roles of a customer's (account's) users; exactly one per user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuyerRole {
    Manager,
    Buyer,
    /// Drafts and submits orders; every one of them waits for a manager's approval.
    Requester,
    Finance,
    Viewer,
}

impl StaffRole {
    pub const ALL: [StaffRole; 5] = [
        StaffRole::Admin,
        StaffRole::SalesRep,
        StaffRole::CustomerService,
        StaffRole::Finance,
        StaffRole::SalesManager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::SalesRep => "sales_rep",
            StaffRole::CustomerService => "customer_service",
            StaffRole::Finance => "finance",
            StaffRole::SalesManager => "sales_manager",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Admin => "Administrator",
            StaffRole::SalesRep => "Sales rep",
            StaffRole::CustomerService => "Customer service",
            StaffRole::Finance => "Finance",
            StaffRole::SalesManager => "Sales manager",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Parses the stored comma-separated list, ignoring unknown names.
    pub fn parse_list(s: &str) -> Vec<StaffRole> {
        let mut roles: Vec<StaffRole> = s.split(',').filter_map(|r| StaffRole::parse(r.trim())).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    pub fn join(roles: &[StaffRole]) -> String {
        let mut sorted = roles.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

impl BuyerRole {
    pub const ALL: [BuyerRole; 5] =
        [BuyerRole::Manager, BuyerRole::Buyer, BuyerRole::Requester, BuyerRole::Finance, BuyerRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            BuyerRole::Manager => "manager",
            BuyerRole::Buyer => "buyer",
            BuyerRole::Requester => "requester",
            BuyerRole::Finance => "finance",
            BuyerRole::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BuyerRole::Manager => "Purchasing manager",
            BuyerRole::Buyer => "Buyer",
            BuyerRole::Requester => "Requester",
            BuyerRole::Finance => "Finance contact",
            BuyerRole::Viewer => "Viewer",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            BuyerRole::Manager => "orders, approves and manages the account's users",
            BuyerRole::Buyer => "browses and places orders, within the account's approval rules",
            BuyerRole::Requester => "drafts and submits orders; each waits for a manager's approval",
            BuyerRole::Finance => "sees invoices, statements and payments only",
            BuyerRole::Viewer => "read-only",
        }
    }

    pub fn parse(s: &str) -> Option<BuyerRole> {
        BuyerRole::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl fmt::Display for BuyerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a signed-in user may do. Checks name a permission, never a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Permission {
    // Buyer (portal) permissions.
    PortalView,
    /// Browse the catalog and keep lists (every portal role but finance, which sees billing only).
    PortalCatalog,
    PortalOrder,
    PortalApprove,
    PortalBilling,
    ManageOwnAccountUsers,
    // Staff permissions.
    StaffArea,
    ViewAllAccounts,
    ViewOwnBook,
    ManageAccounts,
    InviteAccountUsers,
    ManageStaff,
    DeskArea,
    FinanceArea,
    ManageCredit,
    ManageCatalog,
    ReadCatalog,
    AdminArea,
    /// Place orders for a customer the staff member may see (reps for their book, the desk for all).
    OrderForCustomers,
    /// Amend, cancel and confirm open orders.
    ManageOrders,
    /// Price lists and contracts (pages, imports, API).
    ManagePrices,
    /// Stock levels (adjustments, counts, imports).
    ManageStock,
    /// Sign off quotes priced past the seller's discount threshold (sales managers, admins).
    SignOffQuotes,
    /// Webhook endpoints, their deliveries and replays (admins, and tokens with a webhooks scope).
    ManageWebhooks,
    /// Every rep's commission statements (finance, admins); a rep always sees their own.
    ViewCommissions,
    /// Approve, lock and reopen reps' commission statements (finance, admins).
    ApproveCommissions,
    /// Commission plans, their assignment to reps, house accounts (admins).
    ManageCommissionPlans,
    /// The seller's dashboards (admins, sales managers; a rep sees their own book's).
    ViewDashboards,
}

/// A set of permissions as a bit set (cheap to copy into every request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permissions(u32);

impl Permissions {
    pub fn of(ps: &[Permission]) -> Permissions {
        Permissions::default().with(ps)
    }

    pub fn has(self, p: Permission) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    fn with(mut self, ps: &[Permission]) -> Self {
        for p in ps {
            self.0 |= 1 << *p as u8;
        }
        self
    }
}

/// The one place roles map to permissions.
pub fn staff_permissions(roles: &[StaffRole]) -> Permissions {
    use Permission::*;
    roles.iter().fold(Permissions::default(), |acc, role| {
        acc.with(match role {
            StaffRole::Admin => &[
                StaffArea,
                ViewAllAccounts,
                ManageAccounts,
                InviteAccountUsers,
                ManageStaff,
                AdminArea,
                DeskArea,
                FinanceArea,
                ManageCredit,
                ManageCatalog,
                ManagePrices,
                ManageStock,
                ReadCatalog,
                OrderForCustomers,
                ManageOrders,
                SignOffQuotes,
                ManageWebhooks,
                ViewCommissions,
                ApproveCommissions,
                ManageCommissionPlans,
                ViewDashboards,
            ],
            StaffRole::SalesRep => {
                &[StaffArea, ViewOwnBook, InviteAccountUsers, ReadCatalog, OrderForCustomers, ViewDashboards]
            }
            StaffRole::CustomerService => &[
                StaffArea,
                ViewAllAccounts,
                DeskArea,
                InviteAccountUsers,
                ReadCatalog,
                OrderForCustomers,
                ManageOrders,
            ],
            StaffRole::Finance => &[
                StaffArea,
                ViewAllAccounts,
                FinanceArea,
                ManageCredit,
                ReadCatalog,
                ViewCommissions,
                ApproveCommissions,
            ],
            StaffRole::SalesManager => &[
                StaffArea,
                ViewAllAccounts,
                InviteAccountUsers,
                ReadCatalog,
                OrderForCustomers,
                SignOffQuotes,
                ViewDashboards,
            ],
        })
    })
}

pub fn buyer_permissions(role: BuyerRole) -> Permissions {
    use Permission::*;
    Permissions::default().with(match role {
        BuyerRole::Manager => {
            &[PortalView, PortalCatalog, PortalOrder, PortalApprove, PortalBilling, ManageOwnAccountUsers]
        }
        BuyerRole::Buyer | BuyerRole::Requester => &[PortalView, PortalCatalog, PortalOrder],
        BuyerRole::Finance => &[PortalView, PortalBilling],
        BuyerRole::Viewer => &[PortalView, PortalCatalog],
    })
}

/// What an API token may do. Each scope grants its own resources only: every API route names the
/// one scope it needs and checks it itself ([`Principal::has_scope`]), so the staff permissions a
/// scope also maps to (here, the one place scopes map to permissions; the services check those)
/// never let a token reach another scope's routes — `pricing:read` needs to see accounts to quote
/// them, yet cannot list their orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    CatalogRead,
    CatalogWrite,
    PricingRead,
    PricingWrite,
    StockWrite,
    OrdersRead,
    OrdersWrite,
    InvoicesRead,
    CreditWrite,
    PaymentsRead,
    PaymentsWrite,
    LicencesRead,
    LicencesWrite,
    QuotesRead,
    QuotesWrite,
    WebhooksRead,
    WebhooksWrite,
    AccountsRead,
    AccountsWrite,
    CatalogsRead,
    CatalogsWrite,
    CommissionsRead,
    CommissionsWrite,
    DashboardsRead,
    CompanyRead,
    CompanyWrite,
}

impl Scope {
    pub const ALL: [Scope; 26] = [
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::PricingRead,
        Scope::PricingWrite,
        Scope::StockWrite,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::InvoicesRead,
        Scope::CreditWrite,
        Scope::PaymentsRead,
        Scope::PaymentsWrite,
        Scope::LicencesRead,
        Scope::LicencesWrite,
        Scope::QuotesRead,
        Scope::QuotesWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
        Scope::AccountsRead,
        Scope::AccountsWrite,
        Scope::CatalogsRead,
        Scope::CatalogsWrite,
        Scope::CommissionsRead,
        Scope::CommissionsWrite,
        Scope::DashboardsRead,
        Scope::CompanyRead,
        Scope::CompanyWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::PricingRead => "pricing:read",
            Scope::PricingWrite => "pricing:write",
            Scope::StockWrite => "stock:write",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::InvoicesRead => "invoices:read",
            Scope::CreditWrite => "credit:write",
            Scope::PaymentsRead => "payments:read",
            Scope::PaymentsWrite => "payments:write",
            Scope::LicencesRead => "licences:read",
            Scope::LicencesWrite => "licences:write",
            Scope::QuotesRead => "quotes:read",
            Scope::QuotesWrite => "quotes:write",
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::AccountsRead => "accounts:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::CatalogsRead => "catalogs:read",
            Scope::CatalogsWrite => "catalogs:write",
            Scope::CommissionsRead => "commissions:read",
            Scope::CommissionsWrite => "commissions:write",
            Scope::DashboardsRead => "dashboards:read",
            Scope::CompanyRead => "company:read",
            Scope::CompanyWrite => "company:write",
        }
    }

    /// What the scope lets a token do, with the routes it opens (shown when a token is created;
    /// the OpenAPI document names each route's scope too).
    pub fn describe(self) -> &'static str {
        match self {
            Scope::CatalogRead => {
                "read products, their images, categories and warehouses (GET /products, /products/{sku}, \
                 /products/{sku}/images, /categories, /warehouses)"
            }
            Scope::CatalogWrite => {
                "create and update products and categories, delete empty categories, upload, change and delete \
                 product images (PUT /products/{sku}, PUT and DELETE /categories, POST /products/{sku}/images, \
                 PATCH and DELETE /products/{sku}/images/{id}); includes catalog:read"
            }
            Scope::PricingRead => {
                "quote any account's prices and read price lists (POST /accounts/{account}/price-quote, GET /price-lists)"
            }
            Scope::PricingWrite => {
                "create and update price lists and contracts (PUT /price-lists/{code}, /contracts/{number})"
            }
            Scope::StockWrite => {
                "adjust and count stock, create and rename warehouses (POST /stock/adjustments, \
                 PUT /stock/levels/{sku}/{warehouse}, PUT /warehouses/{code})"
            }
            Scope::OrdersRead => "read any account's orders (GET /orders, /orders/{id})",
            Scope::OrdersWrite => {
                "create, amend, confirm and cancel orders for any account (POST /orders, \
                 /orders/{id}/amend, /confirm, /cancel, /shipments); includes orders:read"
            }
            Scope::InvoicesRead => {
                "read any account's invoices and their PDFs (GET /invoices, /invoices/{id}, /invoices/{id}/pdf)"
            }
            Scope::CreditWrite => {
                "release or reject orders held for credit (POST /orders/{id}/release, /reject) and issue credit \
                 notes (POST /invoices/{id}/credit-notes); includes invoices:read"
            }
            Scope::PaymentsRead => "read any account's payments and their applications (GET /payments, /payments/{id})",
            Scope::PaymentsWrite => {
                "record payments, apply them to invoices and reverse them, send statements (POST /payments, \
                 /payments/{id}/applications, /payments/{id}/reversal, /accounts/{account}/statement/send); \
                 includes payments:read"
            }
            Scope::LicencesRead => {
                "read any account's licences for regulated products (GET /accounts/{account}/licences)"
            }
            Scope::LicencesWrite => {
                "record licences for any account (PUT /accounts/{account}/licences); includes licences:read"
            }
            Scope::QuotesRead => "read any account's quotes (GET /quotes, /quotes/{id})",
            Scope::QuotesWrite => {
                "create, price, send, accept and decline quotes for any account (POST /quotes, PUT /quotes/{id}/lines, \
                 POST /quotes/{id}/send, /accept, /decline, /messages); a discount past the threshold still waits \
                 for a sales manager; includes quotes:read"
            }
            Scope::WebhooksRead => {
                "read webhook endpoints and their delivery logs (GET /webhooks, /webhooks/{id}, /webhooks/{id}/deliveries)"
            }
            Scope::WebhooksWrite => {
                "add, change, delete and test webhook endpoints, rotate their secrets and replay deliveries \
                 (POST /webhooks, PATCH and DELETE /webhooks/{id}, POST /webhooks/{id}/rotate-secret, /test, \
                 /deliveries/{delivery}/replay); includes webhooks:read"
            }
            Scope::AccountsRead => {
                "read accounts, their ship-tos and users, and account groups, as an ERP pulls them (GET /accounts, \
                 /accounts/{account}, /accounts/{account}/ship-tos, /accounts/{account}/users, /account-groups)"
            }
            Scope::AccountsWrite => {
                "create and update accounts, ship-tos and account groups by the ERP's ids, and invite and update \
                 account users (PUT /accounts/{account}, /accounts/{account}/ship-tos/{ship_to}, \
                 /accounts/{account}/users/{email}, /account-groups/{name}); includes accounts:read"
            }
            Scope::CatalogsRead => {
                "read customer catalogs with their rules and which accounts and groups they are assigned to \
                 (GET /catalogs)"
            }
            Scope::CatalogsWrite => {
                "create and replace customer catalogs by the ERP's ids: rules and assignments to accounts and \
                 groups (PUT /catalogs/{external_id}); includes catalogs:read"
            }
            Scope::CommissionsRead => {
                "read every rep's commission statements and accrual lines and the commission settings (GET \
                 /commissions/statements, /commissions/accruals, /commissions/settings)"
            }
            Scope::CommissionsWrite => {
                "approve, lock and reopen reps' commission statements (POST \
                 /commissions/statements/{rep}/{period}/{action}) and set the commission settings (PUT \
                 /commissions/settings); includes commissions:read"
            }
            Scope::DashboardsRead => {
                "read the seller's dashboards: orders and revenue by channel, self-service adoption, reorder \
                 rhythm and accounts that stopped ordering, abandoned carts, top products (GET /dashboards/…)"
            }
            Scope::CompanyRead => "read the seller's brand: name, accent colour and logo (GET /company/branding)",
            Scope::CompanyWrite => {
                "change the seller's name and accent colour, upload or remove the logo (PUT /company/branding, \
                 PUT and DELETE /company/logo); includes company:read"
            }
        }
    }

    /// Whether holding this scope grants `needed`: itself, and a write scope its own read scope
    /// where its routes answer with what they wrote (products, orders) — documented in
    /// [`Scope::describe`]. `pricing:write` does not include `pricing:read`, nor anything else.
    pub fn grants(self, needed: Scope) -> bool {
        self == needed
            || matches!(
                (self, needed),
                (Scope::CatalogWrite, Scope::CatalogRead)
                    | (Scope::OrdersWrite, Scope::OrdersRead)
                    | (Scope::CreditWrite, Scope::InvoicesRead)
                    | (Scope::PaymentsWrite, Scope::PaymentsRead)
                    | (Scope::LicencesWrite, Scope::LicencesRead)
                    | (Scope::QuotesWrite, Scope::QuotesRead)
                    | (Scope::WebhooksWrite, Scope::WebhooksRead)
                    | (Scope::AccountsWrite, Scope::AccountsRead)
                    | (Scope::CatalogsWrite, Scope::CatalogsRead)
                    | (Scope::CommissionsWrite, Scope::CommissionsRead)
                    | (Scope::CompanyWrite, Scope::CompanyRead)
            )
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn parse_list(s: &str) -> Vec<Scope> {
        s.split(',').filter_map(Scope::parse).collect()
    }

    /// The staff permissions the services check for this scope's routes, and no more.
    fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Scope::CatalogRead => &[StaffArea, ReadCatalog],
            Scope::CatalogWrite => &[StaffArea, ReadCatalog, ManageCatalog],
            // A quote names an account, which must be found first.
            // Price lists' headers are what reps read in the catalog too.
            Scope::PricingRead => &[StaffArea, ViewAllAccounts, ReadCatalog],
            Scope::PricingWrite => &[StaffArea, ManagePrices],
            Scope::StockWrite => &[StaffArea, ManageStock],
            Scope::OrdersRead => &[StaffArea, ViewAllAccounts],
            Scope::OrdersWrite => &[StaffArea, ViewAllAccounts, OrderForCustomers, ManageOrders],
            Scope::InvoicesRead => &[StaffArea, ViewAllAccounts, FinanceArea],
            Scope::CreditWrite => &[StaffArea, ViewAllAccounts, FinanceArea, ManageCredit],
            Scope::PaymentsRead => &[StaffArea, ViewAllAccounts, FinanceArea],
            Scope::PaymentsWrite => &[StaffArea, ViewAllAccounts, FinanceArea, ManageCredit],
            Scope::LicencesRead => &[StaffArea, ViewAllAccounts],
            Scope::LicencesWrite => &[StaffArea, ViewAllAccounts, ManageAccounts],
            Scope::QuotesRead => &[StaffArea, ViewAllAccounts],
            Scope::QuotesWrite => &[StaffArea, ViewAllAccounts, OrderForCustomers],
            Scope::WebhooksRead | Scope::WebhooksWrite => &[StaffArea, ManageWebhooks],
            Scope::AccountsRead => &[StaffArea, ViewAllAccounts],
            // Inviting an account's users is its own permission (reps and the desk hold it too).
            Scope::AccountsWrite => &[StaffArea, ViewAllAccounts, ManageAccounts, InviteAccountUsers],
            // Catalogs name the accounts they are assigned to: read only by who sees every account.
            Scope::CatalogsRead => &[StaffArea, ViewAllAccounts, ReadCatalog],
            Scope::CatalogsWrite => &[StaffArea, ViewAllAccounts, ReadCatalog, ManageCatalog],
            Scope::CommissionsRead => &[StaffArea, ViewCommissions],
            // The commission settings (the hand-over split) are the plans' admin's.
            Scope::CommissionsWrite => &[StaffArea, ViewCommissions, ApproveCommissions, ManageCommissionPlans],
            // The whole seller's figures, with account names.
            Scope::DashboardsRead => &[StaffArea, ViewAllAccounts, ViewDashboards],
            // The company's settings are the admin's ("Your company").
            Scope::CompanyRead | Scope::CompanyWrite => &[StaffArea, AdminArea],
        }
    }
}

/// Through what an actor acts: recorded (as [`ActorChannel::as_str`]) on every audit row, order
/// event and stock movement. An order placed by staff records its own channel (rep or phone; see
/// `domain::orders::Channel`), so its rows say how the order came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorChannel {
    /// A buyer on the portal.
    Portal,
    /// Seller staff on their pages.
    Staff,
    /// A sales rep ordering for an account of their book.
    Rep,
    /// Staff ordering for a customer who called or wrote.
    Phone,
    /// An integration with an API token.
    Api,
    /// Someone not signed in, on the web (an invitation or password-reset link).
    Web,
    /// The command line (`portico user`, imports, the demo).
    Cli,
    /// Portico itself (jobs, housekeeping).
    System,
}

impl ActorChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorChannel::Portal => "portal",
            ActorChannel::Staff => "staff",
            ActorChannel::Rep => "rep",
            ActorChannel::Phone => "phone",
            ActorChannel::Api => "api",
            ActorChannel::Web => "web",
            ActorChannel::Cli => "cli",
            ActorChannel::System => "system",
        }
    }
}

/// Who is acting: the subject of every permission and scope check.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub kind: PrincipalKind,
    pub permissions: Permissions,
    /// An API token's scopes, which its routes check; empty for people.
    pub scopes: Vec<Scope>,
}

#[derive(Clone, Debug)]
pub enum PrincipalKind {
    Staff { roles: Vec<StaffRole> },
    Buyer { account_id: String, role: BuyerRole },
}

impl Principal {
    pub fn staff(user_id: String, name: String, email: String, roles: Vec<StaffRole>) -> Principal {
        let permissions = staff_permissions(&roles);
        Principal { user_id, name, email, kind: PrincipalKind::Staff { roles }, permissions, scopes: Vec::new() }
    }

    pub fn buyer(user_id: String, name: String, email: String, account_id: String, role: BuyerRole) -> Principal {
        Principal {
            user_id,
            name,
            email,
            kind: PrincipalKind::Buyer { account_id, role },
            permissions: buyer_permissions(role),
            scopes: Vec::new(),
        }
    }

    /// An integration acting through an API token: staff-side, with only its scopes' permissions.
    pub fn integration(token_id: String, name: String, scopes: &[Scope]) -> Principal {
        let perms: Vec<Permission> = scopes.iter().flat_map(|s| s.permissions().iter().copied()).collect();
        Principal {
            user_id: format!("api-token:{token_id}"),
            name,
            email: String::new(),
            kind: PrincipalKind::Staff { roles: Vec::new() },
            permissions: Permissions::of(&perms),
            scopes: scopes.to_vec(),
        }
    }

    /// Whether this principal (an API token) holds a scope that grants `needed`.
    pub fn has_scope(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| s.grants(needed))
    }

    pub fn can(&self, p: Permission) -> bool {
        self.permissions.has(p)
    }

    /// The account a buyer belongs to; `None` for staff.
    pub fn buyer_account(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Buyer { account_id, .. } => Some(account_id),
            PrincipalKind::Staff { .. } => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.kind, PrincipalKind::Staff { .. })
    }

    /// Whether this principal may see an account with the given id and owning rep.
    /// A `false` answer is reported as 404, never 403, so ids of other tenants leak nothing.
    pub fn can_see_account(&self, account_id: &str, owner_rep_id: Option<&str>) -> bool {
        match &self.kind {
            PrincipalKind::Buyer { account_id: own, .. } => own == account_id,
            PrincipalKind::Staff { .. } => {
                self.can(Permission::ViewAllAccounts)
                    || (self.can(Permission::ViewOwnBook) && owner_rep_id == Some(self.user_id.as_str()))
            }
        }
    }

    /// How accounts lists are scoped for this principal.
    pub fn account_scope(&self) -> AccountScope<'_> {
        match &self.kind {
            PrincipalKind::Buyer { account_id, .. } => AccountScope::One(account_id),
            PrincipalKind::Staff { .. } if self.can(Permission::ViewAllAccounts) => AccountScope::All,
            PrincipalKind::Staff { .. } if self.can(Permission::ViewOwnBook) => AccountScope::Book(&self.user_id),
            PrincipalKind::Staff { .. } => AccountScope::None,
        }
    }

    pub fn role_labels(&self) -> String {
        match &self.kind {
            PrincipalKind::Staff { roles } => roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
            PrincipalKind::Buyer { role, .. } => role.label().to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountScope<'a> {
    All,
    Book(&'a str),
    One(&'a str),
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buyer_roles_map_to_expected_permissions() {
        let m = buyer_permissions(BuyerRole::Manager);
        assert!(m.has(Permission::ManageOwnAccountUsers) && m.has(Permission::PortalApprove));
        let f = buyer_permissions(BuyerRole::Finance);
        assert!(f.has(Permission::PortalBilling) && !f.has(Permission::PortalOrder));
        let v = buyer_permissions(BuyerRole::Viewer);
        assert!(v.has(Permission::PortalView) && !v.has(Permission::PortalOrder) && !v.has(Permission::PortalBilling));
        for r in BuyerRole::ALL {
            assert!(!buyer_permissions(r).has(Permission::StaffArea));
        }
    }

    #[test]
    fn staff_roles_combine() {
        let rep = staff_permissions(&[StaffRole::SalesRep]);
        assert!(rep.has(Permission::ViewOwnBook) && !rep.has(Permission::ViewAllAccounts));
        let both = staff_permissions(&[StaffRole::SalesRep, StaffRole::Finance]);
        assert!(both.has(Permission::ViewOwnBook) && both.has(Permission::FinanceArea));
        assert!(!staff_permissions(&[StaffRole::Finance]).has(Permission::PortalView));
    }

    #[test]
    fn role_lists_round_trip() {
        let roles = StaffRole::parse_list("finance, admin,bogus,admin");
        assert_eq!(roles, vec![StaffRole::Admin, StaffRole::Finance]);
        assert_eq!(StaffRole::join(&roles), "admin,finance");
    }

    #[test]
    fn account_visibility() {
        let rep = Principal::staff("r1".into(), "R".into(), "r@x".into(), vec![StaffRole::SalesRep]);
        assert!(rep.can_see_account("a1", Some("r1")));
        assert!(!rep.can_see_account("a2", Some("r2")));
        assert!(!rep.can_see_account("a3", None));
        let buyer = Principal::buyer("u".into(), "U".into(), "u@x".into(), "a1".into(), BuyerRole::Viewer);
        assert!(buyer.can_see_account("a1", Some("r9")));
        assert!(!buyer.can_see_account("a2", Some("r9")));
        let cs = Principal::staff("c".into(), "C".into(), "c@x".into(), vec![StaffRole::CustomerService]);
        assert!(cs.can_see_account("anything", None));
    }
}
