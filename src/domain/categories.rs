//! Categories: a tree named by materialised paths ("Medical / Gloves / Nitrile") — name rules,
//! path arithmetic and the plans for creating, renaming, moving and deleting (pure; no I/O).

use std::fmt;

/// What separates the levels of a category path; a name may not contain it.
pub const PATH_SEPARATOR: &str = " / ";

/// The longest category name, in characters.
pub const CATEGORY_NAME_MAX: usize = 80;

/// One level of a category path: trimmed, 1–80 characters, no path separator, no control
/// characters, not starting or ending with “/” (which would blur where one level ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(input: &str) -> Result<CategoryName, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Name is required.".into());
        }
        let n = s.chars().count();
        if n > CATEGORY_NAME_MAX {
            return Err(format!("Name is {n} characters long; at most {CATEGORY_NAME_MAX} are allowed."));
        }
        if s.contains(PATH_SEPARATOR) {
            return Err(format!(
                "Name “{s}” contains “ / ”, which separates the levels of a category path; create a subcategory instead."
            ));
        }
        if s.starts_with('/') || s.ends_with('/') {
            return Err(format!("Name “{s}” may not start or end with “/” (it would blur the path separator)."));
        }
        if s.chars().any(char::is_control) {
            return Err("Name may not contain line breaks, tabs or other control characters.".into());
        }
        Ok(CategoryName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Siblings' names must differ by this key (names compare ignoring case).
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

impl fmt::Display for CategoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The path of a category named `name` under `parent` (a path), or at the top level.
pub fn child_path(parent: Option<&str>, name: &CategoryName) -> String {
    match parent {
        Some(p) => format!("{p}{PATH_SEPARATOR}{}", name.as_str()),
        None => name.as_str().to_string(),
    }
}

/// The path of the parent of `path`, if it has one.
pub fn parent_path(path: &str) -> Option<&str> {
    path.rsplit_once(PATH_SEPARATOR).map(|(p, _)| p)
}

/// How deep a path is: 0 for a top-level category.
pub fn path_depth(path: &str) -> usize {
    path.matches(PATH_SEPARATOR).count()
}

/// The names of a path as sent by an integration ("Medical / Gloves / Nitrile"), every level
/// checked; the first bad level is named.
pub fn parse_path(path: &str) -> Result<Vec<CategoryName>, String> {
    if path.trim().is_empty() {
        return Err("Path is required, e.g. “Medical / Gloves”.".into());
    }
    // A level's own spaces next to the separator are not part of its name ("A  / B" is "A", "B").
    path.trim()
        .split(PATH_SEPARATOR)
        .enumerate()
        .map(|(i, level)| {
            CategoryName::parse(level).map_err(|e| format!("Path level {} (“{}”): {e}", i + 1, level.trim()))
        })
        .collect()
}

/// Whether `path` is `ancestor` itself or lies anywhere beneath it.
pub fn is_self_or_descendant(ancestor: &str, path: &str) -> bool {
    path == ancestor || path.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with(PATH_SEPARATOR))
}

/// The path `path` gets when the subtree at `from` is renamed or moved to `to`; `None` when `path`
/// is outside that subtree.
pub fn rebase_path(path: &str, from: &str, to: &str) -> Option<String> {
    if !is_self_or_descendant(from, path) {
        return None;
    }
    Some(format!("{to}{}", &path[from.len()..]))
}

/// A category as the tree rules see it.
#[derive(Clone, Copy, Debug)]
pub struct CategoryNode<'a> {
    pub id: &'a str,
    pub parent_id: Option<&'a str>,
    pub name: &'a str,
    pub path: &'a str,
    pub sort: i64,
}

/// Display order of a tree: depth-first, siblings by sort, then name (ignoring case), then id.
/// Returns (index into `nodes`, depth). Every node appears exactly once, even a node whose parent
/// is missing (shown at the top level).
pub fn tree_order(nodes: &[CategoryNode<'_>]) -> Vec<(usize, usize)> {
    use std::collections::HashMap;
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let parent = n.parent_id.and_then(|p| index.get(p).copied()).filter(|p| *p != i);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            let (a, b) = (&nodes[*a], &nodes[*b]);
            (a.sort, name_key(a.name), a.id).cmp(&(b.sort, name_key(b.name), b.id))
        });
    }
    let mut out = Vec::with_capacity(nodes.len());
    let mut seen = vec![false; nodes.len()];
    // Depth-first with an explicit stack (reversed so the first child is visited first).
    let mut stack: Vec<(usize, usize)> =
        children.get(&None).map(|r| r.iter().rev().map(|i| (*i, 0)).collect()).unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push((i, depth));
        if let Some(kids) = children.get(&Some(i)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    // Only a cycle (which the rules below never create) leaves nodes unvisited; still show them.
    out.extend((0..nodes.len()).filter(|i| !seen[*i]).map(|i| (i, 0)));
    out
}

