//! Subjects, the Kafka mapping and subscription patterns.
//!
//! A subject is `{namespace}.{env}.{domain}.{version}.{subtopic}`. Every
//! token comes either from the registry (checked when it was validated) or
//! from a payload value, and a value containing `.`, `*`, `>`, whitespace
//! or a control character would silently change which subject a record
//! lands on, so builders reject it with [`RouteError::IllegalToken`].

use std::fmt;

#[cfg(doc)]
use crate::key::PartitionKey;
use crate::key::{KeyValue, RouteError};
use crate::schema::{Qos, Schema};

/// An environment set: the second subject token of every subject.
///
/// A subject can only be formed from a value of an `EnvName` type, never
/// from a string: envs are namespaces (no data crosses between them), and
/// a typo such as `"prdo"` must not create a new one. ampygen's build.rs
/// output implements it for the generated `Env` enum, which holds exactly
/// the registry's `envs`; [`Env`] here is the contract's default set
/// (`dev`, `paper`, `prod`), which `#[derive(Payload)]` uses unless told
/// otherwise and checks against the registry at compile time.
///
/// Implementing it by hand is possible (a registry-form derive checks the
/// set against the registry's envs), but [`EnvName::env_name`] must return
/// one of [`EnvName::NAMES`]: subject builders reject anything else with
/// [`RouteError::UnknownEnv`].
pub trait EnvName {
    /// Every env of the set, in registry order.
    const NAMES: &'static [&'static str];

    /// This env's name, one of [`EnvName::NAMES`].
    fn env_name(&self) -> &'static str;
}

/// `env`'s name, checked to be one of its set's (a hand-written
/// [`EnvName`] could return anything) and a legal token.
pub(crate) fn checked_name<E: EnvName + ?Sized>(env: &E) -> Result<&'static str, RouteError> {
    let name = env.env_name();
    if !E::NAMES.contains(&name) {
        return Err(RouteError::UnknownEnv { env: name.to_owned(), known: E::NAMES });
    }
    if let Some(problem) = token_problem(name) {
        return Err(RouteError::IllegalToken { field: "env", value: name.to_owned(), problem });
    }
    Ok(name)
}

/// The contract's environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Env {
    Dev,
    Paper,
    Prod,
}

impl Env {
    pub const ALL: [Env; 3] = [Env::Dev, Env::Paper, Env::Prod];

    pub const fn as_str(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Paper => "paper",
            Env::Prod => "prod",
        }
    }
}

impl EnvName for Env {
    const NAMES: &'static [&'static str] = &["dev", "paper", "prod"];

    fn env_name(&self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Env {
    type Err = RouteError;

    /// Exactly `dev`, `paper` or `prod` (case-sensitive), else
    /// [`RouteError::UnknownEnv`]: the one way from text to an env.
    fn from_str(s: &str) -> Result<Env, RouteError> {
        Env::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| RouteError::UnknownEnv { env: s.to_owned(), known: <Env as EnvName>::NAMES })
    }
}

pub use ampy_canonical::text::token_problem;

/// A concrete subject, with the Kafka mapping on the side.
///
/// One string holds the whole subject; the Kafka topic is its prefix, so
/// building a subject costs one allocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subject {
    text: String,
    topic_len: usize,
}

impl Subject {
    /// The NATS subject, `ampy.prod.bars.v1.XNAS.AAPL`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// The Kafka topic, `ampy.prod.bars.v1` (Kafka topics cannot hold the
    /// subtopic: `@` and the per-key fan-out do not fit its naming rules).
    pub fn kafka_topic(&self) -> &str {
        &self.text[..self.topic_len]
    }

    /// The subject's tokens after the Kafka topic, `XNAS.AAPL`.
    pub fn subtopic(&self) -> &str {
        &self.text[self.topic_len + 1..]
    }

