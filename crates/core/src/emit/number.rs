//! Numbers as Go's YAML encoder writes them.

/// Numbers as Go's YAML encoder writes them (kustomize decodes and encodes with it): integers
/// as they are, floats as `strconv.FormatFloat(f, 'g', -1, 64)`: the exponent form when the
/// decimal exponent is below -4 or at least 6 (`1.2345675e+06`, `1e+20`), else plain (`0.25`);
/// integral values that fit 64 bits print as integers (`1e6` is `1000000`).
pub(super) fn push_number(out: &mut String, n: &serde_json::Number) {
    use std::fmt::Write as _;
    if n.is_i64() || n.is_u64() {
        // writing into a String cannot fail
        let _ = write!(out, "{n}");
    } else {
        out.push_str(&number_text(n));
    }
}

/// [`push_number`]'s text on its own.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // kustomize's JSON step writes an integral float below 1e21 as digits, and the YAML step
    // reads those back as an integer when it fits 64 bits
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        #[allow(clippy::cast_possible_truncation)]
        return format!("{}", f as i64);
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if f == 0.0 || (-4..6).contains(&exponent) {
        return format!("{f}");
    }
    format!(
        "{mantissa}e{}{:02}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    )
}
