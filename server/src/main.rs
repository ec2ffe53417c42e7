//! The `perfwatch` binary.

use clap::Parser;
use perfwatch_server::cli::{self, ensure_sqlite_dir, open_store, Cli, Command};

/// Ends the process with `code` when it is not 0 (e.g. `--fail-on regression`).
fn exit_on(code: i32) {
    if code != 0 {
        std::process::exit(code);
    }
}

fn main() -> anyhow::Result<()> {
    // Before the runtime's threads exist, so they share the limited malloc arenas.
    perfwatch_server::allocator::configure();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => cli::serve::run(*args).await?,
        Command::Demo { db } => {
            let store = open_store(&db.database_url).await?;
            let summary = perfwatch_backend::demo::load(&store).await?;
            println!("{summary}");
        }
        Command::Token(args) => cli::token::run(args).await?,
        Command::Project(args) => cli::project::run(args).await?,
        Command::User(args) => cli::user::run(args).await?,
        Command::Submit(args) => exit_on(cli::submit::run(args).await?),
        Command::Parse(args) => exit_on(cli::parse::run(args)?),
        Command::Run(args) => exit_on(cli::run::run(args).await?),
        Command::Load(args) => exit_on(cli::load::run(*args).await?),
        Command::DemoService(args) => cli::load_demo::run(args).await?,
        Command::Import(args) => exit_on(cli::import::run(args).await?),
        Command::Detect(args) => {
            if args.project.is_some() {
                ensure_sqlite_dir(&args.db.database_url);
            }
            cli::detect::run(args).await?
        }
        Command::Worker(args) => {
            ensure_sqlite_dir(&args.db.database_url);
            cli::jobs::worker(args).await?
        }
        Command::Github(args) => {
            ensure_sqlite_dir(&args.db.database_url);
            cli::jobs::github(args).await?
        }
        Command::Job(args) => cli::jobs::job(args).await?,
        Command::Metrics(args) => cli::metrics::run(args).await?,
        Command::Holidays(args) => cli::holidays::run(args).await?,
        Command::Annotate(args) => cli::annotate::run(args).await?,
        Command::Compare(args) => {
            if cli::compare::run(args).await? {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
