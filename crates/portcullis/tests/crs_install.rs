//! `portcullis crs install` end to end: the real binary downloads from a real loopback HTTP
//! server that serves archives built here from `../shared/crs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn crs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs")
}

fn sha256(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `.tar.gz` of the shared CRS under `coreruleset-4.28.0/`, as GitHub's archives are laid
/// out.
fn crs_archive() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.follow_symlinks(false);
    b.append_dir_all("coreruleset-4.28.0", crs_dir()).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

/// An entry whose name is written raw (the tar crate refuses `..` in `set_path`).
fn raw_entry(b: &mut tar::Builder<impl std::io::Write>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_old();
    let n = name.as_bytes();
    h.as_old_mut().name[..n.len()].copy_from_slice(n);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

/// A small CRS-shaped archive plus `extra` raw entries and a symlink.
fn small_archive(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let rules = crs_dir().join("rules/REQUEST-901-INITIALIZATION.conf");
    b.append_path_with_name(
        &rules,
        "coreruleset-4.28.0/rules/REQUEST-901-INITIALIZATION.conf",
    )
    .unwrap();
    b.append_path_with_name(
        crs_dir().join("crs-setup.conf.example"),
        "coreruleset-4.28.0/crs-setup.conf.example",
    )
    .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "coreruleset-4.28.0/rules/escape", "/etc/passwd")
        .unwrap();
    for (name, data) in extra {
        raw_entry(&mut b, name, data);
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Serves `routes` (path -> body) over HTTP/1.1 on loopback; `/redirect/<path>` answers 302
/// to `/<path>`.
fn serve(routes: HashMap<String, Vec<u8>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { return };
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let (status, extra, body): (&str, String, Vec<u8>) =
                    if let Some(rest) = path.strip_prefix("/redirect") {
                        ("302 Found", format!("Location: {rest}\r\n"), Vec::new())
                    } else if let Some(b) = routes.get(&path) {
                        ("200 OK", String::new(), b.clone())
                    } else {
                        ("404 Not Found", String::new(), Vec::new())
                    };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            });
        }
    });
    base
}

fn install(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["crs", "install"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn right_checksum_installs_and_waf_eval_uses_it() {
    let archive = crs_archive();
    let digest = sha256(&archive);
    let base = serve(HashMap::from([("/crs.tar.gz".to_owned(), archive)]));
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("data/crs");
    let url = format!("{base}/redirect/crs.tar.gz");
    let out = install(&[
        "--url",
        &url,
        "--sha256",
        &digest.to_ascii_uppercase(),
        "--dir",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("installed in"),
        "{}",
        text(&out.stdout)
    );
    assert!(dest.join("rules/REQUEST-901-INITIALIZATION.conf").is_file());
    assert_eq!(
        std::fs::read(dest.join("crs-setup.conf")).unwrap(),
        std::fs::read(crs_dir().join("crs-setup.conf.example")).unwrap(),
        "crs-setup.conf written from the example"
    );
    assert_eq!(listing(&tmp.path().join("data")), ["crs"], "no leftovers");

    // The installed CRS works: `waf eval --crs DEST` blocks an XSS probe.
    let mut child = Command::new(BIN)
        .args(["waf", "eval", "--crs"])
        .arg(&dest)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /?q=<script>alert(1)</script> HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n")
        .unwrap();
    let eval = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&eval.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&eval.stderr)));
    assert_eq!(v["blocked"], true, "{v}");

    // Installing again keeps a customized crs-setup.conf and replaces the rest.
    std::fs::write(dest.join("crs-setup.conf"), "# mine\n").unwrap();
    std::fs::write(dest.join("rules/stale.conf"), "").unwrap();
    let out = install(&[
        "--url",
        &url,
        "--sha256",
        &digest,
        "--dir",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dest.join("crs-setup.conf")).unwrap(),
        "# mine\n"
    );
    assert!(!dest.join("rules/stale.conf").exists());
    assert_eq!(listing(&tmp.path().join("data")), ["crs"], "no leftovers");
}

