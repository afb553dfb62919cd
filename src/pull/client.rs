//! The only way Salvage talks to Stripe: [`StripeGet`], a client with one method, `get`.
//!
//! Reading is all a recovery may do, so sending anything else is not a rule to remember but
//! a method that does not exist: there is no `post`, no `delete`, no way to pass a method
//! or a body. The key lives in a [`Secret`], which has no `Display`, a `Debug` that shows
//! only its kind (`rk_live_…`), and is scrubbed from every message this module returns.
//!
//! Built on ureq (blocking, rustls) rather than async-stripe 1.0: the pull keeps each
//! page's raw bytes (no typed struct to lose a field or fail on a new API version),
//! needs each reply's `Request-Id` and `Stripe-Should-Retry` headers (async-stripe exposes
//! neither), paces and retries with jitter itself (async-stripe has no jitter), reuses
//! connections (async-stripe's hyper client keeps none alive), and pages each connected
//! account with its own `Stripe-Account` header on every request (async-stripe's paginator
//! takes only the client's). See docs/ARCHITECTURE.md for the measurements.

use std::time::Duration;

/// An API key read from the environment. Never printed: no `Display`, and `Debug` shows
/// only the prefix that says what kind of key it is.
pub struct Secret(String);

impl Secret {
    /// The key in environment variable `var`.
    pub fn from_env(var: &str) -> Result<Secret, String> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
            Ok(_) => Err(format!(
                "environment variable {var} is empty; export a restricted read-only Stripe key (rk_live_...) in it"
            )),
            Err(_) => Err(format!(
                "environment variable {var} is not set; export a restricted read-only Stripe key (rk_live_...) in it, e.g. `read -s {var}; export {var}`"
            )),
        }
    }

    /// A key given directly (tests, the fake server).
    pub fn new(key: impl Into<String>) -> Secret {
        Secret(key.into())
    }

    /// What kind of key this is, from its prefix.
    pub fn kind(&self) -> KeyKind {
        let k = &self.0;
        let mode = if k.contains("_live_") {
            Mode::Live
        } else {
            Mode::Test
        };
        if k.starts_with("rk_") {
            KeyKind::Restricted(mode)
        } else if k.starts_with("sk_") {
            KeyKind::Secret(mode)
        } else {
            KeyKind::Unknown
        }
    }

    /// `text` with every occurrence of the key replaced (for error messages from a server
    /// or a library that might echo it).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "[key]")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let prefix: String = self.0.chars().take_while(|c| *c != '_').collect();
        let mode = if self.0.contains("_live_") {
            "live"
        } else {
            "test"
        };
        write!(f, "Secret({prefix}_{mode}_…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `rk_`: a restricted key, the one to use (read-only permissions).
    Restricted(Mode),
    /// `sk_`: a secret key can write; it works, with a loud warning.
    Secret(Mode),
    Unknown,
}

impl KeyKind {
    pub fn mode(self) -> Mode {
        match self {
            KeyKind::Restricted(m) | KeyKind::Secret(m) => m,
            KeyKind::Unknown => Mode::Test,
        }
    }
}

/// One reply, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Stripe's `Request-Id` header: quote it to Stripe support.
    pub request_id: Option<String>,
    /// `Stripe-Should-Retry`: Stripe's own word on whether a retry can succeed.
    pub should_retry: Option<bool>,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<f64>,
    pub body: Vec<u8>,
}

/// A Stripe client that can only read.
pub struct StripeGet {
    agent: ureq::Agent,
    base: String,
    key: Secret,
    version: Option<String>,
}

/// Pages are ≤ 100 objects; a reply larger than this is not a page.
const BODY_LIMIT: u64 = 64 << 20;

impl StripeGet {
    /// A client of the API at `base` (`https://api.stripe.com`, or a local fake), keeping
    /// up to `connections` connections alive. `version` pins `Stripe-Version` so every
    /// account's objects come in one shape.
    pub fn new(
        base: &str,
        key: Secret,
        version: Option<String>,
        connections: usize,
    ) -> Result<StripeGet, String> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!(
                "api_base = {base:?} is not an http(s) URL; write it like https://api.stripe.com"
            ));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect could carry the key to another host: none are followed.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(80)))
            .timeout_connect(Some(Duration::from_secs(15)))
            .max_idle_connections(connections.max(1))
            .max_idle_connections_per_host(connections.max(1))
            .user_agent(concat!("salvage/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(StripeGet {
            agent: config.into(),
            base,
            key,
            version,
        })
    }

    pub fn key(&self) -> &Secret {
        &self.key
    }

    /// `GET base + path ? query`, as `account` (`Stripe-Account`) when given. An `Err` is a
    /// transport failure (no reply), already scrubbed of the key.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        account: Option<&str>,
    ) -> Result<Reply, String> {
        let url = format!("{}{}", self.base, path);
        let mut req = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.key.0));
        if let Some(a) = account {
            req = req.header("Stripe-Account", a);
        }
        if let Some(v) = &self.version {
            req = req.header("Stripe-Version", v);
        }
        for (k, v) in query {
            req = req.query(k, v);
        }
        let mut resp = req
            .call()
            .map_err(|e| self.key.scrub(&format!("GET {url}: {e}")))?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("request-id");
        let should_retry = header("stripe-should-retry").map(|v| v.eq_ignore_ascii_case("true"));
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<f64>().ok());
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(|e| {
                self.key
                    .scrub(&format!("GET {url}: reading the reply: {e}"))
            })?;
        Ok(Reply {
            status,
            request_id,
            should_retry,
            retry_after,
            body,
        })
    }
}

