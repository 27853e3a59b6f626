//! HS256 access tokens with a `kid`, so keys can rotate: the first key signs, all verify.
//! They live here, not in `http`, because signing in is a use case: it ends with a token.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Which app a token is for. Staff tokens are refused by the portal and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    Portal,
}

impl Audience {
    const ALL: [Self; 2] = [Self::Staff, Self::Portal];

    fn of(aud: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|audience| audience.as_str() == aud)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "vestibule:staff",
            Self::Portal => "vestibule:portal",
        }
    }
}

/// What a token is for: API access, or opening one live stream (a ticket that may appear in
/// a URL, where `EventSource` cannot send headers, and so lives only seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Access,
    LiveTicket,
}

impl TokenUse {
    fn typ(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::LiveTicket => "live",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub firm: String,
    pub sid: String,
    pub typ: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// A named HMAC key. Secrets are at least 32 bytes.
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

pub struct TokenKeys {
    issuer: String,
    signing_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    /// Built once: it allocates its claim and audience sets.
    validation: Validation,
}

impl TokenKeys {
    /// The first key signs new tokens; every key verifies.
    pub fn new(issuer: String, keys: &[SigningKey]) -> anyhow::Result<Self> {
        let first = keys.first().ok_or_else(|| anyhow::anyhow!("at least one signing key is required"))?;
        if let Some(short) = keys.iter().find(|k| k.secret.len() < 32) {
            anyhow::bail!("signing key `{}` is shorter than 32 bytes", short.kid);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&Audience::ALL.map(Audience::as_str));
        validation.set_issuer(&[&issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self {
            validation,
            issuer,
            signing_kid: first.kid.clone(),
            encoding: EncodingKey::from_secret(&first.secret),
            decoding: keys.iter().map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret))).collect(),
        })
    }

    pub fn issue(
        &self,
        token_use: TokenUse,
        audience: Audience,
        subject: &str,
        firm: &str,
        session: &str,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: audience.as_str().to_owned(),
            sub: subject.to_owned(),
            firm: firm.to_owned(),
            sid: session.to_owned(),
            typ: token_use.typ().to_owned(),
            iat: now,
            nbf: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks signature (HS256 only, whatever the header claims), `kid`, `iss`, `aud`,
    /// `typ`, `exp` and `nbf`; returns the audience the token was issued for, which picks the
    /// kind of principal.
    pub fn verify(&self, token: &str, token_use: TokenUse) -> AppResult<(Audience, AccessClaims)> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AppError::invalid_token())?;
        let key = header.kid.as_deref().and_then(|kid| self.decoding.get(kid)).ok_or_else(AppError::invalid_token)?;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map_err(|_| AppError::invalid_token())?
            .claims;
        if claims.typ != token_use.typ() {
            return Err(AppError::invalid_token());
        }
        let audience = Audience::of(&claims.aud).ok_or_else(AppError::invalid_token)?;
        Ok((audience, claims))
    }
}
