//! The properties, checked on simulated runs and on histories broken on purpose.

use std::collections::BTreeMap;

use detente_domain::{MilestoneState, derive_case};
use detente_protocol::{MessageId, Priority, Timestamp};
use proptest::{prelude::*, strategy::ValueTree};
use time::Duration;

use crate::{
    Agreement, Case, CaseStatus, OfficialMessage,
    fixtures::agreement,
    simulation::{Run, script, shuffled, simulate, splitmix},
};

/// The case's public face without its list of voided messages.
fn without_voided(case: &Case) -> serde_json::Value {
    let mut json = serde_json::to_value(case).expect("a case serialises");
    json.as_object_mut()
        .expect("a case is an object")
        .remove("voided");
    json
}

/// Every invariant of a derived case that does not involve the clock.
fn check_case(agreement: &Agreement, case: &Case, messages: &[OfficialMessage]) {
    let by_id: BTreeMap<MessageId, &OfficialMessage> =
        messages.iter().map(|m| (m.envelope.id, m)).collect();

    // Every message is applied or voided, exactly once.
    let mut placed: Vec<MessageId> = case.applied.iter().chain(&case.voided).copied().collect();
    placed.sort();
    assert_eq!(placed, by_id.keys().copied().collect::<Vec<_>>());

    // The applied messages alone, replayed in order, are a legal path to the same case: the
    // status is reachable by legal steps, and the voided messages changed nothing.
    let request = by_id[&case.applied[0]];
    let mut replay =
        Case::open(agreement, &request.envelope, request.at).expect("the request opens the case");
    for id in &case.applied[1..] {
        let m = by_id[id];
        replay
            .apply(&m.envelope, m.at)
            .unwrap_or_else(|e| panic!("applied message {id} is illegal at its place: {e}"));
    }
    assert_eq!(without_voided(&replay), without_voided(case));

    // The status agrees with what the case records.
    let terminal =
        case.decline_reason.is_some() || case.withdrawn_at.is_some() || case.closed_at.is_some();
    assert_eq!(case.status.is_terminal(), terminal, "{case:#?}");
    assert_eq!(
        case.decline_reason.is_some(),
        case.status == CaseStatus::Declined
    );
    assert_eq!(
        case.withdrawn_at.is_some(),
        case.status == CaseStatus::Withdrawn
    );
    assert_eq!(case.closed_at.is_some(), case.status == CaseStatus::Closed);
    assert_eq!(case.rating.is_some(), case.status == CaseStatus::Closed);
    match case.status {
        CaseStatus::Sent => assert!(case.acknowledged_at.is_none() && case.pauses.is_empty()),
        CaseStatus::Withdrawn => {}
        _ => assert!(case.acknowledged_at.is_some(), "{case:#?}"),
    }
    assert_eq!(
        case.final_answer_at.is_some(),
        matches!(
            case.status,
            CaseStatus::Answered | CaseStatus::Closed | CaseStatus::Declined
        )
    );
    if case.final_answer_at.is_some() || case.status == CaseStatus::PartiallyAnswered {
        assert!(case.first_answer_at.is_some());
    }
    // Only a case waiting for a clarification has an open pause, and pauses follow each
    // other without overlapping, after the filing.
    let open = case.pauses.last().is_some_and(|p| p.until.is_none());
    assert_eq!(open, case.status == CaseStatus::ClarificationNeeded);
    let mut earliest = case.filed_at;
    for p in &case.pauses {
        assert!(p.from >= earliest, "{:#?}", case.pauses);
        earliest = p.until.unwrap_or(p.from);
        assert!(earliest >= p.from);
    }
}

fn at_offset(t: Timestamp, ms: i64) -> Timestamp {
    t.add(Duration::milliseconds(ms))
}

