//! Accounts and rights: users (argon2id password hashes), login sessions, roles per
//! project or global, and the [`Actor`] that every mutating entry point checks.
//!
//! Rights: `viewer` reads, `triager` also triages (states, assignee, notes, tickets,
//! series sensitivity), `admin` may do everything (ingest, projects, rules, tokens,
//! users, webhooks, ticket templates). A membership without a project is global. API
//! tokens carry scopes (`ingest`, `triage`, `admin`) and optionally one project.
//!
//! Creating a user and changing a membership write their audit row in the same
//! transaction; a membership change also ends every session of the user (a privilege
//! change: the old cookies stop working, the user logs in again). The SQL is in
//! `store/accounts.rs`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::tokens::TokenInfo;
use crate::Store;

/// A login session lasts this long.
pub const SESSION_TTL_MS: i64 = 14 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Triager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Triager => "triager",
            Self::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Self::Viewer),
            "triager" => Some(Self::Triager),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    pub fn grants(self, right: Right) -> bool {
        match self {
            Self::Viewer => right == Right::Read,
            Self::Triager => matches!(right, Right::Read | Right::Triage),
            Self::Admin => true,
        }
    }
}

/// What an entry point needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Right {
    Read,
    Ingest,
    Triage,
    Admin,
}

impl Right {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Ingest => "ingest",
            Self::Triage => "triage",
            Self::Admin => "admin",
        }
    }
}

/// Token scopes: a comma-separated subset of `ingest,triage,admin`.
pub fn parse_scopes(s: &str) -> Result<Vec<Right>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let r = match part {
            "ingest" => Right::Ingest,
            "triage" => Right::Triage,
            "admin" => Right::Admin,
            other => {
                return Err(StoreError::invalid(
                    "scopes",
                    format!("unknown scope '{other}' (use ingest, triage, admin)"),
                ))
            }
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err(StoreError::invalid("scopes", "name at least one scope"));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    /// `None`: every project.
    pub project_id: Option<i64>,
    pub project: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub memberships: Vec<Membership>,
}

/// Who is asking: resolved once per request from a bearer token or a session cookie.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Actor {
    #[default]
    Anonymous,
    Token(TokenInfo),
    User(UserInfo),
}

impl Actor {
    /// How history records name the actor: `user:NAME`, `token:NAME`.
    pub fn label(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".into(),
            Self::Token(t) => format!("token:{}", t.name),
            Self::User(u) => format!("user:{}", u.name),
        }
    }

    pub fn user(&self) -> Option<&UserInfo> {
        match self {
            Self::User(u) => Some(u),
            _ => None,
        }
    }

    /// Whether the actor has `right` on `project` (`None`: a global action, which needs
    /// a global token or a global role).
    pub fn can(&self, right: Right, project: Option<i64>) -> bool {
        let covers =
            |scope: Option<i64>| scope.is_none() || (scope == project && project.is_some());
        match self {
            Self::Anonymous => false,
            Self::Token(t) => {
                covers(t.project_id) && (right == Right::Read || t.scopes.contains(&right))
            }
            Self::User(u) => u
                .memberships
                .iter()
                .any(|m| covers(m.project_id) && m.role.grants(right)),
        }
    }

    /// Whether the actor has `right` on some project (for routes whose project is only
    /// known from the body, the handler checks the project again).
    pub fn can_somewhere(&self, right: Right) -> bool {
        match self {
            Self::Anonymous => false,
            Self::Token(t) => right == Right::Read || t.scopes.contains(&right),
            Self::User(u) => u.memberships.iter().any(|m| m.role.grants(right)),
        }
    }

    /// `Forbidden` unless [`Actor::can`].
    pub fn require(&self, right: Right, project: Option<i64>) -> Result<()> {
        self.require_any(&[right], project)
    }

    /// `Forbidden` unless the actor has one of `rights` on `project` (routes that
    /// accept, say, an ingest token or a triager).
    pub fn require_any(&self, rights: &[Right], project: Option<i64>) -> Result<()> {
        if rights.iter().any(|r| self.can(*r, project)) {
            return Ok(());
        }
        let right = rights
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("' or '");
        Err(StoreError::Forbidden(match self {
            Self::Anonymous => {
                format!("log in (or send an API token) to do this: it needs the '{right}' right")
            }
            _ => format!(
                "{} lacks the '{right}' right {}",
                self.label(),
                if project.is_some() {
                    "on this project"
                } else {
                    "on every project"
                }
            ),
        }))
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::default() // argon2id, v0x13, m = 19 MiB, t = 2, p = 1 (OWASP's minimum)
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Data(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Data(e.to_string()))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StoreError::Data(e.to_string()))?
        .to_string())
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

