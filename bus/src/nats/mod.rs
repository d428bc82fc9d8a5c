//! The bus on NATS JetStream (feature `nats`): typed publishers and durable
//! pull consumers over async-nats, stream provisioning from the registry's
//! layout, and metrics. The normative behaviour, shared with the Go and
//! Python runtimes, is docs/nats.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! # mod contract { pub mod transport { pub const LAYOUT: ampy_bus::transport::Layout =
//! #   ampy_bus::transport::Layout { namespace: "ampy", tiers: &[], streams: &[], kafka_topics: &[], dlq: None }; } }
//! use ampy_bus::{nats::Bus, Env};
//! let bus = Bus::connect("nats://127.0.0.1:4222", &contract::transport::LAYOUT, Env::Prod).await?;
//! bus.provision(Default::default()).await?;   // the env's streams, as the registry says
//! # Ok(()) }
//! ```

mod consume;
pub mod headers;
mod provision;
mod publish;
mod retry;

use std::sync::Arc;

pub use crate::handler::{Body, HandlerError};
pub use crate::metrics::{Metrics, NoObserver, Observer};
pub use crate::runtime::{Error, ErrorKind};
pub use async_nats;
pub use consume::{Consumer, ConsumerBuilder, Delivery, DeliveryInfo, RunStats, Start};
pub use provision::{plans, provision, Change, Outcome, ProvisionOptions, ProvisionReport, StreamAction, StreamPlan};
pub use publish::{Published, Publisher, PublisherBuilder};
pub use retry::RetryPolicy;

use crate::topic::{token_problem, EnvName, Topic};
use crate::transport::{Layout, Stream, Tier};

/// One env of the bus: a NATS connection, its JetStream context, the
/// registry's layout and where measurements go. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
    layout: &'static Layout,
    env: &'static str,
    env_value: crate::runtime::TypedEnv,
    dlq: crate::Dlq,
    observer: Arc<dyn Observer>,
}

impl Bus {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`). The client
    /// reconnects by itself; publishes retry through an outage within
    /// their [`RetryPolicy`].
    pub async fn connect<E: EnvName + Clone + Send + Sync + 'static>(
        url: &str,
        layout: &'static Layout,
        env: E,
    ) -> Result<Bus, Error> {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| Error::with_source(ErrorKind::Connect, format!("cannot connect to NATS at `{url}`"), e))?;
        // retry_on_initial_connect returns at once; wait for the handshake
        // so that server info (max_payload) is known before publishing.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while client.connection_state() != async_nats::connection::State::Connected {
            if tokio::time::Instant::now() > deadline {
                return Err(Error::new(ErrorKind::Connect, format!("no connection to NATS at `{url}` within 10 s")));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Bus::new(client, layout, env)
    }

    /// Wraps a client the service configured itself (TLS, credentials).
    pub fn new<E: EnvName + Clone + Send + Sync + 'static>(
        client: async_nats::Client,
        layout: &'static Layout,
        env_value: E,
    ) -> Result<Bus, Error> {
        let dlq = crate::Dlq::with_namespace(layout.namespace, env_value.clone())
            .map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
        let env = env_value.env_name();
        if let Some(problem) = token_problem(env) {
            return Err(Error::new(ErrorKind::Config, format!("env `{env}` cannot be a subject token: it {problem}")));
        }
        if layout.streams_for(env).next().is_none() {
            return Err(Error::new(
                ErrorKind::Config,
                format!("the registry layout has no streams for env `{env}`: use one of the registry's envs"),
            ));
        }
        let js = async_nats::jetstream::new(client.clone());
        Ok(Bus {
            client,
            js,
            layout,
            env,
            env_value: crate::runtime::TypedEnv::new(env_value),
            dlq,
            observer: Arc::new(NoObserver),
        })
    }

    /// Sends measurements to `observer` (e.g. a shared [`Metrics`]).
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Bus {
        self.observer = observer;
        self
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.js
    }

    pub fn layout(&self) -> &'static Layout {
        self.layout
    }

    pub fn env(&self) -> &'static str {
        self.env
    }

    /// The bus's env as topic `T`'s env type.
    pub(crate) fn env_of<T: Topic>(&self) -> Result<T::Env, Error> {
        self.env_value.of::<T>()
    }

    /// The dead-letter subjects of this bus's env.
    pub(crate) fn dlq(&self) -> &crate::Dlq {
        &self.dlq
    }

    /// Creates or updates this env's streams; see [`provision`].
    pub async fn provision(&self, options: ProvisionOptions) -> Result<ProvisionReport, Error> {
        provision(&self.js, &plans(self.layout, self.env)?, options).await
    }

    /// A publisher for topic `T`; see [`PublisherBuilder`].
    pub fn publisher<T: Topic>(&self) -> PublisherBuilder<T> {
        PublisherBuilder::new(self.clone())
    }

    /// A durable pull consumer of topic `T` named `durable`; see
    /// [`ConsumerBuilder`].
    pub fn consumer<T: Topic>(&self, durable: &str) -> ConsumerBuilder<T> {
        ConsumerBuilder::new(self.clone(), Some(durable.to_owned()))
    }

    /// A replay of topic `T`: an ephemeral consumer that starts at `start`
    /// and stops at the end of the window (see [`ConsumerBuilder::until`]).
    pub fn replay<T: Topic>(&self, start: Start) -> ConsumerBuilder<T> {
        ConsumerBuilder::new(self.clone(), None).start(start)
    }

    /// The stream and tier of topic `T` in this env.
    fn route<T: Topic>(&self) -> Result<(&'static Stream, &'static Tier), Error> {
        let stream = self.layout.stream(self.env, T::DOMAIN, T::VERSION).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "topic `{}` has no stream in the registry layout for env `{}`: is it a registry topic?",
                    T::ID,
                    self.env
                ),
            )
        })?;
        let tier = self
            .layout
            .tier(stream.tier)
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("the layout has no qos tier `{}`", stream.tier)))?;
        Ok((stream, tier))
    }

    /// The DLQ subject of records from `domain`.
    fn dlq_subject(&self, domain: &str) -> Result<String, Error> {
        let route = self.layout.dlq.ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "the registry has no dlq domain, so consumers cannot dead-letter: add a `kind: dlq` domain",
            )
        })?;
        Ok(format!("{}.{}.{}", self.layout.namespace, self.env, route.suffix(domain)))
    }
}
