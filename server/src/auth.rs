//! Device tokens: 32 random bytes shown once as 64 hex characters; the server keeps only their
//! SHA-256, so a copy of the database does not let anyone sync.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly issued token: the text to hand to the device and the hash to store.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token as shown once to the administrator (64 lower-case hex characters).
    pub token: String,
    /// Its SHA-256, the only thing stored.
    pub hash: [u8; 32],
}

/// Issues a new random token.
pub fn issue_token() -> IssuedToken {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    IssuedToken {
        token: hex::encode(raw),
        hash: Sha256::digest(raw).into(),
    }
}

/// The stored hash of a presented token; `None` if it is not a well-formed token.
pub fn token_hash(token: &str) -> Option<[u8; 32]> {
    let token = token.trim();
    if token.len() != 64 {
        return None;
    }
    let raw = hex::decode(token).ok()?;
    Some(Sha256::digest(raw).into())
}

/// Extracts the token from `Authorization: Bearer …` or, for clients that cannot set headers
/// (browsers' WebSocket), from the `token` query parameter.
pub fn token_from_request(headers: &axum::http::HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = v.splitn(2, ' ');
        if let (Some(scheme), Some(rest)) = (parts.next(), parts.next()) {
            if scheme.eq_ignore_ascii_case("bearer") {
                return Some(rest.trim().to_string());
            }
        }
    }
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_hashes_to_its_stored_hash() {
        let t = issue_token();
        assert_eq!(t.token.len(), 64);
        assert_eq!(token_hash(&t.token), Some(t.hash));
        assert_ne!(issue_token().token, t.token);
    }

    #[test]
    fn malformed_tokens_have_no_hash() {
        assert_eq!(token_hash("abc"), None);
        assert_eq!(token_hash(&"zz".repeat(32)), None);
    }

    #[test]
    fn token_comes_from_bearer_header_or_query() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(
            token_from_request(&h, Some("a=1&token=xyz")),
            Some("xyz".into())
        );
        h.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer abc".parse().unwrap(),
        );
        assert_eq!(token_from_request(&h, None), Some("abc".into()));
    }
}