/// Per node, the sum of `direct` over the node and all its descendants (`parent_of` by index).
pub fn subtree_totals(parent_of: &[Option<usize>], direct: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut totals = direct.to_vec();
    for (i, d) in direct.iter().enumerate() {
        let mut at = parent_of[i];
        // Bounded walk: a (corrupt) cycle cannot loop forever.
        for _ in 0..parent_of.len() {
            let Some(p) = at.filter(|p| *p != i) else { break };
            totals[p].0 += d.0;
            totals[p].1 += d.1;
            at = parent_of[p];
        }
    }
    totals
}

/// The problem of an edit to the tree: which field, and why.
pub type TreeProblem = (&'static str, String);

/// The sibling of a category-to-be that already has its name (ignoring case), if any.
pub fn sibling_named<'a>(
    nodes: &[CategoryNode<'a>],
    parent_id: Option<&str>,
    name: &CategoryName,
    except_id: Option<&str>,
) -> Option<CategoryNode<'a>> {
    let key = name.key();
    nodes.iter().find(|n| n.parent_id == parent_id && Some(n.id) != except_id && name_key(n.name) == key).copied()
}

/// Checks a new category's name and parent; returns its name and path.
pub fn plan_create(
    nodes: &[CategoryNode<'_>],
    name: &str,
    parent_id: Option<&str>,
) -> Result<(CategoryName, String), Vec<TreeProblem>> {
    let mut problems = Vec::new();
    let parent = find_parent(nodes, parent_id, &mut problems);
    let name = CategoryName::parse(name).map_err(|e| problems.push(("name", e))).ok();
    if let (Some(name), Some(parent)) = (&name, &parent)
        && let Some(clash) = sibling_named(nodes, parent_id, name, None)
    {
        problems.push(("name", clash_message(clash, *parent)));
    }
    match (name, parent, problems.is_empty()) {
        (Some(name), Some(parent), true) => {
            let path = child_path(parent.map(|p| p.path), &name);
            Ok((name, path))
        }
        _ => Err(problems),
    }
}

/// What renaming and/or moving a category changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEdit {
    pub name: String,
    pub parent_id: Option<String>,
    pub path: String,
    /// (id, new path) of the category and every descendant whose path changes.
    pub new_paths: Vec<(String, String)>,
    /// The category moved to another parent: rules that match by ancestry may now match differently.
    pub ancestry_changed: bool,
}

impl TreeEdit {
    pub fn changes_nothing(&self) -> bool {
        self.new_paths.is_empty() && !self.ancestry_changed
    }
}

/// Checks renaming category `id` to `name` and (re)placing it under `parent_id` (`None`: top
/// level): the name rules, that the parent exists and is not the category or one of its
/// descendants, and that no sibling there has the name. Returns every path that changes.
pub fn plan_edit(
    nodes: &[CategoryNode<'_>],
    id: &str,
    name: &str,
    parent_id: Option<&str>,
) -> Result<TreeEdit, Vec<TreeProblem>> {
    let Some(me) = nodes.iter().find(|n| n.id == id).copied() else {
        return Err(vec![("category", "This category no longer exists.".into())]);
    };
    let mut problems = Vec::new();
    let parent = find_parent(nodes, parent_id, &mut problems);
    if let Some(Some(p)) = parent
        && is_self_or_descendant(me.path, p.path)
    {
        let why = if p.id == me.id {
            format!("Parent: “{}” cannot be moved under itself.", me.path)
        } else {
            format!("Parent: “{}” cannot be moved under “{}”, which is inside it.", me.path, p.path)
        };
        problems.push(("parent", why));
    }
    let name = CategoryName::parse(name).map_err(|e| problems.push(("name", e))).ok();
    if let (Some(name), Some(parent)) = (&name, &parent)
        && let Some(clash) = sibling_named(nodes, parent_id, name, Some(id))
    {
        problems.push(("name", clash_message(clash, *parent)));
    }
    let (Some(name), Some(parent), true) = (name, parent, problems.is_empty()) else { return Err(problems) };
    let path = child_path(parent.map(|p| p.path), &name);
    let new_paths = if path == me.path {
        Vec::new()
    } else {
        nodes.iter().filter_map(|n| rebase_path(n.path, me.path, &path).map(|p| (n.id.to_string(), p))).collect()
    };
    Ok(TreeEdit {
        name: name.as_str().to_string(),
        parent_id: parent_id.map(str::to_string),
        path,
        new_paths,
        ancestry_changed: me.parent_id != parent_id,
    })
}

/// The parent a form or request names: `Some(None)` for the top level, `None` (with a problem)
/// when there is no such category.
fn find_parent<'a>(
    nodes: &[CategoryNode<'a>],
    parent_id: Option<&str>,
    problems: &mut Vec<TreeProblem>,
) -> Option<Option<CategoryNode<'a>>> {
    match parent_id {
        None => Some(None),
        Some(pid) => match nodes.iter().find(|n| n.id == pid) {
            Some(p) => Some(Some(*p)),
            None => {
                problems.push(("parent", "Parent: that category does not exist (any more).".into()));
                None
            }
        },
    }
}

