//! Two nodes exchanging one case's messages over a network that delivers each direction in
//! order but interleaves the two directions at random, with skewed receipt clocks.
//!
//! Everything random comes from the generated [`Step`]s and seeds, so proptest can replay
//! and shrink a failing run; message ids too are derived from a seed, not drawn afresh.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use detente_domain::{Agreement, Case, derive_case};
use detente_protocol::{Body, Envelope, MessageId, PartyId, Priority, Timestamp, WIRE_VERSION};
use proptest::prelude::*;

use crate::{
    OfficialMessage, Role,
    fixtures::{
        ack, case_id, clarification, decline, final_answer, partial_answer, party, question,
        rating, request_body, t, withdrawal,
    },
};

/// How far a clock may be off true time.
pub const MAX_SKEW_MS: i64 = 5_000;

/// One thing that happens after some time has passed.
#[derive(Debug, Clone)]
pub struct Step {
    /// True time that passes before the action.
    pub wait_ms: i64,
    /// What happens.
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// The party in `role` composes one of the messages legal in its view, picked by `choice`.
    Compose { role: Role, choice: usize },
    /// The oldest message in transit from the party in `from` arrives; the receiver's clock
    /// is `skew_ms` off true time.
    Deliver { from: Role, skew_ms: i64 },
}

/// Everything a run is made of.
#[derive(Debug, Clone)]
pub struct Script {
    /// The request's priority.
    pub priority: Priority,
    /// How far each party's own clock is off when it seals a message.
    pub sealing_skew_ms: [i64; 2],
    /// The steps.
    pub steps: Vec<Step>,
    /// Receiver clock offsets for the deliveries that drain the network at the end.
    pub drain_skews_ms: Vec<i64>,
    /// Seed of the message ids.
    pub id_seed: u64,
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Requester), Just(Role::Responder)]
}

fn skew() -> impl Strategy<Value = i64> {
    -MAX_SKEW_MS..=MAX_SKEW_MS
}

fn step() -> impl Strategy<Value = Step> {
    // Mostly seconds, so messages cross in transit; sometimes hours or days, so deadlines pass.
    let wait_ms = prop_oneof![
        6 => 0i64..5_000,
        2 => 0i64..3_600_000,
        1 => 0i64..10 * 86_400_000,
    ];
    let action = prop_oneof![
        (role(), any::<usize>()).prop_map(|(role, choice)| Action::Compose { role, choice }),
        (role(), skew()).prop_map(|(from, skew_ms)| Action::Deliver { from, skew_ms }),
    ];
    (wait_ms, action).prop_map(|(wait_ms, action)| Step { wait_ms, action })
}

/// Runs of up to `max_steps` steps.
pub fn script(max_steps: usize) -> impl Strategy<Value = Script> {
    (
        prop::sample::select(Priority::ALL.to_vec()),
        [skew(), skew()],
        prop::collection::vec(step(), 0..max_steps),
        prop::collection::vec(skew(), 1..6),
        any::<u64>(),
    )
        .prop_map(
            |(priority, sealing_skew_ms, steps, drain_skews_ms, id_seed)| Script {
                priority,
                sealing_skew_ms,
                steps,
                drain_skews_ms,
                id_seed,
            },
        )
}

/// One simulated node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its role in the case.
    pub role: Role,
    /// Its party.
    pub me: PartyId,
    /// The other party.
    pub peer: PartyId,
    seq: u64,
    /// Its own messages; `at` is its own sealing time until the receipt brings the official one.
    pub sent: Vec<OfficialMessage>,
    /// The peer's messages with their official times, in arrival order.
    pub received: Vec<OfficialMessage>,
    /// For each own message, the peer's messages it had received when it sealed it.
    pub knew: BTreeMap<MessageId, BTreeSet<MessageId>>,
}

impl Node {
    fn new(role: Role) -> Self {
        let (me, peer) = match role {
            Role::Requester => (party("US"), party("CN")),
            Role::Responder => (party("CN"), party("US")),
        };
        Self {
            role,
            me,
            peer,
            seq: 0,
            sent: Vec::new(),
            received: Vec::new(),
            knew: BTreeMap::new(),
        }
    }

    /// What the node knows: its own messages and the ones it received.
    pub fn view(&self) -> Vec<OfficialMessage> {
        self.sent.iter().chain(&self.received).cloned().collect()
    }

    /// The node's view of the case, or `None` before the case exists for it.
    pub fn case(&self, agreement: &Agreement) -> Option<Case> {
        let view = self.view();
        if view.is_empty() {
            return None;
        }
        let case = derive_case(agreement, &view)
            .unwrap_or_else(|e| panic!("the {:?} cannot derive its own view: {e}", self.role));
        Some(case)
    }
}

fn slot(role: Role) -> usize {
    usize::from(role == Role::Responder)
}

/// Every message a party of `role` might send, legal or not.
fn repertoire(role: Role) -> Vec<Body> {
    match role {
        Role::Requester => vec![
            clarification(),
            withdrawal(),
            rating(1),
            rating(3),
            rating(5),
        ],
        Role::Responder => vec![
            ack(),
            question(),
            partial_answer(),
            final_answer(),
            decline(),
        ],
    }
}

/// A well-formed message id from a seed and a counter.
pub fn message_id(seed: u64, n: u64) -> MessageId {
    let a = splitmix(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let b = splitmix(a);
    MessageId::parse(&format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    ))
    .expect("a lower-case hyphenated UUID")
}

