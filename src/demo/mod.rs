//! The demo company: Meridian Medical & Industrial Supply, a distributor with reps, customer
//! service, finance and an admin, and 36 customer accounts across every ownership mode and terms.
//! Deterministic: the same seed gives the same company (names, numbers, ids).

mod approvals;
mod catalog;
mod commissions;
pub mod history_scale;
pub mod licences;
mod orders;
pub mod product_images;
mod quotes;
pub mod receivables_scale;
pub mod scale;

use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::auth::{ActorChannel, BuyerRole, StaffRole};
use crate::domain::money::Money;
use crate::service::auth::hash_password_blocking;
use crate::store::image_dir::ImageDir;
use crate::store::{Db, accounts, audit, users};
use serde_json::json;

/// Every demo user signs in with this password.
pub const DEMO_PASSWORD: &str = "meridian-demo-2026";
pub const SEED: u64 = 20_261_126;

/// A small deterministic generator (SplitMix64): enough for picking demo data, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn id(&mut self) -> String {
        let hi = self.next() as u128;
        let lo = self.next() as u128;
        uuid::Builder::from_random_bytes(((hi << 64) | lo).to_be_bytes()).into_uuid().to_string()
    }
}

/// A login shown when the demo starts.
pub struct DemoLogin {
    pub role: &'static str,
    pub email: String,
}

pub const DOMAIN: &str = "meridian-supply.example";

const STAFF: &[(&str, &str, &[StaffRole], &str)] = &[
    ("Avery Collins", "admin", &[StaffRole::Admin], "+1 312 555 0100"),
    ("Rosa Martinez", "rosa.martinez", &[StaffRole::SalesRep], "+1 312 555 0141"),
    ("Daniel Okafor", "daniel.okafor", &[StaffRole::SalesRep], "+1 312 555 0142"),
    ("Priya Shah", "priya.shah", &[StaffRole::SalesRep], "+1 312 555 0143"),
    ("Tom Becker", "tom.becker", &[StaffRole::SalesRep], "+1 312 555 0144"),
    ("Carla Nguyen", "carla.nguyen", &[StaffRole::CustomerService], "+1 312 555 0120"),
    ("Sam Ito", "sam.ito", &[StaffRole::CustomerService], "+1 312 555 0121"),
    ("Fiona Walsh", "fiona.walsh", &[StaffRole::Finance], "+1 312 555 0130"),
    ("Morgan Reyes", "morgan.reyes", &[StaffRole::SalesManager], "+1 312 555 0150"),
];

const CUSTOMERS: &[(&str, &str, &str)] = &[
    ("Lakeside Family Clinic", "Madison", "WI"),
    ("Northgate Dental Group", "Evanston", "IL"),
    ("Riverbend Veterinary Hospital", "Dubuque", "IA"),
    ("Summit Orthopedics", "Denver", "CO"),
    ("Harbor Industrial Services", "Gary", "IN"),
    ("Prairie Urgent Care", "Peoria", "IL"),
    ("St. Agnes Surgical Center", "Milwaukee", "WI"),
    ("Bluewater Marine Works", "Duluth", "MN"),
    ("Cedar Ridge Nursing Home", "Cedar Rapids", "IA"),
    ("Keystone Fabrication", "Toledo", "OH"),
    ("Oakwood Pediatrics", "Ann Arbor", "MI"),
    ("Granite State Laboratories", "Manchester", "NH"),
    ("Metro Dialysis Partners", "Chicago", "IL"),
    ("Pinecrest Physical Therapy", "Grand Rapids", "MI"),
    ("Ironbridge Machining", "Rockford", "IL"),
    ("Valley Ambulance Service", "Fort Wayne", "IN"),
    ("Westshore Dermatology", "Kenosha", "WI"),
    ("Redline Safety Supply", "Joliet", "IL"),
    ("Heartland Veterinary Clinic", "Omaha", "NE"),
    ("Clearview Eye Associates", "Naperville", "IL"),
    ("Northern Plains Hospital", "Fargo", "ND"),
    ("Brightside Dental Studio", "Schaumburg", "IL"),
    ("Foundry Row Manufacturing", "Cleveland", "OH"),
    ("Maple Grove Senior Living", "Maple Grove", "MN"),
    ("Union Street Pharmacy", "Springfield", "IL"),
    ("Tri-County Fire District", "Elgin", "IL"),
    ("Lakeshore Sports Medicine", "Evanston", "IL"),
    ("Copperline Electrical", "Indianapolis", "IN"),
    ("Silver Birch Hospice", "St. Paul", "MN"),
    ("Kingsley Research Institute", "Urbana", "IL"),
    ("Eastgate Occupational Health", "Columbus", "OH"),
    ("Riverside Animal Hospital", "Davenport", "IA"),
    ("Midwest Precision Tooling", "Waukegan", "IL"),
    ("Sunrise Home Health", "Aurora", "IL"),
    ("Harmony Women's Health", "Oak Park", "IL"),
    ("Trailhead Outdoor Clinic", "Bozeman", "MT"),
];