/// Every invariant of the clock, at moments around each event of the case.
fn check_clock(agreement: &Agreement, case: &Case) {
    let mut events = vec![case.filed_at];
    events.extend(
        [
            case.acknowledged_at,
            case.first_answer_at,
            case.final_answer_at,
            case.withdrawn_at,
            case.closed_at,
        ]
        .into_iter()
        .flatten(),
    );
    for p in &case.pauses {
        events.push(p.from);
        events.extend(p.until);
    }
    let mut moments: Vec<Timestamp> = events
        .iter()
        .flat_map(|e| [-10_000, -1, 0, 1, 3_600_000].map(|ms| at_offset(*e, ms)))
        .collect();
    let last = *events.iter().max().expect("the filing at least");
    moments.extend([
        at_offset(last, 86_400_000),
        at_offset(last, 400 * 86_400_000),
    ]);
    moments.sort();

    for priority in Priority::ALL {
        let deadlines = agreement.deadlines(priority);
        let limits = [
            deadlines.acknowledge,
            deadlines.first_answer,
            deadlines.final_answer,
        ]
        .map(|s| i64::try_from(s.as_secs() * 1_000).expect("spans fit"));
        let mut previous_time = Duration::ZERO;
        let mut previous_overdue = [false; 3];
        let mut previous_missed = [false; 3];
        for now in &moments {
            let wall = now.since(case.filed_at).max(Duration::ZERO);
            let paused = case.paused_until(*now);
            assert!(
                paused >= Duration::ZERO && paused <= wall,
                "at {now}: {case:#?}"
            );
            let responder_time = case.responder_time(*now);
            assert!(responder_time >= Duration::ZERO && responder_time <= wall);
            assert!(
                responder_time >= previous_time,
                "responder time ran backwards"
            );
            previous_time = responder_time;

            let timeliness = case.timeliness(&deadlines, *now);
            let states = [
                timeliness.acknowledge,
                timeliness.first_answer,
                timeliness.final_answer,
            ];
            for (i, state) in states.iter().enumerate() {
                match *state {
                    MilestoneState::Met {
                        at,
                        elapsed_ms,
                        within_deadline,
                    } => {
                        assert!(elapsed_ms >= 0);
                        assert_eq!(Duration::milliseconds(elapsed_ms), case.responder_time(at));
                        assert_eq!(within_deadline, elapsed_ms <= limits[i]);
                    }
                    MilestoneState::Pending { due, overdue } => {
                        assert!(!case.status.is_terminal());
                        if due.is_none() {
                            assert_eq!(case.status, CaseStatus::ClarificationNeeded);
                        }
                        let limit = Duration::milliseconds(limits[i]);
                        assert_eq!(overdue, case.responder_time(*now) > limit);
                        if let (true, Some(due)) = (overdue, due) {
                            assert!(*now > due, "overdue before its due date {due} at {now}");
                        }
                        assert!(overdue || !previous_overdue[i], "overdue, then not");
                        previous_overdue[i] = overdue;
                    }
                    MilestoneState::Missed { due } => {
                        let withdrawn = case.withdrawn_at.expect("only a withdrawal ends a miss");
                        assert!(case.responder_time(withdrawn) > Duration::milliseconds(limits[i]));
                        assert!(due < withdrawn);
                    }
                    MilestoneState::Moot => {
                        assert_eq!(case.status, CaseStatus::Withdrawn);
                        let withdrawn = case.withdrawn_at.expect("withdrawn");
                        assert!(
                            case.responder_time(withdrawn) <= Duration::milliseconds(limits[i])
                        );
                    }
                }
                assert!(
                    state.is_missed() || !previous_missed[i],
                    "a miss was un-counted"
                );
                previous_missed[i] = state.is_missed();
            }
            let any_overdue = states
                .iter()
                .any(|s| matches!(s, MilestoneState::Pending { overdue: true, .. }));
            // One definition of overdue: the instant the case list stores says the same.
            assert_eq!(
                case.is_overdue(&deadlines, *now),
                any_overdue,
                "overdue from {:?} at {now}",
                case.overdue_from(&deadlines)
            );
            assert_eq!(timeliness.is_overdue(), any_overdue);
        }
    }
}

