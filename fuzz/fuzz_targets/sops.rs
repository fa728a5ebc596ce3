//! Fuzzes SOPS files: bytes as a secrets file, parsed, read for key names and decrypted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    railyard::fuzzing::sops(data);
});