/// The buyer roles of the first eight accounts' users (the requester of the first account is
/// added with its approval rules, `approvals::seed`, so the seeded names stay as they were).
const DEMO_ROLES: [BuyerRole; 4] = [BuyerRole::Manager, BuyerRole::Buyer, BuyerRole::Finance, BuyerRole::Viewer];

const STREETS: &[&str] =
    &["Main St", "Commerce Dr", "Industrial Pkwy", "Lake Ave", "Oak St", "Medical Center Dr", "Harbor Rd", "Market St"];
const FIRST: &[&str] = &[
    "Maria", "James", "Linda", "Robert", "Aisha", "Kevin", "Mei", "Carlos", "Hannah", "Omar", "Grace", "Luis", "Nora",
    "Ethan", "Zoe", "Ravi",
];
const LAST: &[&str] = &[
    "Johnson", "Lee", "Garcia", "Brown", "Kowalski", "Patel", "Schmidt", "Rivera", "Chen", "Murphy", "Haddad", "Novak",
    "Larsen", "Duarte",
];
const TERMS: &[PaymentTerms] = &[
    PaymentTerms::Prepay,
    PaymentTerms::Net(15),
    PaymentTerms::Net(30),
    PaymentTerms::Net(30),
    PaymentTerms::Net(45),
    PaymentTerms::Net(60),
];

fn slug(name: &str) -> String {
    name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect()
}

