#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use config::model::{HostMatch, RouteSettings};

#[tokio::test]
async fn routing_table() {
    let a = backend("a").await;
    let b = backend("b").await;
    let c = backend("c").await;
    let d = backend("d").await;
    let (ua, ub, uc, ud) = (
        upstream("a", vec![a.addr]),
        upstream("b", vec![b.addr]),
        upstream("c", vec![c.addr]),
        upstream("d", vec![d.addr]),
    );
    let s = RouteSettings::default;
    let m = model(vec![
        server(
            host("foo.example.com"),
            vec![
                route(exact("/exact"), &ua, s()),
                route(prefix("/api/v1"), &ub, s()),
                route(prefix("/api"), &uc, s()),
                route(prefix("/"), &ud, s()),
            ],
        ),
        server(host("*.wild.test"), vec![route(prefix("/"), &ub, s())]),
        server(
            host("regex.test"),
            vec![route(regex("/users/[0-9]+"), &uc, s())],
        ),
    ]);
    let gw = start(m).await;
    let cases = [
        ("foo.example.com", "/exact", "a"),
        ("foo.example.com", "/exact/x", "d"),
        ("foo.example.com", "/api/v1/x", "b"),
        ("foo.example.com", "/api/v10", "c"),
        ("foo.example.com", "/api", "c"),
        ("FOO.example.com:8080", "/other", "d"),
        ("x.wild.test", "/", "b"),
        ("regex.test", "/USERS/42/profile", "c"),
    ];
    for (h, p, want) in cases {
        let r = get(gw.addr, h, p).await;
        assert_eq!(r.status, 200, "{h}{p}");
        assert_eq!(r.backend(), want, "{h}{p}");
    }
    for (h, p) in [
        ("a.b.wild.test", "/"),
        ("nope.test", "/"),
        ("regex.test", "/users/x"),
    ] {
        assert_eq!(get(gw.addr, h, p).await.status, 404, "{h}{p}");
    }
}

#[tokio::test]
async fn default_backend_and_503() {
    let a = backend("a").await;
    let empty = upstream("empty", vec![]);
    let mut m = std::sync::Arc::try_unwrap(model(vec![server(
        host("e.test"),
        vec![route(prefix("/"), &empty, RouteSettings::default())],
    )]))
    .unwrap();
    m.default_backend = Some(upstream("def", vec![a.addr]));
    let gw = start(std::sync::Arc::new(m)).await;
    assert_eq!(get(gw.addr, "e.test", "/").await.status, 503);
    let r = get(gw.addr, "other.test", "/x").await;
    assert_eq!((r.status.as_u16(), r.backend().as_str()), (200, "a"));
}

#[tokio::test]
async fn rewrite_target() {
    let a = backend("a").await;
    let up = upstream("a", vec![a.addr]);
    let settings = RouteSettings {
        rewrite_target: Some("/$2".into()),
        ..RouteSettings::default()
    };
    let m = model(vec![server(
        HostMatch::Any,
        vec![route(regex("/something(/|$)(.*)"), &up, settings)],
    )]);
    let gw = start(m).await;
    let r = get(gw.addr, "x", "/something/new/path?q=1").await;
    assert_eq!(r.json()["uri"], "/new/path?q=1");
    let r = get(gw.addr, "x", "/something").await;
    assert_eq!(r.json()["uri"], "/");
}

#[tokio::test]
async fn app_root_and_ssl_redirects() {
    let a = backend("a").await;
    let up = upstream("a", vec![a.addr]);
    let app = RouteSettings {
        app_root: Some("/app".into()),
        ..RouteSettings::default()
    };
    let force = RouteSettings {
        force_ssl_redirect: true,
        ..RouteSettings::default()
    };
    let mut tls_server = server(
        host("tls.test"),
        vec![route(prefix("/"), &up, RouteSettings::default())],
    );
    tls_server.tls = true;
    let m = model(vec![
        server(host("app.test"), vec![route(prefix("/"), &up, app)]),
        server(host("force.test"), vec![route(prefix("/"), &up, force)]),
        tls_server,
    ]);
    let gw = start(m).await;
    let r = get(gw.addr, "app.test", "/").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.headers["location"], "http://app.test/app");
    assert_eq!(get(gw.addr, "app.test", "/other").await.status, 200);

    let r = get(gw.addr, "tls.test", "/a?b=c").await;
    assert_eq!(r.status, 308);
    assert_eq!(r.headers["location"], "https://tls.test/a?b=c");
    let r = get(gw.addr, "force.test", "/x").await;
    assert_eq!(r.status, 308);
    let r = get(gw.addr, "tls.test", "/.well-known/acme-challenge/token").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn forwarded_headers() {
    let a = backend("a").await;
    let up = upstream("a", vec![a.addr]);
    let gw = start(simple(&up, RouteSettings::default())).await;
    let req = http::Request::get(format!("http://{}/p", gw.addr))
        .header("host", "h.test:81")
        .header("x-forwarded-for", "6.6.6.6")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "1")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let r = send(&client(), req).await;
    assert_eq!(r.header("host").unwrap(), "h.test:81");
    // Untrusted peer: spoofed X-Forwarded-For is replaced.
    assert_eq!(r.header("x-forwarded-for").unwrap(), "127.0.0.1");
    assert_eq!(r.header("x-real-ip").unwrap(), "127.0.0.1");
    assert_eq!(r.header("x-forwarded-proto").unwrap(), "http");
    assert_eq!(r.header("x-forwarded-host").unwrap(), "h.test:81");
    assert_eq!(
        r.header("x-forwarded-port").unwrap(),
        gw.addr.port().to_string()
    );
    let id = r.header("x-request-id").unwrap();
    assert_eq!(id.len(), 32);
    assert!(r.header("x-drop-me").is_none());

    let req = http::Request::get(format!("http://{}/p", gw.addr))
        .header("host", "h.test")
        .header("x-request-id", "given")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(
        send(&client(), req).await.header("x-request-id").unwrap(),
        "given"
    );
}

#[tokio::test]
async fn trusted_forwarded_headers() {
    let a = backend("a").await;
    let up = upstream("a", vec![a.addr]);
    let mut m = std::sync::Arc::try_unwrap(simple(&up, RouteSettings::default())).unwrap();
    m.global.use_forwarded_headers = true;
    m.global.proxy_real_ip_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    let gw = start(std::sync::Arc::new(m)).await;
    let req = http::Request::get(format!("http://{}/p", gw.addr))
        .header("host", "h.test")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let r = send(&client(), req).await;
    assert_eq!(r.header("x-forwarded-for").unwrap(), "6.6.6.6, 127.0.0.1");
    assert_eq!(r.header("x-real-ip").unwrap(), "6.6.6.6");
    assert_eq!(r.header("x-forwarded-proto").unwrap(), "https");
}
