//! Where a page may send the browser after a form (`next` after sign-in, `back` after a user
//! action): only a path on this site.
//!
//! Browsers are lenient with `Location`: they drop tabs and newlines (`/\t/evil.example` becomes
//! `//evil.example`, another host), read `\` as `/`, and decode percent escapes in some places. So
//! a target is accepted only if it starts with exactly one `/` and neither it nor its
//! percent-decoded forms contain a backslash, whitespace, a control character or `://`, and the
//! decoded forms do not start with `//` either.

/// The target if it is a same-site absolute path, else `None` (the caller falls back to home).
pub fn safe_redirect_target(target: &str) -> Option<&str> {
    let mut form = target.to_string();
    // Each round decodes one level of percent-escapes (`%2509` → `%09` → tab); three levels are
    // more than any real link carries.
    for _ in 0..4 {
        if !acceptable(&form) {
            return None;
        }
        let decoded = percent_decode(&form)?;
        if decoded == form {
            return Some(target);
        }
        form = decoded;
    }
    None
}

fn acceptable(s: &str) -> bool {
    s.starts_with('/')
        && !s.starts_with("//")
        && !s.contains("://")
        && !s.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

/// One level of percent-decoding; `None` when the bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::safe_redirect_target as safe;

    #[test]
    fn same_site_paths_pass() {
        for ok in ["/", "/portal", "/portal/orders?status=placed&page=2", "/accounts/abc#users", "/a%2Db"] {
            assert_eq!(safe(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn other_sites_and_tricks_fall_back() {
        for bad in [
            "",
            "portal",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "/redirect?to=https://evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/\u{7f}x",
            "/\u{85}x",
            "/\u{a0}x",
            "/%09/evil.example",
            "/a%20b",
            "/%0a/evil.example",
            "/%5c%5cevil.example",
            "/%2F/evil.example",
            "/%252F/evil.example",
            "/%25252509/evil.example",
            "/%ff",
        ] {
            assert_eq!(safe(bad), None, "{bad:?}");
        }
    }
}