/// Fills an empty, migrated database with the demo company. Returns one login per role. The
/// products' pictures go to the image directory when one is set, as uploads do.
pub async fn seed(db: &Db, image_dir: Option<&ImageDir>, now: i64) -> Result<Vec<DemoLogin>, sqlx::Error> {
    let rng = Rng(SEED);
    // Every product gets a picture: drawn while the company is seeded.
    let pictures = product_images::draw_pictures();
    // One argon2id hash shared by every demo user keeps seeding fast; real users each get their own salt.
    let password_hash =
        tokio::task::spawn_blocking(|| hash_password_blocking(DEMO_PASSWORD)).await.expect("hashing task");
    let (logins, seed) = db
        .write((rng.0, now, password_hash), |tx, (seed, now, password_hash)| {
            Box::pin(async move {
                let now = *now;
                let password_hash: &str = password_hash;
                let mut rng = Rng(*seed);
                let mut logins = Vec::new();
                let mut reps = Vec::new();
                // Staff added after the first demo releases draw their ids from a stream of their
                // own, so every other demo name (customers' users, logins the tests use) stays.
                let mut later_staff = Rng(*seed ^ 0x5A1E_5000_0000_0001);
                for (name, local, roles, phone) in STAFF {
                    let id = if roles.contains(&StaffRole::SalesManager) { later_staff.id() } else { rng.id() };
                    let email = format!("{local}@{DOMAIN}");
                    users::insert(
                        tx,
                        &users::NewUser {
                            id: &id,
                            email: &email,
                            name,
                            phone,
                            kind: "staff",
                            roles: &StaffRole::join(roles),
                            account_id: None,
                            password_hash: Some(password_hash),
                            now,
                        },
                    )
                    .await?;
                    let role = roles[0];
                    if role == StaffRole::SalesRep {
                        reps.push(id.clone());
                    }
                    if !logins.iter().any(|l: &DemoLogin| l.role == role.label()) {
                        logins.push(DemoLogin { role: role.label(), email });
                    }
                }

                let mut buyer_logins_done = false;
                let mut seeded_accounts: Vec<(String, String)> = Vec::new();
                for (i, (name, city, region)) in CUSTOMERS.iter().enumerate() {
                    let id = rng.id();
                    let number = format!("A-{}", tx.next_counter("account").await?);
                    // The first account (whose logins are printed) is hybrid: its buyers order
                    // themselves and routing rules send some orders to its rep.
                    let mode = [OwnershipMode::Hybrid, OwnershipMode::RepLed, OwnershipMode::SelfService][i % 3];
                    // Every rep-led and hybrid account has a rep; some self-service accounts do too.
                    let owner = if mode != OwnershipMode::SelfService || i % 2 == 0 {
                        Some(reps[i % reps.len()].clone())
                    } else {
                        None
                    };
                    let status = match i {
                        7 | 23 => AccountStatus::OnHold,
                        11 | 29 | 35 => AccountStatus::Onboarding,
                        _ => AccountStatus::Active,
                    };
                    let terms = *rng.pick(TERMS);
                    let credit = if terms == PaymentTerms::Prepay {
                        Money::ZERO
                    } else {
                        Money::from_units(5_000 * (1 + rng.below(20) as i64)).unwrap_or_default()
                    };
                    let street_no = 100 + rng.below(9_000);
                    let bill = Address {
                        line1: format!("{street_no} {}", rng.pick(STREETS)),
                        line2: if i % 4 == 0 { "Accounts Payable".into() } else { String::new() },
                        city: city.to_string(),
                        region: region.to_string(),
                        postal_code: format!("{:05}", 46_000 + rng.below(9_000)),
                        country: "US".into(),
                    };
                    let draft = AccountDraft {
                        name: name.to_string(),
                        status,
                        ownership_mode: mode,
                        owner_rep_id: owner,
                        terms,
                        credit_limit: credit,
                        po_required: i % 3 == 0,
                        external_id: Some(format!("ERP-C{:05}", 20_000 + i * 7)),
                        phone: format!("+1 555 01{:02}", i),
                        bill_to: bill.clone(),
                    };
                    accounts::insert(tx, &id, &number, &draft, now).await?;
                    seeded_accounts.push((id.clone(), name.to_string()));
                    let sites = 1 + rng.below(3);
                    for s in 0..sites {
                        let label = ["Main", "Receiving dock", "Satellite office"][s as usize];
                        let addr = if s == 0 {
                            Address { line2: String::new(), ..bill.clone() }
                        } else {
                            Address {
                                line1: format!("{} {}", 100 + rng.below(9_000), rng.pick(STREETS)),
                                ..bill.clone()
                            }
                        };
                        accounts::insert_ship_to(tx, &rng.id(), &id, label, &addr, s == 0, now).await?;
                    }
                    // Users: every buyer role in the first eight accounts, a manager and a buyer elsewhere.
                    let roles: &[BuyerRole] = if i < 8 { &DEMO_ROLES } else { &[BuyerRole::Manager, BuyerRole::Buyer] };
                    for role in roles {
                        let uid = rng.id();
                        let first = rng.pick(FIRST);
                        let last = rng.pick(LAST);
                        let email = if i == 0 {
                            format!("{}@{}.example", role.as_str(), slug(name))
                        } else {
                            format!("{}.{}@{}.example", first.to_lowercase(), last.to_lowercase(), slug(name))
                        };
                        users::insert(
                            tx,
                            &users::NewUser {
                                id: &uid,
                                email: &email,
                                name: &format!("{first} {last}"),
                                phone: "",
                                kind: "buyer",
                                roles: role.as_str(),
                                account_id: Some(&id),
                                password_hash: Some(password_hash),
                                now,
                            },
                        )
                        .await?;
                        if i == 0 {
                            logins.push(DemoLogin { role: role_login_label(*role), email });
                        }
                    }
                    buyer_logins_done |= i == 0;
                }
                debug_assert!(buyer_logins_done);
                catalog::seed(tx, &mut rng, now, &seeded_accounts).await?;
                licences::seed(tx, now, &seeded_accounts).await?;
                audit::append(
                    tx,
                    &audit::AuditEntry {
                        at: now,
                        actor_user_id: None,
                        on_behalf_of_account_id: None,
                        channel: ActorChannel::Cli.as_str(),
                        action: "demo.seeded",
                        object_type: "system",
                        object_id: "demo",
                        before: None,
                        after: Some(json!({ "seed": SEED, "accounts": CUSTOMERS.len(), "staff": STAFF.len() })),
                    },
                )
                .await?;
                Ok::<_, sqlx::Error>((logins, rng.0))
            })
        })
        .await?;
    let mut rng = Rng(seed);
    product_images::seed(db, image_dir, now, pictures).await?;
    commissions::seed_plan(db, now).await.map_err(|e| sqlx::Error::Protocol(format!("demo commissions: {e}")))?;
    orders::seed_history(db, now, &mut rng).await.map_err(|e| sqlx::Error::Protocol(format!("demo orders: {e}")))?;
    approvals::seed_routing(db, now).await.map_err(|e| sqlx::Error::Protocol(format!("demo routing: {e}")))?;
    commissions::close_old_months(db, now)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("demo commissions: {e}")))?;
    let mut logins = logins;
    let manager = logins.iter().find(|l| l.role == role_login_label(BuyerRole::Manager)).map(|l| l.email.clone());
    if let Some(manager) = manager
        && let Some(user) = users::find_by_email(db, &manager).await?
        && let (Some(account_id), Some((_, domain))) = (user.account_id, manager.split_once('@'))
    {
        // Quotes before the approval rules: the accepted one was placed before they existed.
        quotes::seed(db, now, &account_id).await.map_err(|e| sqlx::Error::Protocol(format!("demo quotes: {e}")))?;
        let email = approvals::requester_email(domain.trim_end_matches(".example"));
        approvals::seed(db, now, &account_id, &email)
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("demo approvals: {e}")))?;
        let at =
            logins.iter().position(|l| l.role == role_login_label(BuyerRole::Buyer)).map_or(logins.len(), |i| i + 1);
        logins.insert(at, DemoLogin { role: role_login_label(BuyerRole::Requester), email });
    }
    // Who buys what is counted by the worker; the seeded history is counted before anyone looks.
    while crate::service::dashboards::count_products_due_by(db, now, i64::MAX, 1_000)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("demo dashboards: {e}")))?
        > 0
    {}
    Ok(logins)
}

fn role_login_label(role: BuyerRole) -> &'static str {
    match role {
        BuyerRole::Manager => "Buyer: purchasing manager",
        BuyerRole::Buyer => "Buyer: buyer",
        BuyerRole::Requester => "Buyer: requester",
        BuyerRole::Finance => "Buyer: finance contact",
        BuyerRole::Viewer => "Buyer: viewer",
    }
}
