//! `server [serve|migrate|demo-data|check]`: runs Demarc, or only its migrations, or loads demo
//! data, or verifies go-live checks on manifests or a cluster (`server check --help`).

use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: rendering pages allocates a lot, from many threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `check` needs no configuration or database, and its standard output is the report: logs
    // (the kube client's) go to standard error, warnings only unless RUST_LOG says otherwise.
    if std::env::args().nth(1).as_deref() == Some("check") {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return server::cli::run(std::env::args().skip(2).collect()).await;
    }
    let json = std::env::var("DEMARC_LOG_FORMAT").is_ok_and(|v| v == "json");
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("demarc: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if command == "migrate" {
        // A release step: needs the database only, not the login provider or the site.
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or("DATABASE_URL is required")?;
        server::connect_and_migrate(&url, 1).await?;
        tracing::info!("migrations are up to date");
        return Ok(());
    }
    let config = server::config::Config::from_env()?;
    let options = server::leptos_options(&config)?;
    let demo = config.demo_data;
    let state = server::build_state(config, options).await?;
    match command.as_str() {
        "serve" => {
            if demo {
                server::demo::load_all(&state.pool, state.clock.now())
                    .await
                    .map_err(|e| format!("demo data: {e}"))?;
            }
            server::serve(state).await.map_err(|e| e.to_string())
        }
        "demo-data" => server::demo::load_all(&state.pool, state.clock.now())
            .await
            .map_err(|e| format!("demo data: {e}")),
        other => Err(format!(
            "unknown command `{other}`: use serve, migrate, demo-data or check"
        )),
    }
}
