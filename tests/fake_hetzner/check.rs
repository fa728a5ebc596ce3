//! Validation for the fake Hetzner API: errors in Hetzner's shape, request fields, labels and
//! label selectors, hostnames, CIDR ranges, SSH public keys and their MD5 fingerprints.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use serde_json::{Map, Value, json};

pub(super) type Labels = BTreeMap<String, String>;
pub(super) type Object = Map<String, Value>;
pub(super) type Result<T> = std::result::Result<T, ApiError>;

/// An error answer: HTTP status plus `{"error": {"code", "message", "details"}}`.
#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: u16,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) details: Value,
}

impl ApiError {
    /// An error with empty details. Statuses follow the overview's table of error codes.
    pub(super) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    /// 422 `invalid_input` naming one field, as Hetzner's example.
    pub(super) fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status: 422,
            code: "invalid_input",
            message: format!("invalid input in field '{field}': {message}"),
            details: json!({ "fields": [{ "name": field, "messages": [message] }] }),
        }
    }

    pub(super) fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(404, "not_found", format!("{} not found", what.into()))
    }

    /// 409 `uniqueness_error`, details naming the field (the overview's example).
    pub(super) fn unique(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: 409,
            code: "uniqueness_error",
            message: message.into(),
            details: json!({ "fields": [{ "name": field }] }),
        }
    }

    /// 422 with an operation-specific code.
    pub(super) fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(422, code, message)
    }

    pub(super) fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message, "details": self.details } })
    }
}

/// The request body as a JSON object: 400 `json_error` when it is not one.
pub(super) fn object(body: &[u8]) -> Result<Object> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            400,
            "json_error",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            400,
            "json_error",
            format!("invalid JSON: {e}"),
        )),
    }
}

/// A field that is present and not null.
pub(super) fn present<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

const MISSING: &str = "Missing data for required field.";

pub(super) fn req_str<'a>(obj: &'a Object, key: &str) -> Result<&'a str> {
    opt_str(obj, key)?.ok_or_else(|| ApiError::invalid(key, MISSING))
}

pub(super) fn opt_str<'a>(obj: &'a Object, key: &str) -> Result<Option<&'a str>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(key, "Not a valid string.")),
    }
}

pub(super) fn opt_bool(obj: &Object, key: &str) -> Result<Option<bool>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(key, "Not a valid boolean.")),
    }
}

pub(super) fn opt_u64(obj: &Object, key: &str) -> Result<Option<u64>> {
    match present(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid(key, "Not a valid integer.")),
    }
}

pub(super) fn req_u64(obj: &Object, key: &str) -> Result<u64> {
    opt_u64(obj, key)?.ok_or_else(|| ApiError::invalid(key, MISSING))
}

/// An array field; a missing or null one is empty.
pub(super) fn opt_array<'a>(obj: &'a Object, key: &str) -> Result<&'a [Value]> {
    match present(obj, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(ApiError::invalid(key, "Not a valid list.")),
    }
}

pub(super) fn req_object<'a>(obj: &'a Object, key: &str) -> Result<&'a Object> {
    opt_object(obj, key)?.ok_or_else(|| ApiError::invalid(key, MISSING))
}

pub(super) fn opt_object<'a>(obj: &'a Object, key: &str) -> Result<Option<&'a Object>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ApiError::invalid(key, "Not a valid mapping type.")),
    }
}

/// An element of an array field that must be an object.
pub(super) fn element<'a>(value: &'a Value, field: &str) -> Result<&'a Object> {
    value
        .as_object()
        .ok_or_else(|| ApiError::invalid(field, "Not a valid mapping type."))
}

/// `labels`: an object of strings, each key and value valid (overview, "Labels").
pub(super) fn labels(obj: &Object) -> Result<Option<Labels>> {
    let Some(map) = opt_object(obj, "labels")? else {
        return Ok(None);
    };
    let mut labels = Labels::new();
    for (key, value) in map {
        let Value::String(value) = value else {
            return Err(ApiError::invalid(
                "labels",
                format!("value of '{key}' is not a string"),
            ));
        };
        label_problem(key, value).map_or(Ok(()), |p| Err(ApiError::invalid("labels", p)))?;
        labels.insert(key.clone(), value.clone());
    }
    Ok(Some(labels))
}

/// Why a label is refused, if it is.
pub(super) fn label_problem(key: &str, value: &str) -> Option<String> {
    if key.starts_with("hetzner.cloud/") {
        return Some(format!(
            "label key '{key}': the prefix hetzner.cloud/ is reserved"
        ));
    }
    if !label_key_ok(key) {
        return Some(format!("label key '{key}' is not valid"));
    }
    if !label_value_ok(value) {
        return Some(format!("label value '{value}' of '{key}' is not valid"));
    }
    None
}

/// `[prefix/]name`: the name ≤ 63 characters, alphanumeric at both ends, `-_.` inside; the
/// prefix a DNS subdomain of at most 253 characters.
fn label_key_ok(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => dns_subdomain_ok(prefix) && label_name_ok(name),
        None => label_name_ok(key),
    }
}

fn label_name_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn label_value_ok(value: &str) -> bool {
    value.is_empty() || label_name_ok(value)
}

fn dns_subdomain_ok(prefix: &str) -> bool {
    !prefix.is_empty() && prefix.len() <= 253 && prefix.split('.').all(dns_label_ok)
}

