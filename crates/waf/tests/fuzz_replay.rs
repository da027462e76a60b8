//! Replays the fuzz seeds (`fuzz/seeds/<target>/*`) and saved crashers
//! (`fuzz/regressions/<target>/*`) through the same hooks the cargo-fuzz targets call, so
//! every input that ever broke a target stays a plain, deterministic `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use waf::internal::fuzzing;

fn seclang_roundtrip(data: &[u8]) {
    assert!(
        seclang::internal::fuzzing::roundtrip(data),
        "SecLang print/parse round trip differs"
    );
}

fn hook(target: &str) -> Option<fn(&[u8])> {
    Some(match target {
        "transformations" => fuzzing::transformations,
        "seclang_parse" => seclang::internal::fuzzing::parse,
        "seclang_roundtrip" => seclang_roundtrip,
        "body_urlencoded" => fuzzing::urlencoded,
        "body_multipart" => fuzzing::multipart,
        "body_json" => fuzzing::json,
        "body_xml" => fuzzing::xml,
        _ => return None,
    })
}

fn replay_dir(root: &Path) -> usize {
    let Ok(targets) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut n = 0;
    for target in targets.flatten() {
        let path = target.path();
        if !path.is_dir() {
            continue;
        }
        let name = target.file_name().to_string_lossy().into_owned();
        let f = hook(&name).unwrap_or_else(|| panic!("{}: unknown fuzz target", path.display()));
        for input in std::fs::read_dir(&path).unwrap().flatten() {
            let data = std::fs::read(input.path()).unwrap();
            f(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn seeds_and_regressions_replay() {
    let fuzz = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz"));
    let seeds = replay_dir(&fuzz.join("seeds"));
    let _ = replay_dir(&fuzz.join("regressions"));
    assert!(seeds > 0, "no seeds found under {}", fuzz.display());
}