/// The official messages a node holds once the network has drained, by id.
fn holdings(run: &Run, node: usize) -> BTreeMap<MessageId, OfficialMessage> {
    run.nodes[node]
        .view()
        .into_iter()
        .map(|m| (m.envelope.id, m))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (a) Two nodes that each send only what is legal in their own view end with the same
    /// messages and derive the same case from them, whatever the order; every case either
    /// derived along the way is reachable by legal steps.
    #[test]
    fn both_nodes_derive_the_same_reachable_case(script in script(60), order in any::<u64>()) {
        let agreement = agreement();
        let run = simulate(&agreement, &script);
        for (case, view) in &run.views {
            check_case(&agreement, case, view);
        }
        let requester = holdings(&run, 0);
        let responder = holdings(&run, 1);
        prop_assert_eq!(&requester, &responder, "the nodes hold different messages");
        let messages: Vec<OfficialMessage> = requester.into_values().collect();
        prop_assume!(!messages.is_empty());

        let case = derive_case(&agreement, &run.nodes[0].view()).expect("derivable");
        prop_assert_eq!(&derive_case(&agreement, &run.nodes[1].view()), &Ok(case.clone()));
        for seed in [order, splitmix(order)] {
            prop_assert_eq!(&derive_case(&agreement, &shuffled(&messages, seed)), &Ok(case.clone()));
        }
        check_case(&agreement, &case, &messages);
        if !run.had_crossing_messages() {
            prop_assert!(case.voided.is_empty(), "voided without a race: {:#?}", case);
        }
    }

    /// (b) `derive_case` does not depend on the order of its input, for broken histories too:
    /// messages lost, delivered twice, replying to the wrong message, or copied with another
    /// official time. The result, case or error, is the same.
    #[test]
    fn derive_case_ignores_the_order_of_its_input(
        script in script(40),
        damage in prop::collection::vec((0u8..6, any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..4),
        orders in [any::<u64>(), any::<u64>()],
    ) {
        let agreement = agreement();
        let run = simulate(&agreement, &script);
        let mut messages = run.nodes[0].view();
        prop_assume!(!messages.is_empty());
        for (kind, i, j) in damage {
            let (i, j) = (i.index(messages.len()), j.index(messages.len()));
            match kind {
                0 => { messages.remove(i); }
                1 => messages.push(messages[i].clone()),
                2 => messages[i].envelope.in_reply_to = Some(messages[j].envelope.id),
                3 => messages[i].envelope.in_reply_to = None,
                4 => {
                    let mut copy = messages[i].clone();
                    copy.at = at_offset(copy.at, 1);
                    messages.push(copy);
                }
                _ => messages[i].at = messages[j].at,
            }
            if messages.is_empty() {
                break;
            }
        }
        let expected = derive_case(&agreement, &messages);
        for seed in orders {
            prop_assert_eq!(&derive_case(&agreement, &shuffled(&messages, seed)), &expected);
        }
        if let Ok(case) = &expected {
            check_case(&agreement, case, &messages);
        }
    }

    /// (c) The clock never counts negative time, never more pause than the time that passed,
    /// never runs backwards, says overdue exactly when the responder's time is past a deadline
    /// (as the case list's `overdue_from` does), and never un-counts a miss.
    #[test]
    fn the_clock_never_runs_backwards_or_counts_too_much_pause(script in script(60)) {
        let agreement = agreement();
        let run = simulate(&agreement, &script);
        for (case, _) in &run.views {
            check_clock(&agreement, case);
        }
    }
}

#[test]
fn the_simulation_produces_races_and_every_outcome() {
    // Guards the generator: if it stopped producing crossing messages or some final status,
    // the properties above would pass without testing much.
    let agreement = agreement();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = script(60);
    let mut statuses = std::collections::BTreeSet::new();
    let mut voided = 0;
    for _ in 0..400 {
        let script = strategy.new_tree(&mut runner).expect("a script").current();
        let run = simulate(&agreement, &script);
        statuses.extend(run.views.iter().map(|(case, _)| case.status.as_str()));
        if let Some(case) = run.nodes[0].case(&agreement) {
            voided += usize::from(!case.voided.is_empty());
        }
    }
    eprintln!("{voided} of 400 runs voided a message");
    assert_eq!(statuses.len(), 8, "statuses reached: {statuses:?}");
    assert!(voided >= 10, "only {voided} runs voided a message");
}
