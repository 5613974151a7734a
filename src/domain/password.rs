//! Password rules (OWASP ASVS 2.1): 8..=128 characters, no composition rules, and none of the most
//! common passwords. Hashing lives in `service::auth`; this is the pure rule.

const COMMON: &str = include_str!("common_passwords.txt");

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {MIN_LEN} characters.")]
    TooShort,
    #[error("Use at most {MAX_LEN} characters.")]
    TooLong,
    #[error("This password is one of the most commonly used passwords; choose another.")]
    TooCommon,
    #[error("The two passwords do not match.")]
    Mismatch,
}

/// Checks a new password. Length counts Unicode characters, not bytes (ASVS 2.1.1).
pub fn check_new_password(password: &str, confirmation: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if len > MAX_LEN {
        return Err(PasswordError::TooLong);
    }
    if password != confirmation {
        return Err(PasswordError::Mismatch);
    }
    if is_common(password) {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// The list is lowercase; compare case-insensitively so `Password1` is refused too.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON.lines().any(|l| l == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters() {
        assert_eq!(check_new_password("short", "short"), Err(PasswordError::TooShort));
        let long = "x".repeat(129);
        assert_eq!(check_new_password(&long, &long), Err(PasswordError::TooLong));
        let max = "correct horse battery staple ".repeat(4);
        assert!(check_new_password(&max[..116], &max[..116]).is_ok());
        // 8 multi-byte characters are 8 characters, not 24 bytes.
        assert!(check_new_password("ääääöööü", "ääääöööü").is_ok());
    }

    #[test]
    fn no_composition_rules_but_common_passwords_refused() {
        assert!(check_new_password("plain lowercase words", "plain lowercase words").is_ok());
        for p in ["password", "Password1", "12345678", "qwertyuiop", "iloveyou"] {
            assert_eq!(check_new_password(p, p), Err(PasswordError::TooCommon), "{p}");
        }
    }

    #[test]
    fn confirmation_must_match() {
        assert_eq!(check_new_password("tangerine-42-otter", "tangerine-42-oter"), Err(PasswordError::Mismatch));
    }
}
