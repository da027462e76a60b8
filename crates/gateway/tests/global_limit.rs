//! `global-rate-limit*` through the gateway with a real `redis-server` on a loopback port
//! (skipped only when the binary is absent and `PORTCULLIS_REQUIRE_REDIS` is unset).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use config::global_limit::GlobalLimitSettings;
use config::model::RouteSettings;
use gateway::GatewayOptions;
use gateway::global_limit::{GlobalLimitCollector, GlobalLimiter, GlobalOptions};
use globallimit::testing::RedisServer;
use http::{Request, StatusCode};
use http_body_util::Full;
use telemetry::{Metrics, MetricsConfig};

fn settings(limit: u64, key: &str, ignored: &[&str], status: Option<&str>) -> RouteSettings {
    let mut s = RouteSettings {
        global_limit: Some(GlobalLimitSettings {
            limit,
            window: Duration::from_secs(3600),
            key: key.to_owned(),
            ignored_cidrs: ignored.iter().map(|c| c.parse().unwrap()).collect(),
        }),
        ..RouteSettings::default()
    };
    s.limits.req_status_code = status.map(|c| c.parse().unwrap());
    s
}

fn patient() -> GlobalOptions {
    GlobalOptions {
        timeout: Duration::from_secs(2),
        ..GlobalOptions::default()
    }
}

async fn limiter(url: &str, opts: GlobalOptions) -> Arc<GlobalLimiter> {
    Arc::new(GlobalLimiter::new(url, opts).unwrap())
}

async fn get_with(addr: std::net::SocketAddr, header: (&str, &str)) -> Reply {
    let req = Request::get(format!("http://{addr}/"))
        .header("host", "app.test")
        .header(header.0, header.1)
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(&client(), req).await
}

#[tokio::test]
async fn keyed_by_header_with_status_retry_after_and_metrics() {
    let Some(redis) = RedisServer::start().unwrap() else {
        return;
    };
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let l = limiter(&redis.url(), patient()).await;
    assert!(l.wait_available(Duration::from_secs(10)).await);
    let metrics = Arc::new(Metrics::new(MetricsConfig::default()).unwrap());
    GlobalLimitCollector::register(Arc::clone(&l), metrics.registry()).unwrap();
    let mut opts = GatewayOptions {
        global_limiter: Some(Arc::clone(&l)),
        ..GatewayOptions::default()
    };
    opts.limits.sinks.metrics = Some(Arc::clone(&metrics));
    let gw = start_with(
        simple(&up, settings(2, "$http_x_api_key", &[], Some("429"))),
        opts,
    )
    .await;

    for _ in 0..2 {
        assert_eq!(
            get_with(gw.addr, ("x-api-key", "k1")).await.status,
            StatusCode::OK
        );
    }
    let r = get_with(gw.addr, ("x-api-key", "k1")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=7200).contains(&retry), "{retry}");
    // Another key has its own budget.
    assert_eq!(
        get_with(gw.addr, ("x-api-key", "k2")).await.status,
        StatusCode::OK
    );
    assert_eq!(b.hits(), 3);

    let text = metrics.render();
    assert!(
        text.lines()
            .any(|l| l.starts_with("portcullis_limit_rejections_total")
                && l.contains("reason=\"global-rate\"")
                && l.ends_with(" 1")),
        "{text}"
    );
    assert!(
        text.contains("portcullis_global_limit_redis_up 1"),
        "{text}"
    );
    assert!(
        text.contains("portcullis_global_limit_checks_total{result=\"deny\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn ignored_cidrs_default_status_and_no_limiter() {
    let Some(redis) = RedisServer::start().unwrap() else {
        return;
    };
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let l = limiter(&redis.url(), patient()).await;
    assert!(l.wait_available(Duration::from_secs(10)).await);
    let with = |s: RouteSettings, l: Option<Arc<GlobalLimiter>>| {
        let opts = GatewayOptions {
            global_limiter: l,
            ..GatewayOptions::default()
        };
        start_with(simple(&up, s), opts)
    };

    // The test client is 127.0.0.1: exempt.
    let gw = with(
        settings(1, "$remote_addr", &["127.0.0.0/8"], None),
        Some(Arc::clone(&l)),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(get(gw.addr, "app.test", "/").await.status, StatusCode::OK);
    }
    drop(gw);

    // Default status 503, keyed by the client address.
    let gw = with(
        settings(1, "$remote_addr", &["10.0.0.0/8"], None),
        Some(Arc::clone(&l)),
    )
    .await;
    assert_eq!(get(gw.addr, "app.test", "/").await.status, StatusCode::OK);
    let r = get(gw.addr, "app.test", "/").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers.contains_key("retry-after"));
    drop(gw);

    // No Redis configured: the annotation is ignored (a warning is logged once).
    let gw = with(settings(1, "$remote_addr", &[], None), None).await;
    for _ in 0..3 {
        assert_eq!(get(gw.addr, "app.test", "/").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn fail_open_and_fail_closed_through_the_gateway() {
    // Nothing listens on the closed port: Redis is unavailable from the start.
    let url = format!("redis://{}", closed_port().await);
    let b = backend("a").await;
    let up = upstream("a", vec![b.addr]);
    let open = limiter(&url, GlobalOptions::default()).await;
    let gw = start_with(
        simple(&up, settings(1, "$remote_addr", &[], None)),
        GatewayOptions {
            global_limiter: Some(open),
            ..GatewayOptions::default()
        },
    )
    .await;
    for _ in 0..3 {
        assert_eq!(get(gw.addr, "app.test", "/").await.status, StatusCode::OK);
    }
    let closed = limiter(
        &url,
        GlobalOptions {
            fail_open: false,
            ..GlobalOptions::default()
        },
    )
    .await;
    let gw = start_with(
        simple(&up, settings(1, "$remote_addr", &[], Some("429"))),
        GatewayOptions {
            global_limiter: Some(closed),
            ..GatewayOptions::default()
        },
    )
    .await;
    let r = get(gw.addr, "app.test", "/").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "1");
}
