//! One consumer-group member over several registry topics, each with its
//! own typed handler: sibling topics of one Kafka topic (`ticks.v1.trade`
//! and `ticks.v1.quote`) and topics of other domains share one client, one
//! subscription and one group instead of a group each.
//!
//! The routes are a type-level list (`((((), Route<A, Ha>), Route<B, Hb>)`)
//! rather than boxed handlers, so each handler keeps its own payload type
//! and may be an `async` closure borrowing the caller's state, and a run
//! future is `Send` whenever the handlers' futures are, so it can be
//! spawned. docs/kafka.md §6 is the shared behaviour.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use rdkafka::consumer::StreamConsumer;

use super::consume::{Delivery, RunStats, Start};
use super::member::{Member, Received, RouteCore, Routes};
use super::{Bus, Error, ErrorKind};
use crate::handler::HandlerError;
use crate::schema::Schema;
use crate::topic::Topic;

/// Per-route overrides of the topic's QoS tier defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteOptions {
    /// Handler attempts before the DLQ (at least 1; default: the tier's).
    pub max_deliveries: Option<u32>,
    /// Delays between attempts, the last repeating (default: the tier's
    /// nak backoff).
    pub nak_backoff: Option<Vec<Duration>>,
}

impl RouteOptions {
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = Some(n.max(1));
        self
    }

    pub fn nak_backoff(mut self, delays: Vec<Duration>) -> Self {
        self.nak_backoff = Some(delays);
        self
    }
}

/// One route of a group: topic `T` and its handler.
pub struct Route<T, H> {
    handler: H,
    _topic: PhantomData<fn() -> T>,
}

/// What [`GroupBuilder::build`] checks and resolves per route, in the order
/// the routes were added.
struct Spec {
    id: &'static str,
    core: Result<RouteCore, Error>,
}

/// Configures a [`Group`]; from [`Bus::group`]. `R` is the list of routes
/// added so far.
#[must_use]
pub struct GroupBuilder<R> {
    bus: Bus,
    group: String,
    start: Start,
    specs: Vec<Spec>,
    routes: R,
}

impl GroupBuilder<()> {
    pub(super) fn new(bus: Bus, group: &str) -> Self {
        GroupBuilder { bus, group: group.to_owned(), start: Start::Earliest, specs: Vec::new(), routes: () }
    }
}

impl<R> GroupBuilder<R> {
    /// Where a new group starts (default [`Start::Earliest`]).
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Routes topic `T`'s records to `handler`, with the retry bound and
    /// backoff of `T`'s QoS tier.
    pub fn route<T, H>(self, handler: H) -> GroupBuilder<(R, Route<T, H>)>
    where
        T: Topic,
        T::Payload: Schema + prost::Message + Default,
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        self.route_with::<T, H>(RouteOptions::default(), handler)
    }

    /// [`GroupBuilder::route`] with this route's own retry bound or
    /// backoff.
    pub fn route_with<T, H>(mut self, options: RouteOptions, handler: H) -> GroupBuilder<(R, Route<T, H>)>
    where
        T: Topic,
        T::Payload: Schema + prost::Message + Default,
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        // Resolved now (registry lookups only), reported by `build`.
        let core = RouteCore::of::<T>(&self.bus, options, true);
        self.specs.push(Spec { id: T::ID, core });
        GroupBuilder {
            bus: self.bus,
            group: self.group,
            start: self.start,
            specs: self.specs,
            routes: (self.routes, Route { handler, _topic: PhantomData }),
        }
    }

    /// Checks the routes (at least one, no topic twice: kind `config`),
    /// creates the client and subscribes to the routes' distinct Kafka
    /// topics, which must exist (`no_topic` otherwise).
    pub async fn build(self) -> Result<Group<R>, Error>
    where
        R: Routes,
    {
        if self.specs.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                format!("group `{}` has no routes: add one with `.route::<Topic, _>(handler)`", self.group),
            ));
        }
        for (i, s) in self.specs.iter().enumerate() {
            if self.specs[..i].iter().any(|p| p.id == s.id) {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "group `{}` routes topic `{}` twice: a record can go to one handler only; give the topic one \
                         route",
                        self.group, s.id
                    ),
                ));
            }
        }
        let cores = self.specs.into_iter().map(|s| s.core).collect::<Result<Vec<_>, _>>()?;
        let member = Member::connect(self.bus, Some(self.group), self.start, cores, None).await?;
        Ok(Group { member, routes: self.routes })
    }
}

impl Routes for () {
    const LEN: usize = 0;

    fn dispatch(
        &mut self,
        _member: &Member,
        route: usize,
        _r: Received,
        _stats: &mut RunStats,
    ) -> impl Future<Output = Result<(), Error>> {
        std::future::ready(Err(Error::new(ErrorKind::Consume, format!("no route {route} in this group"))))
    }
}

impl<R, T, H> Routes for (R, Route<T, H>)
where
    R: Routes,
    T: Topic,
    T::Payload: Schema + prost::Message + Default,
    H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
{
    const LEN: usize = R::LEN + 1;

    async fn dispatch(
        &mut self,
        member: &Member,
        route: usize,
        r: Received,
        stats: &mut RunStats,
    ) -> Result<(), Error> {
        if route == R::LEN {
            member.process::<T::Payload, H>(route, r, &mut self.1.handler, stats).await
        } else {
            self.0.dispatch(member, route, r, stats).await
        }
    }
}

/// One consumer-group member over the registry topics of its routes.
///
/// A record goes to the first route (in the order they were added) of its
/// Kafka topic whose subtopic pattern matches the record key's subtopic
/// (the first route of the Kafka topic when the key has none); a record no
/// route takes (a sibling topic not routed) is finished unhandled and
/// counted in [`RunStats::skipped`]. Each record is then processed exactly
/// as a single-topic [`Consumer`](super::Consumer) of the route's topic
/// processes it, one at a time in fetch order.
pub struct Group<R> {
    member: Member,
    routes: R,
}

impl<R: Routes> Group<R> {
    /// Handles every record until an error stops the member.
    pub async fn run(&mut self) -> Result<RunStats, Error> {
        self.member.run(&mut self.routes, std::future::pending(), None).await
    }

    /// [`Group::run`] that also ends when `stop` completes, after the
    /// record in hand is finished.
    pub async fn run_until<F: Future<Output = ()>>(&mut self, stop: F) -> Result<RunStats, Error> {
        self.member.run(&mut self.routes, stop, None).await
    }

    /// [`Group::run`] that also ends once no record came for `idle`,
    /// counted only while the member holds partitions (the rule of
    /// [`Consumer::drain`](super::Consumer::drain), with the same
    /// [`JOIN_WAIT`](super::JOIN_WAIT)).
    pub async fn drain(&mut self, idle: Duration) -> Result<RunStats, Error> {
        self.member.run(&mut self.routes, std::future::pending(), Some(idle)).await
    }
}

impl<R> Group<R> {
    /// The distinct Kafka topics subscribed, in route order.
    pub fn kafka_topics(&self) -> &[String] {
        &self.member.kafka_topics
    }

    /// The underlying client, e.g. to read committed offsets.
    pub fn client(&self) -> &StreamConsumer<impl rdkafka::consumer::ConsumerContext> {
        self.member.client()
    }
}
