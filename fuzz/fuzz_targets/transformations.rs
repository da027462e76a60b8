#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| waf::internal::fuzzing::transformations(data));