#[test]
fn wrong_checksum_is_refused_and_leaves_nothing() {
    let archive = small_archive(&[]);
    let base = serve(HashMap::from([("/crs.tar.gz".to_owned(), archive)]));
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("crs");
    let out = install(&[
        "--url",
        &format!("{base}/crs.tar.gz"),
        "--sha256",
        &"0".repeat(64),
        "--dir",
        dest.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("checksum mismatch"),
        "{}",
        text(&out.stderr)
    );
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn path_traversal_is_refused_and_links_are_never_written() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = small_archive(&[("coreruleset-4.28.0/../../evil.txt", b"pwned")]);
    let absolute = small_archive(&[("/tmp/portcullis-crs-evil.txt", b"pwned")]);
    let good = small_archive(&[]);
    let routes = HashMap::from([
        ("/evil.tar.gz".to_owned(), evil.clone()),
        ("/abs.tar.gz".to_owned(), absolute.clone()),
        ("/good.tar.gz".to_owned(), good.clone()),
    ]);
    let base = serve(routes);
    let work = tmp.path().join("a/b");
    std::fs::create_dir_all(&work).unwrap();
    let dest = work.join("crs");
    for (path, data) in [("/evil.tar.gz", &evil), ("/abs.tar.gz", &absolute)] {
        let out = install(&[
            "--url",
            &format!("{base}{path}"),
            "--sha256",
            &sha256(data),
            "--dir",
            dest.to_str().unwrap(),
        ]);
        assert!(!out.status.success(), "{path}");
        assert!(
            text(&out.stderr).contains("unsafe path"),
            "{path}: {}",
            text(&out.stderr)
        );
        assert!(listing(&work).is_empty(), "{:?}", listing(&work));
        assert!(!tmp.path().join("evil.txt").exists());
        assert!(!tmp.path().join("a/evil.txt").exists());
    }
    // A symlink entry is skipped, the rest is installed.
    let out = install(&[
        "--url",
        &format!("{base}/good.tar.gz"),
        "--sha256",
        &sha256(&good),
        "--dir",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dest.join("rules/REQUEST-901-INITIALIZATION.conf").is_file());
    assert!(std::fs::symlink_metadata(dest.join("rules/escape")).is_err());
}

fn have_gpg() -> bool {
    let ok = Command::new("gpg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: `gpg` is not installed (it only makes the test key and signature)");
    }
    ok
}

fn gpg(home: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "gpg {args:?}: {}", text(&out.stderr));
    out.stdout
}

/// The detached signature path: a key made by GnuPG, a signature made by GnuPG, verified by
/// Portcullis against the fingerprint it is told to pin.
#[test]
fn openpgp_signature_is_checked_against_the_pinned_fingerprint() {
    if !have_gpg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    gpg(
        &home,
        &[
            "--quick-gen-key",
            "Test CRS <crs@test.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
    );
    let colons = text(&gpg(
        &home,
        &["--with-colons", "--fingerprint", "crs@test.invalid"],
    ));
    let fpr = colons
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .unwrap()
        .to_owned();
    let key = gpg(&home, &["--armor", "--export", "crs@test.invalid"]);
    let archive = small_archive(&[]);
    let file = tmp.path().join("crs.tar.gz");
    std::fs::write(&file, &archive).unwrap();
    let sig_path = tmp.path().join("crs.tar.gz.asc");
    gpg(
        &home,
        &[
            "--armor",
            "--detach-sign",
            "-o",
            sig_path.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    let sig = std::fs::read(&sig_path).unwrap();
    let other = tmp.path().join("other");
    std::fs::write(&other, b"something else").unwrap();
    let other_sig = tmp.path().join("other.asc");
    gpg(
        &home,
        &[
            "--armor",
            "--detach-sign",
            "-o",
            other_sig.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    let base = serve(HashMap::from([
        ("/crs.tar.gz".to_owned(), archive),
        ("/crs.tar.gz.asc".to_owned(), sig),
        ("/other.asc".to_owned(), std::fs::read(&other_sig).unwrap()),
        ("/key.asc".to_owned(), key),
    ]));
    let dest = tmp.path().join("out/crs");
    let run = |sig: &str, fingerprint: Option<&str>| {
        let mut args = vec![
            "--url".to_owned(),
            format!("{base}/crs.tar.gz"),
            "--signature-url".to_owned(),
            format!("{base}{sig}"),
            "--signing-key-url".to_owned(),
            format!("{base}/key.asc"),
            "--dir".to_owned(),
            dest.to_str().unwrap().to_owned(),
        ];
        if let Some(f) = fingerprint {
            args.push("--signing-key-fingerprint".to_owned());
            args.push(f.to_owned());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        install(&refs)
    };
    // Default pin (the CRS key): our test key is refused.
    let out = run("/crs.tar.gz.asc", None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not the pinned"),
        "{}",
        text(&out.stderr)
    );
    // A signature over other bytes is refused.
    let out = run("/other.asc", Some(&fpr));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("BAD signature"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dest.exists());
    // The right key and signature: installed.
    let out = run("/crs.tar.gz.asc", Some(&fpr.to_ascii_lowercase()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("good signature"),
        "{}",
        text(&out.stderr)
    );
    assert!(dest.join("rules/REQUEST-901-INITIALIZATION.conf").is_file());
}