fn clash_message(clash: CategoryNode<'_>, parent: Option<CategoryNode<'_>>) -> String {
    let place = match parent {
        Some(p) => format!("under “{}”", p.path),
        None => "at the top level".to_string(),
    };
    format!("Name: “{}” already exists {place} (names of sibling categories must differ, ignoring case).", clash.name)
}

/// Why a category cannot be deleted, if it cannot: it still holds products or subcategories.
pub fn delete_blockers(path: &str, products: i64, children: i64) -> Option<String> {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let what = match (products, children) {
        (0, 0) => return None,
        (p, 0) => plural(p, "product", "products"),
        (0, c) => plural(c, "subcategory", "subcategories"),
        (p, c) => format!("{} and {}", plural(p, "product", "products"), plural(c, "subcategory", "subcategories")),
    };
    Some(format!("“{path}” still has {what}; move or delete them first."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(id: &'a str, parent: Option<&'a str>, name: &'a str, path: &'a str, sort: i64) -> CategoryNode<'a> {
        CategoryNode { id, parent_id: parent, name, path, sort }
    }

    fn tree() -> Vec<CategoryNode<'static>> {
        vec![
            node("med", None, "Medical", "Medical", 0),
            node("glv", Some("med"), "Gloves", "Medical / Gloves", 0),
            node("nit", Some("glv"), "Nitrile", "Medical / Gloves / Nitrile", 0),
            node("msk", Some("med"), "Masks", "Medical / Masks", 0),
            node("lab", None, "Lab", "Lab", 0),
        ]
    }

    #[test]
    fn category_names_are_checked() {
        assert_eq!(CategoryName::parse("  Exam gloves ").unwrap().as_str(), "Exam gloves");
        assert!(CategoryName::parse("   ").unwrap_err().starts_with("Name is required"));
        assert!(CategoryName::parse(&"é".repeat(80)).is_ok(), "80 characters, not bytes");
        assert!(CategoryName::parse(&"é".repeat(81)).unwrap_err().contains("81 characters"));
        assert!(CategoryName::parse("Gloves / Nitrile").unwrap_err().contains("“ / ”"));
        assert!(CategoryName::parse("100/box").is_ok(), "a slash without spaces is part of the name");
        assert!(CategoryName::parse("Gloves /").is_err() && CategoryName::parse("/Gloves").is_err());
        assert!(CategoryName::parse("Two\nlines").unwrap_err().contains("control"));
        assert_eq!(CategoryName::parse("GLOVES").unwrap().key(), CategoryName::parse("gloves").unwrap().key());
    }

    #[test]
    fn paths_split_and_rebase() {
        let names: Vec<String> =
            parse_path(" Medical /  Gloves / Nitrile ").unwrap().into_iter().map(|n| n.to_string()).collect();
        assert_eq!(names, ["Medical", "Gloves", "Nitrile"]);
        assert!(parse_path("Medical /  / Nitrile").unwrap_err().starts_with("Path level 2"));
        assert!(parse_path("").is_err());
        assert_eq!(parent_path("Medical / Gloves / Nitrile"), Some("Medical / Gloves"));
        assert_eq!(parent_path("Medical"), None);
        assert_eq!(path_depth("Medical / Gloves / Nitrile"), 2);
        assert!(is_self_or_descendant("Medical", "Medical"));
        assert!(is_self_or_descendant("Medical", "Medical / Gloves"));
        assert!(
            !is_self_or_descendant("Medical", "Medical supplies / Gloves"),
            "a prefix of the name is not an ancestor"
        );
        assert!(!is_self_or_descendant("Medical / Gloves", "Medical"));
        assert_eq!(
            rebase_path("Medical / Gloves / Nitrile", "Medical / Gloves", "Lab / PPE").as_deref(),
            Some("Lab / PPE / Nitrile")
        );
        assert_eq!(rebase_path("Medical / Masks", "Medical / Gloves", "Lab / PPE"), None);
        assert_eq!(rebase_path("Medical", "Medical", "Health").as_deref(), Some("Health"));
    }

    #[test]
    fn renaming_a_parent_rewrites_every_descendant() {
        let t = tree();
        let e = plan_edit(&t, "med", " Health ", None).unwrap();
        assert_eq!(e.path, "Health");
        assert!(!e.ancestry_changed);
        let mut paths: Vec<&str> = e.new_paths.iter().map(|(_, p)| p.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["Health", "Health / Gloves", "Health / Gloves / Nitrile", "Health / Masks"]);
        assert!(plan_edit(&t, "glv", "Gloves", Some("med")).unwrap().changes_nothing());
        // A change of case only is a rename.
        assert_eq!(plan_edit(&t, "glv", "gloves", Some("med")).unwrap().new_paths.len(), 2);
    }

    #[test]
    fn moves_are_checked() {
        let t = tree();
        let e = plan_edit(&t, "glv", "Gloves", Some("lab")).unwrap();
        assert!(e.ancestry_changed);
        assert_eq!(
            e.new_paths,
            vec![
                ("glv".to_string(), "Lab / Gloves".to_string()),
                ("nit".to_string(), "Lab / Gloves / Nitrile".to_string())
            ]
        );
        let top = plan_edit(&t, "nit", "Nitrile", None).unwrap();
        assert_eq!((top.path.as_str(), top.ancestry_changed), ("Nitrile", true));
        let under_self = plan_edit(&t, "glv", "Gloves", Some("glv")).unwrap_err();
        assert_eq!(under_self[0].0, "parent");
        assert!(under_self[0].1.contains("under itself"));
        let under_child = plan_edit(&t, "med", "Medical", Some("nit")).unwrap_err();
        assert!(under_child[0].1.contains("which is inside it"), "{under_child:?}");
        assert_eq!(plan_edit(&t, "glv", "Gloves", Some("nope")).unwrap_err()[0].0, "parent");
        // Sibling names clash ignoring case, wherever the category goes.
        let clash = plan_edit(&t, "msk", "GLOVES", Some("med")).unwrap_err();
        assert_eq!(clash[0].0, "name");
        assert!(clash[0].1.contains("already exists under “Medical”"), "{clash:?}");
        assert!(plan_edit(&t, "lab", "medical", None).unwrap_err()[0].1.contains("at the top level"));
        // Every problem at once.
        assert_eq!(plan_edit(&t, "glv", "a / b", Some("nit")).unwrap_err().len(), 2);
    }

    #[test]
    fn new_categories_are_checked() {
        let t = tree();
        assert_eq!(plan_create(&t, "Latex", Some("glv")).unwrap().1, "Medical / Gloves / Latex");
        assert_eq!(plan_create(&t, "Dental", None).unwrap().1, "Dental");
        assert_eq!(plan_create(&t, "nitrile", Some("glv")).unwrap_err()[0].0, "name");
        assert_eq!(plan_create(&t, "", Some("nope")).unwrap_err().len(), 2);
    }

    #[test]
    fn tree_is_ordered_by_sort_then_name() {
        let mut t = tree();
        t[4].sort = -1; // Lab first
        t.push(node("aaa", Some("med"), "aprons", "Medical / aprons", 5));
        let order: Vec<(&str, usize)> = tree_order(&t).into_iter().map(|(i, d)| (t[i].id, d)).collect();
        assert_eq!(order, [("lab", 0), ("med", 0), ("glv", 1), ("nit", 2), ("msk", 1), ("aaa", 1)]);
        // An orphan still shows, at the top.
        let orphan = [node("x", Some("gone"), "X", "Gone / X", 0)];
        assert_eq!(tree_order(&orphan), [(0, 0)]);
    }

    #[test]
    fn totals_roll_up_the_tree() {
        // med <- glv <- nit, med <- msk
        let parents = [None, Some(0), Some(1), Some(0)];
        let totals = subtree_totals(&parents, &[(1, 1), (2, 3), (4, 4), (0, 1)]);
        assert_eq!(totals, [(7, 9), (6, 7), (4, 4), (0, 1)]);
    }

    #[test]
    fn deletes_are_blocked_by_contents() {
        assert_eq!(delete_blockers("Lab", 0, 0), None);
        assert!(delete_blockers("Lab", 1, 0).unwrap().contains("still has 1 product;"));
        assert!(delete_blockers("Lab", 0, 2).unwrap().contains("2 subcategories"));
        assert!(delete_blockers("Lab", 3, 1).unwrap().contains("3 products and 1 subcategory"));
    }
}