fn dns_label_ok(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// A server name: a valid hostname as per RFC 1123 (dot-separated labels, ≤ 253 in all).
pub(super) fn hostname_ok(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(dns_label_ok)
}

/// One requirement of a label selector (overview, "Label Selector").
#[derive(Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed label selector: every requirement must hold (comma = AND).
#[derive(Debug)]
pub(super) struct Selector(Vec<Requirement>);

impl Selector {
    pub(super) fn parse(text: &str) -> Result<Selector> {
        let bad = |why: &str| ApiError::invalid("label_selector", format!("'{text}': {why}"));
        let mut requirements = Vec::new();
        for term in split_top_level(text).ok_or_else(|| bad("unbalanced parentheses"))? {
            let term = term.trim();
            if term.is_empty() {
                return Err(bad("empty expression"));
            }
            let requirement = parse_requirement(term).ok_or_else(|| bad("invalid expression"))?;
            requirements.push(requirement);
        }
        Ok(Selector(requirements))
    }

    /// Kubernetes semantics: `!=` and `notin` also match resources without the key.
    pub(super) fn matches(&self, labels: &Labels) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::Absent(k) => !labels.contains_key(k),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        })
    }
}

/// Splits at commas outside parentheses; None when parentheses do not balance.
fn split_top_level(text: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (depth == 0).then(|| {
        parts.push(&text[start..]);
        parts
    })
}

fn parse_requirement(term: &str) -> Option<Requirement> {
    let key = |k: &str| {
        let k = k.trim();
        label_key_ok(k).then(|| k.to_owned())
    };
    let value = |v: &str| {
        let v = v.trim();
        label_value_ok(v).then(|| v.to_owned())
    };
    if let Some(open) = term.find('(') {
        let inner = term[open + 1..].strip_suffix(')')?;
        let words: Vec<&str> = term[..open].split_whitespace().collect();
        let [k, op] = words.as_slice() else {
            return None;
        };
        let values = inner.split(',').map(value).collect::<Option<Vec<_>>>()?;
        return match *op {
            "in" => Some(Requirement::In(key(k)?, values)),
            "notin" => Some(Requirement::NotIn(key(k)?, values)),
            _ => None,
        };
    }
    if let Some(k) = term.strip_prefix('!') {
        return Some(Requirement::Absent(key(k)?));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Some(Requirement::NotEquals(key(k)?, value(v)?));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Some(Requirement::Equals(key(k)?, value(v)?));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Some(Requirement::Equals(key(k)?, value(v)?));
    }
    Some(Requirement::Exists(key(term)?))
}

/// An IPv4 range in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cidr4 {
    pub(super) base: u32,
    pub(super) prefix: u32,
}

impl Cidr4 {
    /// `a.b.c.d/n` with no host bits set.
    pub(super) fn parse(text: &str) -> Option<Cidr4> {
        let (ip, prefix) = text.split_once('/')?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let cidr = Cidr4 {
            base: u32::from(ip),
            prefix,
        };
        (cidr.base & !cidr.mask() == 0).then_some(cidr)
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    pub(super) fn last(self) -> u32 {
        self.base | !self.mask()
    }

    pub(super) fn contains_ip(self, ip: u32) -> bool {
        ip & self.mask() == self.base
    }

    pub(super) fn contains(self, other: Cidr4) -> bool {
        other.prefix >= self.prefix && self.contains_ip(other.base)
    }

    pub(super) fn overlaps(self, other: Cidr4) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// Inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
    pub(super) fn is_rfc1918(self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .filter_map(|r| Cidr4::parse(r))
            .any(|r| r.contains(self))
    }
}

impl std::fmt::Display for Cidr4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// An IPv4 or IPv6 CIDR block with empty host bits (firewall `source_ips`).
pub(super) fn cidr_ok(text: &str) -> bool {
    let Some((ip, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u32>() else {
        return false;
    };
    if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        return prefix <= 32 && u32::from(v4).checked_shl(prefix).unwrap_or(0) == 0;
    }
    if let Ok(v6) = ip.parse::<Ipv6Addr>() {
        return prefix <= 128 && u128::from(v6).checked_shl(prefix).unwrap_or(0) == 0;
    }
    false
}

/// The MD5 fingerprint (colon-separated hex) of an OpenSSH public key line, None when the
/// line is not `<type> <base64 blob> [comment]` with the blob naming the same type.
pub(crate) fn ssh_fingerprint(line: &str) -> Option<String> {
    const TYPES: &[&str] = &[
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    let mut words = line.split_whitespace();
    let kind = words.next().filter(|k| TYPES.contains(k))?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(words.next()?)
        .ok()?;
    let length = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    (blob.get(4..4 + length)? == kind.as_bytes()).then_some(())?;
    let digest = md5(&blob);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// MD5 (RFC 1321), only for SSH key fingerprints as Hetzner shows them.
pub(super) fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for chunk in message.chunks_exact(64) {
        let m: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for (i, (k, s)) in K.iter().zip(S).enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(*k)
                .wrapping_add(m[g])
                .rotate_left(s);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(rotated);
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut digest = [0u8; 16];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    digest
}

/// An OpenSSH ed25519 public key line whose 32 key bytes come from `seed` (not a real key,
/// but well-formed; the fake only fingerprints it).
pub(super) fn fake_ed25519_key(seed: u64, comment: &str) -> String {
    let kind = b"ssh-ed25519";
    let mut blob = Vec::new();
    blob.extend_from_slice(&(kind.len() as u32).to_be_bytes());
    blob.extend_from_slice(kind);
    blob.extend_from_slice(&32u32.to_be_bytes());
    let mut x = seed;
    for _ in 0..4 {
        x = splitmix(x);
        blob.extend_from_slice(&x.to_le_bytes());
    }
    let text = base64::engine::general_purpose::STANDARD.encode(blob);
    format!("ssh-ed25519 {text} {comment}")
}

/// One step of splitmix64: the fake's deterministic source of "randomness".
pub(super) fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
