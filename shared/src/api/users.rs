//! Accounts an admin manages (`/api/admin/*`) and one-time invites, with the input rules the
//! server enforces, so a page can check them before sending.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::auth::Role;

pub const USERNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;

pub const USERNAME_RULE: &str =
    "A username is 1 to 32 characters: letters, digits, dot, dash or underscore.";
pub const PASSWORD_RULE: &str = "A password is 8 to 256 characters long.";

/// Checks a username and returns it lowercased (usernames are case-insensitive).
pub fn normalize_username(username: &str) -> Result<String, &'static str> {
    let ok = !username.is_empty()
        && username.len() <= USERNAME_MAX_CHARS
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(username.to_ascii_lowercase())
    } else {
        Err(USERNAME_RULE)
    }
}

/// Counts characters, not bytes, so a passphrase-style password in any script is judged fairly.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    // Bound the walk: a megabyte of input must not be counted character by character.
    if password.len() > PASSWORD_MAX_CHARS * 4 {
        return Err(PASSWORD_RULE);
    }
    let chars = password.chars().count();
    if (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(PASSWORD_RULE)
    }
}

/// One account, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub quota_bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// `GET /api/admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserInfo>,
}

/// `POST /api/admin/users`: `role` defaults to member, `quota_bytes` to the server's default.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
}

impl fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("quota_bytes", &self.quota_bytes)
            .finish_non_exhaustive()
    }
}

/// `POST /api/admin/invites`: `role` defaults to member. Unknown fields are refused, so a
/// misspelt `role` cannot quietly make a member invite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A fresh one-time invite. The token is shown once; the server keeps only its hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCreated {
    pub token: String,
    /// `/invite#<token>`: the token sits in the fragment, which browsers never send to a server
    /// or put in a Referer header.
    pub url_path: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl fmt::Debug for InviteCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InviteCreated")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `POST /api/invites/accept` (no session needed): creates the account and signs it in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptInviteRequest {
    pub token: String,
    pub username: String,
    pub password: String,
    /// The new member's key pair, made in their browser with their own passphrase: stored with
    /// the account, and the member waits for an admin to let them in (docs/accounts.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<crate::api::keys::MemberKeys>,
}

impl fmt::Debug for AcceptInviteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptInviteRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_and_lowercased() {
        assert_eq!(normalize_username("Alice.B-2_x"), Ok("alice.b-2_x".into()));
        assert!(normalize_username("").is_err());
        assert!(normalize_username(&"a".repeat(33)).is_err());
        assert!(normalize_username(&"a".repeat(32)).is_ok());
        for bad in ["al ice", "alice/..", "ålice", "alice@x"] {
            assert!(normalize_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_8_to_256_characters() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"é".repeat(256)).is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }
}
