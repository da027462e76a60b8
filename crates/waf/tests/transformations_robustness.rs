//! Every transformation over a fixed set of nasty inputs: no panic, `Cow::Borrowed` only
//! when unchanged, deterministic, and linear enough on long runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::time::{Duration, Instant};

use waf::transformations::TRANSFORMATIONS;

/// Truncated and malformed escapes of every decoder, and other edge cases.
const NASTY: &[&[u8]] = &[
    b"",
    b"%",
    b"%%",
    b"%u",
    b"%U",
    b"%u1",
    b"%u12",
    b"%u123",
    b"%u12345",
    b"%uZZZZ",
    b"%1",
    b"%1g",
    b"+",
    b"&",
    b"&#",
    b"&#x",
    b"&#X",
    b"&#x;",
    b"&#;",
    b"&#xfffffffffffffffffffffffff",
    b"&#99999999999999999999999",
    b"&lt",
    b"&ltx",
    b"&;",
    b"\\",
    b"\\x",
    b"\\x1",
    b"\\u",
    b"\\u12",
    b"\\u123",
    b"\\0",
    b"\\777",
    b"\\8",
    b"\\\n",
    b"\\ffffff",
    b"\\0ffff",
    b"0x",
    b"0x1",
    b"0X",
    b"/*",
    b"*/",
    b"/*/",
    b"<!--",
    b"<!-",
    b"-->",
    b"--",
    b"#",
    b"/",
    b"//",
    b"/.",
    b"/..",
    b"..",
    b".",
    b"./",
    b"../",
    b"\\..\\",
    b"a/../../..",
    b"/a/./b/../../..",
    b"=",
    b"==",
    b"QQ",
    b"QQ=",
    b"Q===",
    b"9",
    b"\x00",
    b"\x00\x00",
    b"\xff",
    b"\xc2",
    b"\xc2\xa0",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xf5\x80\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xed\xa0\x80",
    b"\xc0\x80",
    b"\xa0",
];

fn check(name: &str, f: waf::transformations::Transform, input: &[u8]) {
    let a = f(input);
    let shown = String::from_utf8_lossy(input.get(..40).unwrap_or(input)).into_owned();
    if let Cow::Borrowed(b) = &a {
        assert!(
            *b == input,
            "t:{name}: Cow::Borrowed must be the unchanged input ({} bytes: {shown:?})",
            input.len()
        );
    }
    let b = f(input);
    assert!(a == b, "t:{name} is not deterministic on {shown:?}");
}

#[test]
fn single_bytes_and_nasty_inputs() {
    for &(name, f) in TRANSFORMATIONS {
        for b in 0..=255u8 {
            check(name, f, &[b]);
            for tail in [b'%', b'&', b'\\', b'/', b'#', b'u', b'x', b'0', 0u8, 0xff] {
                check(name, f, &[b, tail]);
                check(name, f, &[tail, b]);
            }
        }
        for input in NASTY {
            check(name, f, input);
            // Nasty input followed and preceded by text, and doubled.
            let mut v = b"ab".to_vec();
            v.extend_from_slice(input);
            check(name, f, &v);
            v.extend_from_slice(input);
            check(name, f, &v);
        }
    }
}

#[test]
fn every_pair_of_transformations_on_nasty_inputs() {
    for &(_, f) in TRANSFORMATIONS {
        for &(name, g) in TRANSFORMATIONS {
            for input in NASTY {
                let once = f(input);
                check(name, g, &once);
            }
        }
    }
}

#[test]
fn long_runs_stay_fast() {
    const N: usize = 16 * 1024;
    let seeds: &[&[u8]] = &[
        b"%",
        b"%u",
        b"%u0",
        b"&#x",
        b"&#",
        b"&",
        b"\\",
        b"\\x",
        b"/..",
        b"../",
        b"/",
        b"/*",
        b"*/",
        b"--",
        b"<!--",
        b"\xf0",
        b"\xc2\xa0",
        b"0x4",
        b" ",
        b"A",
        b"=",
    ];
    for &(name, f) in TRANSFORMATIONS {
        for seed in seeds {
            let input: Vec<u8> = seed.iter().copied().cycle().take(N).collect();
            let start = Instant::now();
            check(name, f, &input);
            if std::env::var_os("WAF_TRANSFORM_TIMES").is_some() {
                eprintln!(
                    "{:>8?} t:{name} {:?}",
                    start.elapsed(),
                    String::from_utf8_lossy(seed)
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "t:{name} on {N} bytes of {:?} took {:?}",
                String::from_utf8_lossy(seed),
                start.elapsed()
            );
        }
    }
}

/// Rough throughput per transformation on a 1 KiB mixed value (run with optimisations:
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test -p waf --test transformations_robustness --
/// --ignored --nocapture throughput`).
#[test]
#[ignore = "measurement, not a check"]
fn throughput() {
    let unit: &[u8] =
        b"id=1%27%20UNION%20SELECT%20a,b/**/FROM%20t&x=%u0041&#x41;\\x41 \t/a/../b?q=caf\xc3\xa9 ";
    let clean: &[u8] = b"category=books&sort=price&order=asc&page=2&per_page=20&q=hello world ";
    for (label, seed) in [("attack-like", unit), ("benign", clean)] {
        let input: Vec<u8> = seed.iter().copied().cycle().take(1024).collect();
        for &(name, f) in TRANSFORMATIONS {
            let rounds = 2000u32;
            let start = Instant::now();
            let mut total = 0usize;
            for _ in 0..rounds {
                total += f(std::hint::black_box(&input)).len();
            }
            let per = start.elapsed() / rounds;
            let mb_s = 1024.0 / per.as_secs_f64() / 1e6;
            println!("{label:12} t:{name:20} {per:>10?}/KiB {mb_s:8.0} MB/s ({total})");
        }
    }
}