pub(crate) fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Data(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "name",
            "1 to 64 characters: letters, digits, - _ . @",
        ))
    }
}

/// Creates a user; `role` (global) is given when set. Recorded as done locally.
pub async fn create_user(
    store: &Store,
    name: &str,
    password: &str,
    role: Option<Role>,
) -> Result<i64> {
    create_user_by(store, &Audit::local(), name, password, role).await
}

/// Creates a user (and its global role) with its audit row (`user.create`) in one
/// transaction: the name and password are checked, the password hashed off the async
/// threads (argon2 takes tens of milliseconds), then the store writes.
pub async fn create_user_by(
    store: &Store,
    who: &Audit,
    name: &str,
    password: &str,
    role: Option<Role>,
) -> Result<i64> {
    valid_name(name)?;
    if password.chars().count() < 8 {
        return Err(StoreError::invalid("password", "at least 8 characters"));
    }
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| StoreError::Data(e.to_string()))??;
    store.insert_user(who, name, &hash, role).await
}

/// The user whose password this is, if any. Takes as long for an unknown name.
pub async fn check_password(store: &Store, name: &str, password: &str) -> Result<Option<i64>> {
    let (id, hash) = match store.password_hash_of(name).await? {
        Some((id, hash)) => (Some(id), hash),
        // A well-formed hash of nothing, so that unknown names cost the same.
        None => (None, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N3Jm5kVuVZ5c1JK3zsDa0k0zHCQLh2yqvBNQq2dZn4w".to_string()),
    };
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || password_matches(&pw, &hash))
        .await
        .map_err(|e| StoreError::Data(e.to_string()))?;
    Ok(id.filter(|_| ok))
}

/// The actor of a bearer token, if the token is valid.
pub async fn token_actor(store: &Store, secret: &str) -> Result<Option<Actor>> {
    Ok(crate::tokens::verify_token(store, secret)
        .await?
        .map(Actor::Token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(project: Option<i64>, scopes: Vec<Right>) -> Actor {
        Actor::Token(TokenInfo {
            id: 1,
            name: "t".into(),
            project: None,
            project_id: project,
            scopes,
            created_at: 0,
            revoked_at: None,
            last_used_at: None,
            expires_at: None,
        })
    }

    fn user(memberships: Vec<(Option<i64>, Role)>) -> Actor {
        Actor::User(UserInfo {
            id: 1,
            name: "u".into(),
            memberships: memberships
                .into_iter()
                .map(|(project_id, role)| Membership {
                    project_id,
                    project: None,
                    role,
                })
                .collect(),
        })
    }

    #[test]
    fn roles_and_scopes_grant_rights() {
        assert!(!Actor::Anonymous.can(Right::Read, Some(1)));
        let t = token(Some(1), vec![Right::Ingest]);
        assert!(t.can(Right::Ingest, Some(1)));
        assert!(!t.can(Right::Ingest, Some(2)));
        assert!(!t.can(Right::Ingest, None));
        assert!(!t.can(Right::Triage, Some(1)));
        let g = token(None, vec![Right::Admin]);
        assert!(g.can(Right::Admin, None) && g.can(Right::Admin, Some(3)));
        let tri = user(vec![(Some(1), Role::Triager), (None, Role::Viewer)]);
        assert!(tri.can(Right::Triage, Some(1)));
        assert!(!tri.can(Right::Triage, Some(2)));
        assert!(tri.can(Right::Read, Some(2)));
        assert!(!tri.can(Right::Ingest, Some(1)));
        let adm = user(vec![(None, Role::Admin)]);
        assert!(adm.can(Right::Admin, None) && adm.can(Right::Ingest, Some(9)));
    }

    #[test]
    fn require_any_needs_one_of_the_rights_on_that_project() {
        let t = token(Some(1), vec![Right::Triage]);
        assert!(t
            .require_any(&[Right::Ingest, Right::Triage], Some(1))
            .is_ok());
        let e = t
            .require_any(&[Right::Ingest, Right::Triage], Some(2))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'ingest' or 'triage'") && e.contains("on this project"),
            "{e}"
        );
        let e = Actor::Anonymous
            .require(Right::Admin, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("log in"), "{e}");
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(
            parse_scopes("ingest, triage").unwrap(),
            vec![Right::Ingest, Right::Triage]
        );
        assert!(parse_scopes("root").is_err());
        assert!(parse_scopes("").is_err());
    }
}
