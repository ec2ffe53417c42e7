//! `perfwatch user add NAME [--admin | --role R [--project P]] [--password-stdin]`,
//! `perfwatch user role NAME ROLE [--project P]`, `perfwatch user list`.

use std::io::Read;

use clap::{Args, Subcommand};
use perfwatch_backend::accounts::Role;
use perfwatch_backend::Store;

use super::DbArgs;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user. The password is read from standard input (`--password-stdin`)
    /// or from PERFWATCH_PASSWORD.
    Add {
        name: String,
        /// Global admin (the first account).
        #[arg(long)]
        admin: bool,
        /// Role: viewer, triager or admin (global unless --project).
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a role, globally or on one project.
    Role {
        name: String,
        role: String,
        #[arg(long)]
        project: Option<String>,
    },
    /// List users and their roles.
    List,
}

fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::parse(s).ok_or_else(|| anyhow::anyhow!("role must be viewer, triager or admin"))
}

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.db.database_url).await?;
    match args.action {
        UserAction::Add {
            name,
            admin,
            role,
            project,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.trim_end_matches(['\n', '\r']).to_string()
            } else {
                std::env::var("PERFWATCH_PASSWORD").map_err(|_| {
                    anyhow::anyhow!("give the password on standard input with --password-stdin, or in PERFWATCH_PASSWORD")
                })?
            };
            let role = match (admin, role) {
                (true, _) => Some(Role::Admin),
                (false, Some(r)) => Some(parse_role(&r)?),
                (false, None) => None,
            };
            let id = perfwatch_backend::accounts::create_user(
                &store,
                &name,
                &password,
                if project.is_none() { role } else { None },
            )
            .await?;
            if let (Some(p), Some(r)) = (&project, role) {
                store.set_membership(id, Some(p), r).await?;
            }
            println!("user {name} created (id {id})");
        }
        UserAction::Role {
            name,
            role,
            project,
        } => {
            let u = store.user_by_name(&name).await?;
            store
                .set_membership(u.id, project.as_deref(), parse_role(&role)?)
                .await?;
            println!(
                "{name} is now {role} on {}",
                project.as_deref().unwrap_or("every project")
            );
        }
        UserAction::List => {
            for u in store.list_users().await? {
                let roles: Vec<String> = u
                    .memberships
                    .iter()
                    .map(|m| {
                        format!(
                            "{}@{}",
                            m.role.as_str(),
                            m.project.as_deref().unwrap_or("*")
                        )
                    })
                    .collect();
                println!("{}\t{}", u.name, roles.join(","));
            }
        }
    }
    Ok(())
}
