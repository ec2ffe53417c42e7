//! The `perfwatch` binary.

use clap::Parser;
use perfwatch_backend::store::NewProject;
use perfwatch_backend::Store;
use perfwatch_server::cli::{Cli, Command, ProjectAction, TokenAction};
use perfwatch_server::config::{default_site_root, ServerConfig};

fn ensure_sqlite_dir(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    ensure_sqlite_dir(url);
    Ok(Store::connect(url).await?)
}

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
        Command::Serve {
            db,
            addr,
            site_root,
            public_url,
            auto_create_projects,
            private_reads,
            no_demo,
            body_limit,
            secure_cookies,
            detect_inline,
            worker_start_delay_ms,
            runner,
            workers,
        } => {
            ensure_sqlite_dir(&db.database_url);
            let mut config = ServerConfig {
                addr,
                database_url: db.database_url.clone(),
                site_root: site_root.unwrap_or_else(default_site_root),
                public_url,
                auto_create_projects,
                private_reads,
                body_limit,
                demo_if_empty: !no_demo,
                secure_cookies,
                notify: Default::default(),
                detect_inline,
                worker_start_delay: std::time::Duration::from_millis(worker_start_delay_ms),
                login: Default::default(),
                ..ServerConfig::for_database(&db.database_url)
            };
            runner.apply(&mut config);
            config.runner_slots = workers;
            perfwatch_server::allocator::spawn_trimmer();
            perfwatch_server::serve(config, |bound| {
                println!("perfwatch listening on http://{bound}");
            })
            .await?;
        }
        Command::Demo { db } => {
            let store = open(&db.database_url).await?;
            let summary = perfwatch_backend::demo::load(&store).await?;
            println!("{summary}");
        }
        Command::Token { db, action } => {
            let store = open(&db.database_url).await?;
            match action {
                TokenAction::Create {
                    name,
                    project,
                    scope,
                    expires_in_days,
                    expires_at,
                } => {
                    use perfwatch_backend::tokens::{expiry, NewToken};
                    use perfwatch_backend::StoreError;
                    // Say which field is wrong (the error's own text is "invalid input").
                    let named = |e: StoreError| match e {
                        StoreError::Invalid(v) => anyhow::anyhow!("{v}"),
                        other => other.into(),
                    };
                    let now = perfwatch_backend::time::now_ms();
                    let new = NewToken {
                        name: name.clone(),
                        project,
                        scopes: scope,
                        expires_at: expiry(expires_at.as_deref(), expires_in_days, now)
                            .map_err(named)?,
                    };
                    let audit = perfwatch_backend::audit::Audit::local();
                    let (id, secret) =
                        perfwatch_backend::tokens::create_token_by(&store, &audit, &new)
                            .await
                            .map_err(named)?;
                    eprintln!("token {id} '{name}' created; it is shown only now:");
                    println!("{secret}");
                }
                TokenAction::List => {
                    for t in store.list_tokens().await? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            t.id,
                            t.name,
                            t.project.unwrap_or_else(|| "(all projects)".into()),
                            if t.revoked_at.is_some() {
                                "revoked"
                            } else if t
                                .expires_at
                                .is_some_and(|e| e <= perfwatch_backend::time::now_ms())
                            {
                                "expired"
                            } else {
                                "active"
                            }
                        );
                    }
                }
                TokenAction::Revoke { id } => {
                    store.revoke_token(id).await?;
                    println!("token {id} revoked");
                }
            }
        }
        Command::Project { db, action } => {
            let store = open(&db.database_url).await?;
            match action {
                ProjectAction::Add {
                    slug,
                    name,
                    main_branch,
                    repo_url,
                } => {
                    let id = store
                        .create_project(&NewProject {
                            slug: slug.clone(),
                            name,
                            main_branch: Some(main_branch),
                            repo_url,
                        })
                        .await?;
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
        }
        Command::User(args) => perfwatch_server::cli::user::run(args).await?,
        Command::Submit(args) => exit_on(perfwatch_server::cli::submit::run(args).await?),
        Command::Parse(args) => exit_on(perfwatch_server::cli::parse::run(args)?),
        Command::Run(args) => exit_on(perfwatch_server::cli::run::run(args).await?),
        Command::Load(args) => exit_on(perfwatch_server::cli::load::run(*args).await?),
        Command::DemoService(args) => perfwatch_server::cli::load_demo::run(args).await?,
        Command::Import(args) => exit_on(perfwatch_server::cli::import::run(args).await?),
        Command::Detect(args) => {
            if args.project.is_some() {
                ensure_sqlite_dir(&args.db.database_url);
            }
            perfwatch_server::cli::detect::run(args).await?
        }
        Command::Worker(args) => {
            ensure_sqlite_dir(&args.db.database_url);
            perfwatch_server::cli::jobs::worker(args).await?
        }
        Command::Github(args) => {
            ensure_sqlite_dir(&args.db.database_url);
            perfwatch_server::cli::jobs::github(args).await?
        }
        Command::Job(args) => perfwatch_server::cli::jobs::job(args).await?,
        Command::Metrics(args) => perfwatch_server::cli::metrics::run(args).await?,
        Command::Holidays(args) => perfwatch_server::cli::holidays::run(args).await?,
        Command::Annotate(args) => perfwatch_server::cli::annotate::run(args).await?,
        Command::Compare(args) => {
            if perfwatch_server::cli::compare::run(args).await? {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
