//! Fuzzes the overlay engine: bytes split into a kustomization's files, built and printed.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    railyard::fuzzing::overlay(data);
});
