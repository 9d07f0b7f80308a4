//! `kube-fixture --dir DIR [--port P] [--token T] [--version V]`: serves a folder of manifests
//! as a read-only Kubernetes API on 127.0.0.1 and prints its URL, for benchmarks and for people
//! with kubectl (`kubectl --server URL --cache-dir "$(mktemp -d)" get deploy -A`).

use std::process::ExitCode;

const USAGE: &str = "usage: kube-fixture --dir DIR [--port P] [--token T] [--version GIT_VERSION]";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut config = kube_fixture::Config::new();
    while let Some(arg) = args.next() {
        let mut value = || args.next();
        match (arg.as_str(), value()) {
            ("--dir", Some(v)) => dir = Some(v),
            ("--port", Some(v)) => match v.parse() {
                Ok(port) => config = config.port(port),
                Err(_) => return usage(&format!("--port {v}: not a port number")),
            },
            ("--token", Some(v)) => config = config.token(v),
            ("--version", Some(v)) => config = config.server_version(v),
            (other, _) => return usage(&format!("unexpected argument {other}")),
        }
    }
    let Some(dir) = dir else {
        return usage("--dir is required");
    };
    let objects = match kube_fixture::load_dir(dir.as_ref()) {
        Ok(objects) => objects,
        Err(e) => {
            eprintln!("kube-fixture: {e}");
            return ExitCode::FAILURE;
        }
    };
    let count = objects.len();
    let running = match kube_fixture::start(config.objects(objects)).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("kube-fixture: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("kube-fixture: serving {count} objects from {dir}");
    println!("{}", running.url);
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("kube-fixture: {problem}\n{USAGE}");
    ExitCode::from(2)
}
