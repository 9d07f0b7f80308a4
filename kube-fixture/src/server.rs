//! The accept loop: plain HTTP/1.1 on a TCP listener, with the connection-level failures
//! ([`Failure`]) a router alone cannot produce.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::api::{self, Shared};
use crate::store::Store;
use crate::{Config, Failure, StartError};

/// A running server; dropping it stops the server too.
pub struct Running {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub address: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// How many requests reached the server so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every connection.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Loads the objects, binds the listener and serves until [`Running::shutdown`] (or drop).
pub async fn start(config: Config) -> Result<Running, StartError> {
    let store = Store::build(config.objects)?;
    let listener = TcpListener::bind(config.address)
        .await
        .map_err(|source| StartError::Bind {
            address: config.address,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Bind {
        address: config.address,
        source,
    })?;
    let shared = Arc::new(Shared {
        store,
        settings: config.settings,
        address: address.to_string(),
    });
    let router = Router::new().fallback(api::handle).with_state(shared);
    let requests = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(
        listener,
        router,
        requests.clone(),
        config.failure,
        stopped,
    ));
    Ok(Running {
        url: format!("http://{address}"),
        address,
        requests,
        stop: Some(stop),
        task: Some(task),
    })
}

async fn serve(
    listener: TcpListener,
    router: Router,
    requests: Arc<AtomicU64>,
    failure: Option<Failure>,
    mut stopped: oneshot::Receiver<()>,
) {
    let (gone_tx, mut gone) = watch::channel(false);
    let gone_tx = Arc::new(gone_tx);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = gone.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let router = router.clone();
                let requests = requests.clone();
                let gone_tx = gone_tx.clone();
                let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                    let router = router.clone();
                    let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
                    let gone_tx = gone_tx.clone();
                    async move {
                        match failure {
                            Some(Failure::DropAfter(after)) if n > after => {
                                let _ = gone_tx.send(true);
                                std::future::pending::<()>().await;
                            }
                            Some(Failure::HangAfter(after)) if n > after => {
                                std::future::pending::<()>().await;
                            }
                            Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
                            _ => {}
                        }
                        Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|e| match e {}))
                    }
                });
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
    // Dropping the listener refuses new connections; aborting the tasks closes open ones.
    drop(listener);
    connections.shutdown().await;
}
