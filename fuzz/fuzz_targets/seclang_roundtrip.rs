#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| assert!(seclang::internal::fuzzing::roundtrip(data)));
