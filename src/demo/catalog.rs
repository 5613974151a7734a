//! The demo catalog: a medical and industrial supply range (over 2,000 products in a category
//! tree), three warehouses, a base list with volume breaks, group price lists, customer-specific
//! catalogs, and contracts (some expiring soon, one expired, one not yet started).

use super::Rng;
use crate::domain::auth::ActorChannel;
use crate::domain::catalog::{BackorderPolicy, QuantityRules};
use crate::domain::money::Money;
use crate::store::inventory::{self, StockReason};
use crate::store::pricing::{self, NewContract, NewPriceList, format_iso};
use crate::store::products::{self, ProductInput};
use crate::store::{Tx, accounts, catalogs, categories};
use time::Duration;

/// (sub-category, sku prefix, families), each family: (name, uom, price range in cents, dimensions).
type Dim = (&'static str, &'static [&'static str]);
type Family = (&'static str, &'static str, (u64, u64), &'static [Dim]);

const SIZES: Dim = ("Size", &["XS", "S", "M", "L", "XL", "XXL"]);
const GLOVE_PACK: Dim = ("Pack", &["100/box", "200/box", "1000/case"]);
const COLORS: Dim = ("Color", &["Blue", "Black", "White"]);

/// A category: name, SKU prefix and its product families.
type Category = (&'static str, &'static str, &'static [Family]);

const TREE: &[(&str, &[Category])] = &[
    (
        "Medical",
        &[
            (
                "Gloves",
                "GLV",
                &[
                    ("Nitrile Exam Gloves", "BX", (899, 2499), &[SIZES, GLOVE_PACK, COLORS]),
                    (
                        "Latex Exam Gloves",
                        "BX",
                        (799, 1999),
                        &[SIZES, GLOVE_PACK, ("Powder", &["Powder-free", "Powdered"])],
                    ),
                    ("Vinyl Gloves", "BX", (499, 1299), &[SIZES, GLOVE_PACK, ("Grade", &["Food", "Exam"])]),
                    (
                        "Sterile Surgical Gloves",
                        "BX",
                        (2999, 6999),
                        &[
                            ("Size", &["6", "6.5", "7", "7.5", "8", "8.5", "9"]),
                            ("Material", &["Latex", "Polyisoprene", "Neoprene"]),
                        ],
                    ),
                ],
            ),
            (
                "Syringes & Needles",
                "SYR",
                &[
                    (
                        "Luer-Lock Syringe",
                        "BX",
                        (1299, 3999),
                        &[
                            ("Volume", &["1 ml", "3 ml", "5 ml", "10 ml", "20 ml", "60 ml"]),
                            ("Needle", &["None", "21G", "23G", "25G"]),
                            ("Sterility", &["Sterile", "Sterile, safety"]),
                        ],
                    ),
                    (
                        "Hypodermic Needle",
                        "BX",
                        (699, 1999),
                        &[
                            ("Gauge", &["18G", "20G", "21G", "22G", "23G", "25G", "27G", "30G"]),
                            ("Length", &["1/2 in", "5/8 in", "1 in", "1.5 in"]),
                        ],
                    ),
                    (
                        "Insulin Syringe",
                        "BX",
                        (1599, 2899),
                        &[
                            ("Volume", &["0.3 ml", "0.5 ml", "1 ml"]),
                            ("Needle", &["29G", "30G", "31G"]),
                            ("Pack", &["100/box", "500/case"]),
                        ],
                    ),
                ],
            ),
            (
                "Wound Care",
                "WND",
                &[
                    (
                        "Gauze Sponges",
                        "PK",
                        (399, 1499),
                        &[
                            ("Size", &["2x2 in", "3x3 in", "4x4 in"]),
                            ("Ply", &["8-ply", "12-ply", "16-ply"]),
                            ("Sterility", &["Sterile", "Non-sterile"]),
                            ("Pack", &["10/pk", "100/pk"]),
                        ],
                    ),
                    (
                        "Adhesive Bandages",
                        "BX",
                        (299, 1199),
                        &[
                            ("Size", &["3/4 x 3 in", "1 x 3 in", "2 x 4 in", "Knuckle", "Fingertip"]),
                            ("Material", &["Fabric", "Plastic", "Clear"]),
                            ("Pack", &["50/box", "100/box"]),
                        ],
                    ),
                    (
                        "Foam Dressing",
                        "BX",
                        (1999, 5999),
                        &[
                            ("Size", &["2x2 in", "4x4 in", "6x6 in", "4x8 in"]),
                            ("Border", &["Bordered", "Non-bordered"]),
                            ("Adhesive", &["Silicone", "Acrylic"]),
                        ],
                    ),
                ],
            ),
            (
                "Diagnostics",
                "DX",
                &[
                    (
                        "Rapid Strep Test",
                        "KT",
                        (4999, 12999),
                        &[("Tests", &["20", "25", "50"]), ("Format", &["Cassette", "Dipstick"])],
                    ),
                    (
                        "Urinalysis Strips",
                        "BT",
                        (1999, 4999),
                        &[("Parameters", &["2", "4", "10", "11"]), ("Count", &["50", "100"])],
                    ),
                    (
                        "Digital Thermometer Probe Covers",
                        "BX",
                        (899, 1999),
                        &[("Model", &["Oral", "Rectal", "Tympanic"]), ("Pack", &["100/box", "1000/case"])],
                    ),
                    (
                        "Controlled Diagnostic Reagent",
                        "KT",
                        (14999, 39999),
                        &[("Assay", &["Opiate", "Benzodiazepine", "Amphetamine", "THC"]), ("Tests", &["25", "50"])],
                    ),
                ],
            ),
            (
                "Infection Control",
                "INF",
                &[
                    (
                        "Surface Disinfectant Wipes",
                        "CN",
                        (699, 1899),
                        &[
                            ("Count", &["80", "160", "320"]),
                            ("Kill time", &["1 min", "2 min", "3 min"]),
                            ("Scent", &["Unscented", "Citrus"]),
                        ],
                    ),
                    (
                        "Procedure Masks",
                        "BX",
                        (599, 1699),
                        &[("Level", &["ASTM 1", "ASTM 2", "ASTM 3"]), ("Ties", &["Ear loop", "Tie-on"]), COLORS],
                    ),
                    (
                        "Isolation Gowns",
                        "CS",
                        (3999, 9999),
                        &[
                            ("Size", &["Regular", "Large", "XL"]),
                            ("Level", &["AAMI 1", "AAMI 2", "AAMI 3"]),
                            ("Pack", &["10/cs", "50/cs"]),
                        ],
                    ),
                ],
            ),
        ],
    ),
    (
        "Industrial",
        &[
            (
                "Safety & PPE",
                "PPE",
                &[
                    (
                        "Safety Glasses",
                        "EA",
                        (299, 1499),
                        &[
                            ("Lens", &["Clear", "Smoke", "Amber", "Mirror"]),
                            ("Coating", &["Anti-fog", "Anti-scratch"]),
                            ("Frame", &["Wraparound", "Over-the-glass"]),
                        ],
                    ),
                    ("Cut-Resistant Gloves", "PR", (599, 2499), &[SIZES, ("Cut level", &["A2", "A3", "A4", "A6"])]),
                    (
                        "Hard Hat",
                        "EA",
                        (1599, 4999),
                        &[
                            ("Type", &["Type I", "Type II"]),
                            ("Suspension", &["4-point", "6-point"]),
                            ("Color", &["White", "Yellow", "Orange", "Blue"]),
                        ],
                    ),
                    (
                        "Disposable Earplugs",
                        "BX",
                        (1999, 3999),
                        &[
                            ("NRR", &["29 dB", "32 dB", "33 dB"]),
                            ("Cord", &["Corded", "Uncorded"]),
                            ("Pack", &["100 pairs", "200 pairs"]),
                        ],
                    ),
                ],
            ),
            (
                "Fasteners",
                "FST",
                &[
                    (
                        "Hex Cap Screw",
                        "BX",
                        (499, 2999),
                        &[
                            ("Thread", &["1/4-20", "5/16-18", "3/8-16", "1/2-13"]),
                            ("Length", &["1/2 in", "3/4 in", "1 in", "1.5 in", "2 in"]),
                            ("Finish", &["Zinc", "Stainless", "Black oxide"]),
                        ],
                    ),
                    (
                        "Hex Nut",
                        "BX",
                        (299, 1499),
                        &[
                            ("Thread", &["1/4-20", "5/16-18", "3/8-16", "1/2-13"]),
                            ("Finish", &["Zinc", "Stainless", "Black oxide"]),
                            ("Pack", &["100/box", "500/box"]),
                        ],
                    ),
                    (
                        "Flat Washer",
                        "BX",
                        (199, 999),
                        &[
                            ("Size", &["1/4 in", "5/16 in", "3/8 in", "1/2 in"]),
                            ("Finish", &["Zinc", "Stainless"]),
                            ("Pack", &["100/box", "500/box"]),
                        ],
                    ),
                ],
            ),
            (
                "Janitorial",
                "JAN",
                &[
                    (
                        "Trash Can Liners",
                        "CS",
                        (1999, 4999),
                        &[
                            ("Capacity", &["10 gal", "33 gal", "45 gal", "56 gal"]),
                            ("Thickness", &["0.7 mil", "1.2 mil", "1.5 mil"]),
                            ("Color", &["Black", "Clear"]),
                        ],
                    ),
                    (
                        "Paper Towels",
                        "CS",
                        (2999, 6999),
                        &[
                            ("Type", &["Roll", "Multifold", "C-fold"]),
                            ("Ply", &["1-ply", "2-ply"]),
                            ("Color", &["White", "Natural"]),
                        ],
                    ),
                    (
                        "Hand Soap Refill",
                        "CS",
                        (2499, 5999),
                        &[("Type", &["Foam", "Gel", "Antibacterial"]), ("Size", &["800 ml", "1000 ml", "1200 ml"])],
                    ),
                ],
            ),
            (
                "Lab Supplies",
                "LAB",
                &[
                    (
                        "Microcentrifuge Tubes",
                        "BX",
                        (899, 2999),
                        &[
                            ("Volume", &["0.5 ml", "1.5 ml", "2.0 ml"]),
                            ("Cap", &["Snap", "Screw"]),
                            ("Color", &["Clear", "Amber", "Blue"]),
                        ],
                    ),
                    (
                        "Pipette Tips",
                        "RK",
                        (1299, 3999),
                        &[
                            ("Volume", &["10 ul", "200 ul", "1000 ul"]),
                            ("Filter", &["Filtered", "Unfiltered"]),
                            ("Sterility", &["Sterile", "Non-sterile"]),
                        ],
                    ),
                    ("Nitrile Lab Coat", "EA", (2999, 5999), &[SIZES, ("Length", &["Hip", "Knee"])]),
                ],
            ),
            (
                "Electrical",
                "ELC",
                &[
                    (
                        "Cable Ties",
                        "BG",
                        (299, 1999),
                        &[
                            ("Length", &["4 in", "8 in", "11 in", "14 in"]),
                            ("Strength", &["18 lb", "50 lb", "120 lb"]),
                            COLORS,
                        ],
                    ),
                    (
                        "Heat Shrink Tubing",
                        "PK",
                        (499, 2499),
                        &[
                            ("Diameter", &["1/8 in", "1/4 in", "3/8 in", "1/2 in"]),
                            ("Ratio", &["2:1", "3:1"]),
                            ("Color", &["Black", "Red", "Clear"]),
                        ],
                    ),
                    (
                        "Electrical Tape",
                        "RL",
                        (199, 899),
                        &[
                            ("Width", &["1/2 in", "3/4 in"]),
                            ("Color", &["Black", "Red", "Blue", "Green", "White", "Yellow"]),
                            ("Grade", &["General", "Premium"]),
                        ],
                    ),
                ],
            ),
        ],
    ),
];

/// All combinations of the dimension values.
fn variants(dims: &[Dim]) -> Vec<Vec<(&'static str, &'static str)>> {
    let mut out: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
    for (key, values) in dims {
        out = out
            .into_iter()
            .flat_map(|v| {
                values.iter().map(move |val| {
                    let mut n = v.clone();
                    n.push((*key, *val));
                    n
                })
            })
            .collect();
    }
    out
}

fn sku_part(value: &str) -> String {
    value.chars().filter(|c| c.is_ascii_alphanumeric()).take(4).collect::<String>().to_uppercase()
}

/// Account names → which group they belong to, by what they do.
pub(crate) fn group_of(name: &str) -> usize {
    let n = name.to_lowercase();
    if ["hospital", "surgical", "dialysis", "hospice", "nursing", "senior", "health"].iter().any(|k| n.contains(k)) {
        0
    } else if [
        "fabrication",
        "machining",
        "tooling",
        "industrial",
        "marine",
        "electrical",
        "manufacturing",
        "safety",
        "fire",
        "research",
    ]
    .iter()
    .any(|k| n.contains(k))
    {
        2
    } else {
        1
    }
}

pub async fn seed(tx: &mut Tx, rng: &mut Rng, now: i64, accounts: &[(String, String)]) -> Result<(), sqlx::Error> {
    let today = time::OffsetDateTime::from_unix_timestamp(now).map(|t| t.date()).unwrap_or(time::Date::MIN);
    // Warehouses.
    let warehouses = [("CHI", "Chicago DC"), ("IND", "Indianapolis"), ("MSP", "Minneapolis")];
    let mut wh_ids = Vec::new();
    for (i, (code, name)) in warehouses.iter().enumerate() {
        let id = rng.id();
        inventory::insert_warehouse(tx, &id, code, name, i as i64, now).await?;
        wh_ids.push(id);
    }
    // Price lists: base, and one per account group.
    let base = rng.id();
    pricing::insert_price_list(
        tx,
        &NewPriceList {
            id: &base,
            code: "BASE",
            name: "List price 2026",
            is_base: true,
            priority: 1000,
            valid_from: None,
            valid_to: None,
        },
        now,
    )
    .await?;
    // (group, list code, percent of list price the group pays)
    let groups = [
        ("Hospitals & surgery centers", "HOSP", 90),
        ("Clinics & practices", "CLIN", 95),
        ("Industrial & public safety", "IND", 93),
    ];
    let mut group_ids = Vec::new();
    let mut group_lists = Vec::new();
    for (name, code, _) in groups {
        let gid = rng.id();
        accounts::insert_group(tx, &gid, name, now).await?;
        let lid = rng.id();
        pricing::insert_price_list(
            tx,
            &NewPriceList {
                id: &lid,
                code,
                name: &format!("{name} 2026"),
                is_base: false,
                priority: 100,
                valid_from: None,
                valid_to: None,
            },
            now,
        )
        .await?;
        pricing::assign_price_list(tx, &rng.id(), &lid, None, Some(&gid)).await?;
        group_ids.push(gid);
        group_lists.push(lid);
    }
    for (id, name) in accounts {
        let g = &group_ids[group_of(name)];
        accounts::set_group(tx, id, Some(g)).await?;
    }

    // Categories and products.
    let mut product_ids: Vec<(String, u64, usize)> = Vec::new(); // (id, base cents, top index)
    let mut regulated: Vec<String> = Vec::new();
    let mut category_ids: Vec<(String, &str)> = Vec::new();
    for (ti, (top, subs)) in TREE.iter().enumerate() {
        let top_id = rng.id();
        categories::insert_category(tx, &top_id, None, top, top, ti as i64, now).await?;
        category_ids.push((top_id.clone(), top));
        for (si, (sub, prefix, families)) in subs.iter().enumerate() {
            let sub_id = rng.id();
            categories::insert_category(tx, &sub_id, Some(&top_id), sub, &format!("{top} / {sub}"), si as i64, now)
                .await?;
            category_ids.push((sub_id.clone(), sub));
            for (fi, (family, uom, (lo, hi), dims)) in families.iter().enumerate() {
                // Every variant comes from three brands: the house brand and two national ones.
                let brands: Dim = (
                    "Brand",
                    if ti == 0 {
                        &["Meridian Select", "CuraLine", "MedPro"]
                    } else {
                        &["Meridian Select", "IronGuard", "ProShop"]
                    },
                );
                let mut all_dims = vec![brands];
                all_dims.extend_from_slice(dims);
                for (vi, v) in variants(&all_dims).into_iter().enumerate() {
                    let sku = format!(
                        "{prefix}-{}{:03}-{}",
                        fi + 1,
                        vi,
                        v.iter().map(|(_, val)| sku_part(val)).collect::<Vec<_>>().join("")
                    );
                    let name = format!(
                        "{} {family}, {}",
                        v[0].1,
                        v[1..].iter().map(|(_, val)| *val).collect::<Vec<_>>().join(", ")
                    );
                    let is_regulated = family.starts_with("Controlled");
                    let case_pack = uom == &"CS";
                    let input = ProductInput {
                        sku: sku.chars().take(64).collect(),
                        name,
                        description: format!(
                            "{family} from our {sub} range. Ships from stock in Chicago, Indianapolis or Minneapolis."
                        ),
                        category_id: Some(sub_id.clone()),
                        uom: uom.to_string(),
                        pack_size: if case_pack { 10 } else { 1 },
                        rules: if case_pack {
                            QuantityRules { min: 2, multiple: 2, max: Some(200) }
                        } else if rng.below(10) == 0 {
                            QuantityRules { min: 5, multiple: 5, max: None }
                        } else {
                            QuantityRules::default()
                        },
                        image_url: None,
                        regulated_class: is_regulated.then(|| "controlled_substance".to_string()),
                        active: rng.below(100) != 0,
                        backorder: if rng.below(4) == 0 { BackorderPolicy::Allow } else { BackorderPolicy::Deny },
                        external_id: Some(format!("ERP-P{}", 100_000 + product_ids.len())),
                        attributes: v.iter().map(|(k, val)| (k.to_string(), val.to_string())).collect(),
                    };
                    let pid = products::upsert(tx, &rng.id(), &input, now).await?;
                    // Bigger packs cost more: a case of 1000 is priced like eight boxes of 100.
                    let pack_factor = v
                        .iter()
                        .map(|(_, val)| match val.split('/').next().unwrap_or("") {
                            "200" => 2,
                            "500" => 4,
                            "1000" => 8,
                            _ => 1,
                        })
                        .max()
                        .unwrap_or(1);
                    let cents = (lo + rng.below(hi - lo + 1)) * pack_factor;
                    if is_regulated {
                        regulated.push(pid.clone());
                    }
                    product_ids.push((pid, cents, ti));
                }
            }
        }
    }

    // Base prices with volume breaks on most products; group lists a few percent below on their side.
    for (pid, cents, top) in &product_ids {
        let base_price = Money::from_cents(*cents as i64);
        pricing::set_list_price(tx, &base, pid, 1, base_price).await?;
        if cents % 3 != 0 {
            pricing::set_list_price(tx, &base, pid, 10, Money::from_cents((*cents as i64) * 95 / 100)).await?;
            pricing::set_list_price(tx, &base, pid, 50, Money::from_cents((*cents as i64) * 90 / 100)).await?;
        }
        for (gi, (_, _, pct)) in groups.iter().enumerate() {
            // Healthcare groups get the medical side, the industrial group the industrial side.
            let relevant = if gi == 2 { *top == 1 } else { *top == 0 };
            if relevant {
                pricing::set_list_price(tx, &group_lists[gi], pid, 1, Money::from_cents((*cents as i64) * pct / 100))
                    .await?;
            }
        }
        // Stock in each warehouse; some items empty, some on order.
        for wh in &wh_ids {
            let on_hand = match rng.below(20) {
                0 => 0,
                1 => 1 + rng.below(8) as i64,
                _ => 20 + rng.below(600) as i64,
            };
            if on_hand > 0 {
                let why = StockReason {
                    reason: "demo opening balance",
                    actor_user_id: None,
                    channel: ActorChannel::Cli.as_str(),
                };
                inventory::adjust_on_hand(tx, pid, wh, on_hand, &why, now).await?;
            }
            if rng.below(5) == 0 {
                let eta = format_iso(today + Duration::days(3 + rng.below(30) as i64));
                inventory::set_incoming(tx, pid, wh, 50 + rng.below(500) as i64, Some(&eta), now).await?;
            }
        }
    }

    // Catalogs: the default has everything but regulated items; hospitals see everything; the
    // industrial group sees the industrial side plus infection control.
    let default_cat = rng.id();
    catalogs::insert_catalog(tx, &default_cat, "Standard catalog", true, true, now).await?;
    for pid in &regulated {
        catalogs::add_catalog_rule(tx, &default_cat, "exclude_product", pid).await?;
    }
    let full = rng.id();
    catalogs::insert_catalog(tx, &full, "Healthcare — full range incl. regulated", true, false, now).await?;
    catalogs::assign_catalog(tx, &rng.id(), &full, None, Some(&group_ids[0])).await?;
    let industrial = rng.id();
    catalogs::insert_catalog(tx, &industrial, "Industrial", false, false, now).await?;
    for (id, name) in &category_ids {
        if *name == "Industrial" || *name == "Infection Control" {
            catalogs::add_catalog_rule(tx, &industrial, "include_category", id).await?;
        }
    }
    catalogs::assign_catalog(tx, &rng.id(), &industrial, None, Some(&group_ids[2])).await?;
    catalogs::rebuild_catalog_membership(tx).await?;

    // Contracts for every third account: 20–60 products at 12–20 % off, some with a bulk break.
    for (n, (account_id, _)) in accounts.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let number = format!("C-{}", tx.next_counter("contract").await?);
        let (from, to) = match n {
            3 => (today - Duration::days(400), today - Duration::days(5)), // expired
            6 => (today + Duration::days(10), today + Duration::days(375)), // not yet started
            9 | 12 => (today - Duration::days(300), today + Duration::days(12)), // expiring soon
            _ => (today - Duration::days(60), today + Duration::days(120 + rng.below(300) as i64)),
        };
        let cid = rng.id();
        let name = format!("Supply agreement {number}");
        pricing::insert_contract(
            tx,
            &NewContract {
                id: &cid,
                number: &number,
                account_id,
                name: &name,
                valid_from: Some(&format_iso(from)),
                valid_to: Some(&format_iso(to)),
            },
            now,
        )
        .await?;
        let count = 20 + rng.below(41) as usize;
        // Industrial customers contract industrial items; everyone else medical ones.
        let side = if group_of(&accounts[n].1) == 2 { 1 } else { 0 };
        let pool: Vec<&(String, u64, usize)> = product_ids.iter().filter(|(_, _, top)| *top == side).collect();
        for _ in 0..count {
            let (pid, cents, _) = pool[rng.below(pool.len() as u64) as usize];
            let off = 80 + rng.below(9) as i64; // pays 80–88 % of list
            pricing::set_contract_price(tx, &cid, pid, 1, Money::from_cents((*cents as i64) * off / 100)).await?;
            if rng.below(3) == 0 {
                pricing::set_contract_price(tx, &cid, pid, 100, Money::from_cents((*cents as i64) * (off - 6) / 100))
                    .await?;
            }
        }
    }
    // What invoices print and charge: the seller, and sales tax where the customers are (medical
    // supplies at the reduced rates).
    crate::store::invoices::put_setting(tx, "seller.name", "Meridian Medical & Industrial Supply").await?;
    crate::store::invoices::put_setting(
        tx,
        "seller.address",
        "2200 W Fulton St\nChicago IL 60612\nUS\nbilling@meridian-supply.example",
    )
    .await?;
    // Pages show times in Chicago's zone to everyone who has not chosen their own.
    crate::store::invoices::put_setting(tx, "seller.time_zone", "America/Chicago").await?;
    // Its brand: a teal accent and a generated logo in it, on every page and mail.
    let accent = crate::domain::branding::Accent::parse("#0b6e4f").expect("a valid colour");
    crate::store::invoices::put_setting(tx, "brand.accent", &accent.hex()).await?;
    let logo = crate::domain::branding::generated_logo(&accent);
    crate::store::branding::put_logo(
        tx,
        logo.format.content_type(),
        &logo.bytes,
        (logo.width, logo.height),
        &logo.etag(),
        0,
    )
    .await?;
    for (region, class, ppm, label) in [
        ("IL", "standard", 62_500, "IL sales tax 6.25%"),
        ("IL", "medical", 10_000, "IL medical 1%"),
        ("WI", "standard", 50_000, "WI sales tax 5%"),
        ("WI", "medical", 0, "WI medical exempt"),
        ("IN", "standard", 70_000, "IN sales tax 7%"),
        ("MN", "standard", 68_750, "MN sales tax 6.875%"),
    ] {
        let rate = crate::domain::invoicing::TaxRate {
            country: "US".into(),
            region: region.into(),
            tax_class: class.into(),
            rate_ppm: ppm,
            label: label.into(),
        };
        crate::store::invoices::put_tax_rate(tx, &crate::store::new_id(), &rate).await?;
    }
    tx.execute(
        "UPDATE products SET tax_class = 'medical'
         WHERE category_id IN (SELECT id FROM categories WHERE path = 'Medical' OR path LIKE 'Medical / %')",
        vec![],
    )
    .await?;
    Ok(())
}