    /// The Kafka record key: the subtopic, a space, and the partition key.
    ///
    /// The subtopic alone would put every record of a fixed-subtopic topic
    /// (`orders.v1.requests`) on one partition and let log compaction keep
    /// one record per topic; the partition key alone would lose the
    /// subtopic. A subtopic never contains whitespace, so the first space
    /// splits the two unambiguously.
    pub fn kafka_key(&self, partition_key: &str) -> String {
        let sub = self.subtopic();
        let mut key = String::with_capacity(sub.len() + 1 + partition_key.len());
        key.push_str(sub);
        key.push(' ');
        key.push_str(partition_key);
        key
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Subject {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Builds a subject token by token, checking each value.
pub struct SubjectBuf {
    text: String,
    topic_len: usize,
}

impl SubjectBuf {
    /// Starts `{namespace}.{env}.{domain}.{version}` in one of `E`'s envs;
    /// `extra` sizes the buffer for the subtopic so that the subject is
    /// allocated once.
    #[inline]
    pub fn for_env<E: EnvName>(
        namespace: &str,
        env: &E,
        domain: &str,
        version: &str,
        extra: usize,
    ) -> Result<Self, RouteError> {
        SubjectBuf::new(namespace, checked_name(env)?, domain, version, extra)
    }

    /// [`SubjectBuf::for_env`] with an env name the crate has already
    /// checked (the dead-letter queue's).
    #[inline]
    pub(crate) fn new(
        namespace: &str,
        env: &str,
        domain: &str,
        version: &str,
        extra: usize,
    ) -> Result<Self, RouteError> {
        if let Some(problem) = token_problem(env) {
            return Err(RouteError::IllegalToken { field: "env", value: env.to_owned(), problem });
        }
        let mut text = String::with_capacity(namespace.len() + env.len() + domain.len() + version.len() + 4 + extra);
        for (i, t) in [namespace, env, domain, version].into_iter().enumerate() {
            if i > 0 {
                text.push('.');
            }
            text.push_str(t);
        }
        let topic_len = text.len();
        Ok(SubjectBuf { text, topic_len })
    }

    /// Appends a literal token from the registry.
    #[inline]
    pub fn literal(&mut self, token: &str) {
        self.text.push('.');
        self.text.push_str(token);
    }

    /// Appends a value token, rejecting one that would change the subject.
    #[inline]
    pub fn param<V: KeyValue>(&mut self, field: &'static str, value: &V) -> Result<(), RouteError> {
        self.text.push('.');
        let start = self.text.len();
        value.write_to(&mut self.text);
        if let Some(problem) = token_problem(&self.text[start..]) {
            let value = self.text[start..].to_owned();
            return Err(RouteError::IllegalToken { field, value, problem });
        }
        Ok(())
    }

    /// Appends a subscription token: the value, or `*` for any.
    pub fn wildcard_or(&mut self, field: &'static str, value: Option<&str>) -> Result<(), RouteError> {
        match value {
            Some(v) => self.param(field, &v),
            None => {
                self.literal("*");
                Ok(())
            }
        }
    }

    pub fn finish(self) -> Subject {
        Subject { text: self.text, topic_len: self.topic_len }
    }
}

/// Subscription patterns above a single topic.
pub mod pattern {
    use super::{checked_name, EnvName, RouteError};

    /// Every subject of an env: `ampy.prod.>`.
    pub fn env<E: EnvName>(namespace: &str, env: &E) -> Result<String, RouteError> {
        join(namespace, env, &[])
    }

    /// Every version and topic of a domain: `ampy.prod.bars.>`.
    pub fn domain<E: EnvName>(namespace: &str, env: &E, domain: &str) -> Result<String, RouteError> {
        join(namespace, env, &[domain])
    }

    /// Every subject of a domain version: `ampy.prod.bars.v1.>`.
    pub fn version<E: EnvName>(namespace: &str, env: &E, domain: &str, version: &str) -> Result<String, RouteError> {
        join(namespace, env, &[domain, version])
    }

    fn join<E: EnvName>(namespace: &str, env: &E, rest: &[&str]) -> Result<String, RouteError> {
        let env = checked_name(env)?;
        let mut s = format!("{namespace}.{env}");
        for t in rest {
            s.push('.');
            s.push_str(t);
        }
        s.push_str(".>");
        Ok(s)
    }
}

/// One topic of the registry, as a type.
///
/// Generated code has one marker type per topic (a payload may travel on
/// several, like `fx.v1.rates` and `fx.v1.pair`); a derive makes the
/// payload struct its own topic.
pub trait Topic {
    /// The payload type the topic carries. It implements [`PartitionKey`]
    /// too unless it travels on several topics with different keys; the
    /// topic's own [`Topic::partition_key`] always applies.
    type Payload: Schema;
    /// The env set of the topic's registry: the generated `Env`, or for a
    /// derive the type it names (the contract's [`Env`] by default). Only
    /// its values can form a subject. A value type (`Clone + 'static`), so
    /// that a transport built for one env can hand it to every topic.
    type Env: EnvName + Clone + Send + Sync + 'static;
    /// The topic id, `domain.version.topic`.
    const ID: &'static str;
    const NAMESPACE: &'static str;
    const DOMAIN: &'static str;
    /// The topic version, `v1`: the payload's major version.
    const VERSION: &'static str;
    /// The subtopic template as written in the registry.
    const SUBTOPIC: &'static str;
    const QOS: Qos;

    /// The subject a payload is published on, with its subtopic values
    /// taken from the payload through the registry's key paths.
    ///
    /// Key fields are evaluated first (so the errors match
    /// [`PartitionKey::partition_key`] and `ampygen route`), then each
    /// subtopic value is checked as a token.
    fn topic_for(payload: &Self::Payload, env: Self::Env) -> Result<Subject, RouteError>;

    /// The `partition_key` header for a payload on this topic.
    fn partition_key(payload: &Self::Payload) -> Result<String, RouteError>;

    /// Every subject of this topic in `env`: the subtopic's placeholders as
    /// `*`, e.g. `ampy.prod.bars.v1.*.*`.
    fn pattern(env: Self::Env) -> Result<String, RouteError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_tokens_are_rejected_with_a_reason() {
        for (v, why) in [
            ("", "is empty"),
            ("A.B", "`.`"),
            ("*", "`*`"),
            ("a>", "`>`"),
            ("a b", "whitespace"),
            ("a\u{a0}b", "whitespace"),
            ("a\u{7}b", "control"),
        ] {
            let mut s = SubjectBuf::new("ampy", "prod", "bars", "v1", 8).unwrap();
            let err = s.param("symbol", &v).unwrap_err();
            assert_eq!(err.kind(), "illegal_token");
            assert!(err.to_string().contains(why), "{v:?}: {err}");
        }
        assert!(SubjectBuf::new("ampy", "pr od", "bars", "v1", 0).is_err());
    }

    #[test]
    fn subject_and_kafka_mapping() {
        let mut s = SubjectBuf::new("ampy", Env::Prod.as_str(), "bars", "v1", 9).unwrap();
        s.param("mic", &"XNAS").unwrap();
        s.param("symbol", &"AAPL").unwrap();
        let s = s.finish();
        assert_eq!(s.as_str(), "ampy.prod.bars.v1.XNAS.AAPL");
        assert_eq!(s.kafka_topic(), "ampy.prod.bars.v1");
        assert_eq!(s.subtopic(), "XNAS.AAPL");
        assert_eq!(s.kafka_key("XNAS.AAPL"), "XNAS.AAPL XNAS.AAPL");
        assert_eq!(pattern::version("ampy", &Env::Prod, "bars", "v1").unwrap(), "ampy.prod.bars.v1.>");
        assert_eq!(pattern::env("ampy", &Env::Dev).unwrap(), "ampy.dev.>");
    }

    /// A hand-written env set whose `env_name` strays outside its `NAMES`.
    #[derive(Clone, Copy)]
    enum Lying {
        Listed,
        Unlisted,
        Hostile,
    }

    impl EnvName for Lying {
        const NAMES: &'static [&'static str] = &["listed", "a b"];
        fn env_name(&self) -> &'static str {
            match self {
                Lying::Listed => "listed",
                Lying::Unlisted => "staging",
                Lying::Hostile => "a b",
            }
        }
    }

    #[test]
    fn only_an_env_of_the_set_forms_a_subject() {
        assert!(SubjectBuf::for_env("ampy", &Lying::Listed, "bars", "v1", 0).is_ok());
        let err = SubjectBuf::for_env("ampy", &Lying::Unlisted, "bars", "v1", 0).err().unwrap();
        assert_eq!(err, RouteError::UnknownEnv { env: "staging".into(), known: &["listed", "a b"] });
        assert_eq!(err.kind(), "unknown_env");
        assert_eq!(err.to_string(), "unknown env `staging`; the registry has: listed, a b");
        assert_eq!(pattern::domain("ampy", &Lying::Unlisted, "bars").unwrap_err().kind(), "unknown_env");
        assert_eq!(crate::Dlq::new(Lying::Unlisted).unwrap_err().kind(), "unknown_env");
        assert!(crate::Dlq::new(Lying::Listed).is_ok());
        let err = SubjectBuf::for_env("ampy", &Lying::Hostile, "bars", "v1", 0).err().unwrap();
        assert_eq!(err.kind(), "illegal_token");
    }

    #[test]
    fn envs_parse_exactly() {
        assert_eq!("paper".parse::<Env>(), Ok(Env::Paper));
        for bad in ["Prod", "PROD", " prod", "prod ", "staging", ""] {
            let err = bad.parse::<Env>().unwrap_err();
            assert_eq!(err.kind(), "unknown_env", "{bad:?}");
        }
        assert_eq!(
            "staging".parse::<Env>().unwrap_err().to_string(),
            "unknown env `staging`; the registry has: dev, paper, prod"
        );
        for e in Env::ALL {
            assert_eq!(e.as_str().parse::<Env>(), Ok(e));
            assert_eq!(e.env_name(), e.to_string());
        }
    }
}
