//! Fuzzes the site compiler: bytes as a site file through `compile` and the edge's helpers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    railyard::fuzzing::site(data);
});
