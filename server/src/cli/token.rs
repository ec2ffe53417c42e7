//! `perfwatch token`: API tokens, straight on the database (for the first admin token).

use clap::{Args, Subcommand};
use perfwatch_backend::tokens::{expiry, NewToken};
use perfwatch_backend::{Store, StoreError};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub db: super::DbArgs,
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; the secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        /// Limit the token to one project.
        #[arg(long)]
        project: Option<String>,
        /// What the token may do: comma-separated ingest, triage, admin.
        #[arg(long, default_value = "ingest")]
        scope: String,
        /// The token stops working after this many days.
        #[arg(long, conflicts_with = "expires_at")]
        expires_in_days: Option<i64>,
        /// The token stops working at this time (RFC 3339 or ms since the epoch).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let store = super::open_store(&args.db.database_url).await?;
    match args.action {
        TokenAction::Create {
            name,
            project,
            scope,
            expires_in_days,
            expires_at,
        } => {
            let now = perfwatch_backend::time::now_ms();
            let new = NewToken {
                name: name.clone(),
                project,
                scopes: scope,
                expires_at: expiry(expires_at.as_deref(), expires_in_days, now).map_err(named)?,
            };
            let audit = perfwatch_backend::audit::Audit::local();
            let (id, secret) = perfwatch_backend::tokens::create_token_by(&store, &audit, &new)
                .await
                .map_err(named)?;
            eprintln!("token {id} '{name}' created; it is shown only now:");
            println!("{secret}");
        }
        TokenAction::List => list(&store).await?,
        TokenAction::Revoke { id } => {
            store.revoke_token(id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// Says which field is wrong (the error's own text is "invalid input").
fn named(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(v) => anyhow::anyhow!("{v}"),
        other => other.into(),
    }
}

async fn list(store: &Store) -> anyhow::Result<()> {
    let now = perfwatch_backend::time::now_ms();
    for t in store.list_tokens().await? {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        let project = t.project.unwrap_or_else(|| "(all projects)".into());
        println!("{}\t{}\t{}\t{}", t.id, t.name, project, state);
    }
    Ok(())
}
