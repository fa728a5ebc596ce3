//! The fake's front door: the token endpoint, bearer tokens, `api-version`, injected faults,
//! the request log, and the routing of ARM paths to the store.

use serde_json::{Value, json};

use super::store::{ArmError, Path, State};
use super::{CLIENT_ID, CLIENT_SECRET, Recorded, SUBSCRIPTION, TENANT};

pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) bearer: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

pub(crate) enum Body {
    Json(Value),
    Html(String),
    Empty,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
}

impl Reply {
    pub(crate) fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(value),
        }
    }

    pub(crate) fn with(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_owned(), value));
        self
    }
}

impl From<ArmError> for Reply {
    fn from(e: ArmError) -> Reply {
        Reply::json(
            e.status,
            json!({"error": {"code": e.code, "message": e.message, "details": []}}),
        )
    }
}

/// The api-version each provider's resources are served at (cloud-apis.md §5).
pub(crate) fn api_version_of(namespace: Option<&str>) -> &'static str {
    match namespace.map(str::to_ascii_lowercase).as_deref() {
        Some("microsoft.compute") => "2024-07-01",
        Some("microsoft.network") => "2024-05-01",
        _ => "2021-04-01",
    }
}

/// `a=b&c=d` as pairs, percent-decoded (`+` as a space, as forms encode it).
pub(crate) fn form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl State {
    pub(crate) fn serve(&mut self, r: &Request) -> Reply {
        self.count += 1;
        let reply = self.answer(r);
        self.requests.push(Recorded {
            method: r.method.to_owned(),
            path: r.path.to_owned(),
            query: r.query.to_owned(),
            body: String::from_utf8_lossy(r.body).into_owned(),
            status: reply.status,
        });
        reply
    }

    fn answer(&mut self, r: &Request) -> Reply {
        let lower = r.path.to_ascii_lowercase();
        if r.method == "POST" && lower == format!("/{TENANT}/oauth2/v2.0/token") {
            return self.token(r);
        }
        match r.bearer {
            None => return ArmError::new(401, "AuthenticationFailed", "no bearer token").into(),
            Some(token) => match self.tokens.get(token) {
                None => {
                    return ArmError::new(401, "InvalidAuthenticationToken", "unknown token")
                        .into();
                }
                Some(expiry) if *expiry <= std::time::Instant::now() => {
                    return ArmError::new(401, "ExpiredAuthenticationToken", "token expired")
                        .into();
                }
                Some(_) => {}
            },
        }
        let (bucket, left) = match self.take_token(r.method) {
            Ok(taken) => taken,
            Err(reply) => return reply,
        };
        let mut reply = self.arm(r);
        if let Some(left) = left {
            let header = format!("x-ms-ratelimit-remaining-subscription-{bucket}");
            reply.headers.push((header, left.to_string()));
        }
        reply
    }

    /// A token from the request's bucket: what is left, or the 429 of an empty bucket.
    fn take_token(&mut self, method: &str) -> Result<(&'static str, Option<u32>), Reply> {
        let bucket = match method {
            "GET" => "reads",
            "DELETE" => "deletes",
            _ => "writes",
        };
        let Some((size, per_second)) = self.faults.buckets else {
            return Ok((bucket, None));
        };
        let now = std::time::Instant::now();
        let (tokens, filled) = self.buckets.entry(bucket).or_insert((f64::from(size), now));
        let refill = now.duration_since(*filled).as_secs_f64() * f64::from(per_second);
        *tokens = (*tokens + refill).min(f64::from(size));
        *filled = now;
        if *tokens < 1.0 {
            let wait = ((1.0 - *tokens) / f64::from(per_second.max(1)))
                .ceil()
                .max(1.0);
            return Err(
                Reply::from(ArmError::new(429, "TooManyRequests", "throttled"))
                    .with("retry-after", format!("{wait}"))
                    .with(
                        &format!("x-ms-ratelimit-remaining-subscription-{bucket}"),
                        "0".to_owned(),
                    ),
            );
        }
        *tokens -= 1.0;
        Ok((bucket, Some(*tokens as u32)))
    }

    /// An authenticated ARM request, after the bucket.
    fn arm(&mut self, r: &Request) -> Reply {
        let lower = r.path.to_ascii_lowercase();
        let count = self.count;
        let every = move |n: u32| n > 0 && count % u64::from(n) == 0;
        if every(self.faults.rate_limit_every) {
            return Reply::from(ArmError::new(429, "TooManyRequests", "throttled"))
                .with("retry-after", self.faults.retry_after.to_string())
                .with(
                    "x-ms-ratelimit-remaining-subscription-writes",
                    "0".to_owned(),
                );
        }
        if every(self.faults.server_error_every) {
            return ArmError::new(500, "InternalServerError", "try again").into();
        }
        let query = form(r.query);
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if let Some(id) = lower.strip_prefix("/fake/operations/") {
            return self.operation(id, false);
        }
        if let Some(id) = lower.strip_prefix("/fake/results/") {
            return self.operation(id, true);
        }
        if lower == format!("/subscriptions/{SUBSCRIPTION}/providers/microsoft.compute/skus") {
            if param("api-version").as_deref() != Some("2021-07-01") {
                return ArmError::new(400, "InvalidApiVersionParameter", "2021-07-01").into();
            }
            return self.skus(param("$filter").as_deref());
        }
        let path = match Path::parse(r.path) {
            Ok(path) => path,
            Err(e) => return e.into(),
        };
        let wanted = api_version_of(path.namespace.as_deref());
        if param("api-version").as_deref() != Some(wanted) {
            return ArmError::new(
                400,
                "InvalidApiVersionParameter",
                &format!("the api-version must be `{wanted}`"),
            )
            .into();
        }
        let skip = param("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let result = match r.method {
            "GET" if path.is_list() => Ok(self.list(&path, skip)),
            "GET" => self.get(&path),
            "PUT" => {
                let body: Value = match serde_json::from_slice(r.body) {
                    Ok(body) => body,
                    Err(e) => {
                        return ArmError::new(400, "InvalidRequestContent", &e.to_string()).into();
                    }
                };
                let put = self.put(&path, body);
                if put.is_ok() && every(self.faults.drop_response_every) {
                    return Reply {
                        status: 502,
                        headers: Vec::new(),
                        body: Body::Html("<html><body>502 Bad Gateway</body></html>".to_owned()),
                    };
                }
                put
            }
            "DELETE" => self.delete(&path),
            _ => Err(ArmError::new(405, "MethodNotAllowed", r.method)),
        };
        result.unwrap_or_else(Reply::from)
    }

    /// The Resource SKUs list: VM sizes in the filter's location, restricted as the faults say.
    fn skus(&self, filter: Option<&str>) -> Reply {
        let location = filter
            .and_then(|f| f.strip_prefix("location eq '"))
            .and_then(|f| f.strip_suffix('\''))
            .unwrap_or("uksouth");
        let value: Vec<Value> = ["Standard_D4s_v5", "Standard_D4as_v5", "Standard_B4ms"]
            .iter()
            .map(|size| {
                let restrictions = if self.faults.restricted.contains(size) {
                    json!([{"type": "Location", "values": [location], "reasonCode": "NotAvailableForSubscription"}])
                } else {
                    json!([])
                };
                json!({"resourceType": "virtualMachines", "name": size, "tier": "Standard",
                    "locations": [location], "restrictions": restrictions})
            })
            .collect();
        Reply::json(200, json!({ "value": value }))
    }

    fn token(&mut self, r: &Request) -> Reply {
        let fields = form(&String::from_utf8_lossy(r.body));
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let valid = field("grant_type") == Some("client_credentials")
            && field("client_id") == Some(CLIENT_ID)
            && field("client_secret") == Some(CLIENT_SECRET)
            && field("scope") == Some("https://management.azure.com/.default");
        if !valid {
            return Reply::json(
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: invalid client secret"}),
            );
        }
        self.issued += 1;
        let token = format!("fake-access-token-{:08}-{}", self.issued, "x".repeat(24));
        let lifetime = std::time::Duration::from_secs(self.faults.token_lifetime);
        self.tokens
            .insert(token.clone(), std::time::Instant::now() + lifetime);
        Reply::json(
            200,
            json!({"token_type": "Bearer", "expires_in": self.faults.token_lifetime, "ext_expires_in": self.faults.token_lifetime, "access_token": token}),
        )
    }
}
