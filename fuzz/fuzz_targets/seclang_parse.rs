#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| seclang::internal::fuzzing::parse(data));