/// Stripe's error body, in one line: `code: message`.
pub fn error_text(body: &[u8]) -> String {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let e = v.as_ref().and_then(|v| v.get("error"));
    let field = |k: &str| e.and_then(|e| e.get(k)).and_then(|x| x.as_str());
    match (field("code").or(field("type")), field("message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (None, Some(m)) => m.to_string(),
        (Some(c), None) => c.to_string(),
        (None, None) => {
            let t = String::from_utf8_lossy(&body[..body.len().min(120)]).to_string();
            if t.trim().is_empty() {
                "(empty reply)".into()
            } else {
                t
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_itself() {
        let s = Secret::new("rk_live_51abcDEFsecretvalue");
        assert_eq!(format!("{s:?}"), "Secret(rk_live_…)");
        assert_eq!(s.kind(), KeyKind::Restricted(Mode::Live));
        assert_eq!(
            s.scrub("bad key rk_live_51abcDEFsecretvalue given"),
            "bad key [key] given"
        );
        assert_eq!(
            Secret::new("sk_test_x1").kind(),
            KeyKind::Secret(Mode::Test)
        );
    }

    #[test]
    fn a_missing_variable_says_what_to_do() {
        let e = Secret::from_env("SALVAGE_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.contains("is not set") && e.contains("rk_live_"), "{e}");
    }

    #[test]
    fn only_an_http_base_is_accepted() {
        assert!(StripeGet::new("ftp://x", Secret::new("rk_test_1"), None, 1).is_err());
        assert!(StripeGet::new("http://127.0.0.1:9", Secret::new("rk_test_1"), None, 1).is_ok());
    }

    #[test]
    fn a_transport_failure_never_names_the_key() {
        // Nothing listens on port 9 of the loopback (discard): connection refused.
        let c = StripeGet::new(
            "http://127.0.0.1:9",
            Secret::new("rk_test_verysecret123"),
            None,
            1,
        )
        .unwrap();
        let e = c.get("/v1/charges", &[], Some("acct_1")).unwrap_err();
        assert!(!e.contains("verysecret"), "{e}");
        assert!(e.contains("/v1/charges"), "{e}");
    }

    #[test]
    fn error_bodies_read_as_one_line() {
        let b = br#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many"}}"#;
        assert_eq!(error_text(b), "rate_limit: Too many");
        assert_eq!(error_text(b""), "(empty reply)");
    }
}

/// The GET-only property, checked on the source itself: the agent is private to this file
/// and the only request this file builds is a GET; no other file of the pull touches ureq.
#[cfg(test)]
mod get_only {
    const SOURCES: [(&str, &str); 4] = [
        ("client.rs", include_str!("client.rs")),
        ("mod.rs", include_str!("mod.rs")),
        ("pace.rs", include_str!("pace.rs")),
        ("task.rs", include_str!("task.rs")),
    ];

    #[test]
    fn the_client_builds_only_gets() {
        let client = SOURCES[0].1;
        let code = client.split("#[cfg(test)]").next().unwrap();
        let calls: Vec<&str> = code
            .match_indices(".agent")
            .map(|(i, _)| &code[i..])
            .collect();
        assert_eq!(calls.len(), 1, "one request site");
        let call = calls[0].trim_start_matches(".agent").trim_start();
        assert!(
            call.starts_with(".get(&url)"),
            "the request is a GET: {}",
            &call[..20]
        );
        for verb in [".post(", ".put(", ".patch(", ".delete(", ".run(", ".send("] {
            assert!(!code.contains(verb), "client.rs calls {verb}");
        }
        assert!(!code.contains("pub agent"), "the agent stays private");
    }

    #[test]
    fn no_other_file_of_the_pull_uses_the_http_crate() {
        for (name, src) in &SOURCES[1..] {
            assert!(!src.contains("ureq"), "{name} uses ureq directly");
        }
    }
}