/// SplitMix64: a tiny deterministic mixer for seeds.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `items` in an order fixed by `seed` (Fisher-Yates).
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    let mut state = seed;
    for i in (1..out.len()).rev() {
        state = splitmix(state);
        let j = usize::try_from(state % (i as u64 + 1)).expect("an index fits in usize");
        out.swap(i, j);
    }
    out
}

/// The outcome of a run.
#[derive(Debug)]
pub struct Run {
    /// The requester's node, then the responder's, after the network drained.
    pub nodes: [Node; 2],
    /// Every view either node derived along the way, with the messages it was derived from.
    pub views: Vec<(Case, Vec<OfficialMessage>)>,
}

impl Run {
    /// Whether two messages of different parties crossed: neither sender had the other's.
    pub fn had_crossing_messages(&self) -> bool {
        let [requester, responder] = &self.nodes;
        requester.knew.iter().any(|(m, m_knew)| {
            responder
                .knew
                .iter()
                .any(|(n, n_knew)| !m_knew.contains(n) && !n_knew.contains(m))
        })
    }
}

struct World<'a> {
    agreement: &'a Agreement,
    script: &'a Script,
    now_ms: i64,
    nodes: [Node; 2],
    in_transit: [VecDeque<MessageId>; 2],
    views: Vec<(Case, Vec<OfficialMessage>)>,
    sealed: u64,
}

impl World<'_> {
    fn timestamp(&self, skew_ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(self.now_ms + skew_ms).expect("in range")
    }

    fn record_view(&mut self, s: usize) {
        if let Some(case) = self.nodes[s].case(self.agreement) {
            let view = self.nodes[s].view();
            self.views.push((case, view));
        }
    }

    fn compose(&mut self, role: Role, choice: usize) {
        let s = slot(role);
        let node = &self.nodes[s];
        let (body, in_reply_to) = if role == Role::Requester && node.sent.is_empty() {
            (Body::Request(request_body(self.script.priority)), None)
        } else {
            // The responder has nothing to say before the request arrives.
            let Some(case) = node.case(self.agreement) else {
                return;
            };
            let legal: Vec<Body> = repertoire(role)
                .into_iter()
                .filter(|b| case.next_status(&node.me, b).is_ok())
                .collect();
            let Some(body) = legal.get(choice % legal.len().max(1)) else {
                return;
            };
            let reply_to = case
                .latest_from_other_side(&node.me)
                .expect("a node is a party to its case");
            (body.clone(), reply_to)
        };
        self.sealed += 1;
        let sent_at = self.timestamp(self.script.sealing_skew_ms[s]);
        let node = &mut self.nodes[s];
        node.seq += 1;
        let envelope = Envelope {
            v: WIRE_VERSION,
            id: message_id(self.script.id_seed, self.sealed),
            agreement: self.agreement.digest(),
            from: node.me.clone(),
            to: node.peer.clone(),
            seq: node.seq,
            sent_at,
            case: case_id(),
            in_reply_to,
            checkpoint: None,
            agency: None,
            body,
        };
        let knew = node.received.iter().map(|m| m.envelope.id).collect();
        node.knew.insert(envelope.id, knew);
        self.in_transit[s].push_back(envelope.id);
        node.sent.push(OfficialMessage {
            envelope,
            at: sent_at,
        });
        self.record_view(s);
    }

    fn deliver(&mut self, from: Role, skew_ms: i64) {
        let s = slot(from);
        let Some(id) = self.in_transit[s].pop_front() else {
            return;
        };
        let at = self.timestamp(skew_ms);
        let sent = self.nodes[s]
            .sent
            .iter_mut()
            .find(|m| m.envelope.id == id)
            .expect("a message in transit was sent");
        // The receipt brings the official time back to the sender.
        sent.at = at;
        let arrived = sent.clone();
        self.nodes[1 - s].received.push(arrived);
        self.record_view(1 - s);
        self.record_view(s);
    }
}

/// Plays `script` to the end and drains the network.
pub fn simulate(agreement: &Agreement, script: &Script) -> Run {
    let mut world = World {
        agreement,
        script,
        now_ms: t(0).unix_millis(),
        nodes: [Node::new(Role::Requester), Node::new(Role::Responder)],
        in_transit: [VecDeque::new(), VecDeque::new()],
        views: Vec::new(),
        sealed: 0,
    };
    for step in &script.steps {
        world.now_ms += step.wait_ms;
        match step.action {
            Action::Compose { role, choice } => world.compose(role, choice),
            Action::Deliver { from, skew_ms } => world.deliver(from, skew_ms),
        }
    }
    let mut drains = script.drain_skews_ms.iter().cycle();
    while world.in_transit.iter().any(|q| !q.is_empty()) {
        world.now_ms += 1_000;
        let skew_ms = *drains.next().expect("a cycle of a non-empty list");
        // Drain from either side while both have mail, by the parity of the skew.
        let from = if world.in_transit[0].is_empty()
            || (skew_ms % 2 != 0 && !world.in_transit[1].is_empty())
        {
            Role::Responder
        } else {
            Role::Requester
        };
        world.deliver(from, skew_ms);
    }
    Run {
        nodes: world.nodes,
        views: world.views,
    }
}
