//! `perfwatch project`: create and list projects, straight on the database.

use clap::{Args, Subcommand};
use perfwatch_backend::store::NewProject;

#[derive(Debug, Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub db: super::DbArgs,
    #[command(subcommand)]
    pub action: ProjectAction,
}

#[derive(Debug, Subcommand)]
pub enum ProjectAction {
    /// Create a project.
    Add {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "main")]
        main_branch: String,
        #[arg(long)]
        repo_url: Option<String>,
    },
    /// List projects.
    List,
}

pub async fn run(args: ProjectArgs) -> anyhow::Result<()> {
    let store = super::open_store(&args.db.database_url).await?;
    match args.action {
        ProjectAction::Add {
            slug,
            name,
            main_branch,
            repo_url,
        } => {
            let project = NewProject {
                slug: slug.clone(),
                name,
                main_branch: Some(main_branch),
                repo_url,
            };
            let id = store.create_project(&project).await?;
            println!("project {slug} created (id {id})");
        }
        ProjectAction::List => {
            for p in store.list_projects().await? {
                println!(
                    "{}\t{}\t{} series\t{} runs",
                    p.slug, p.name, p.series_count, p.run_count
                );
            }
        }
    }
    Ok(())
}
