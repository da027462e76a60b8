//! Built-in demo backend: a tiny HTTP server that answers every request with a JSON echo of what
//! it received (method, path, query, headers, body size) and its own name, so the bundled example
//! shows routing, rewrites, load balancing and forwarded headers without any other software.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Serves the demo backend on `addr` until the process ends.
pub(crate) async fn run(addr: SocketAddr, name: String) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("demo backend: cannot listen on {addr}"))?;
    tracing::info!(%addr, name, "demo backend listening");
    serve(listener, Arc::from(name)).await;
    Ok(())
}

/// Accept loop on an already bound listener.
pub(crate) async fn serve(listener: TcpListener, name: Arc<str>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let name = Arc::clone(&name);
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&name), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            // Errors here are client disconnects; nothing to report for a demo.
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    name: Arc<str>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body_len = body
        .collect()
        .await
        .map(|b| b.to_bytes().len())
        .unwrap_or(0);
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
            )
        })
        .collect();
    let echo = serde_json::json!({
        "backend": &*name,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_bytes": body_len,
    });
    let mut text = echo.to_string();
    text.push('\n');
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
