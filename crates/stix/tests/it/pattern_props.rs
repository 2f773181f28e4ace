//! Property tests of the pattern parser: every tree prints to text that parses back to the
//! same tree, and no input makes the parser panic.

use proptest::prelude::*;

use detente_stix::Timestamp;
use detente_stix::pattern::{
    CompareOp, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, Pattern,
    PropertyTest, Qualifier,
};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        "[A-Za-z0-9 '\\\\.-]{1,10}",
        Just("SHA-256".to_owned()),
        Just("AND".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = ObjectPath> {
    let step = prop_oneof![
        name().prop_map(PathStep::Key),
        (-5i64..50).prop_map(PathStep::Index),
        Just(PathStep::AnyIndex),
    ];
    (
        prop_oneof![
            Just("file".to_owned()),
            Just("ipv4-addr".to_owned()),
            "x-[a-z]{3}"
        ],
        name(),
        prop::collection::vec(step, 0..3),
    )
        .prop_map(|(object_type, property, steps)| ObjectPath {
            object_type,
            property,
            steps,
        })
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_000_000_000).prop_map(|s| Timestamp::from_unix_seconds(s).expect("in range"))
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        ".{0,12}".prop_map(Literal::Str),
        any::<i64>().prop_map(Literal::Int),
        (-1_000_000i64..1_000_000, 1u32..4)
            .prop_map(|(n, d)| Literal::Float(n as f64 / 10f64.powi(d as i32))),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Binary("dGhpcyBpcyBhIHRlc3Q=".into())),
        "([0-9a-f]{2}){0,4}".prop_map(Literal::Hex),
        timestamp().prop_map(Literal::Timestamp),
    ]
}

fn test_expr() -> impl Strategy<Value = PropertyTest> {
    let ops = prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Lt),
        Just(CompareOp::Ge),
    ];
    let string_ops = prop_oneof![
        Just(CompareOp::Like),
        Just(CompareOp::Matches),
        Just(CompareOp::IsSubset),
        Just(CompareOp::IsSuperset),
    ];
    prop_oneof![
        (path(), any::<bool>(), ops, literal()).prop_filter_map(
            "orderable",
            |(path, negated, op, value)| {
                let ordering = matches!(op, CompareOp::Lt | CompareOp::Ge);
                (!ordering || !matches!(value, Literal::Bool(_))).then_some(PropertyTest::Compare {
                    path,
                    negated,
                    op,
                    value,
                })
            }
        ),
        (path(), any::<bool>(), string_ops, ".{0,8}").prop_map(|(path, negated, op, s)| {
            PropertyTest::Compare {
                path,
                negated,
                op,
                value: Literal::Str(s),
            }
        }),
        (
            path(),
            any::<bool>(),
            prop::collection::vec(literal(), 0..4)
        )
            .prop_map(|(path, negated, values)| PropertyTest::In {
                path,
                negated,
                values
            }),
        path().prop_map(PropertyTest::Exists),
    ]
}

fn comparison() -> impl Strategy<Value = ComparisonExpr> {
    test_expr()
        .prop_map(ComparisonExpr::Test)
        .prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(ComparisonExpr::And),
                prop::collection::vec(inner, 2..4).prop_map(ComparisonExpr::Or),
            ]
        })
}

fn qualifier() -> impl Strategy<Value = Qualifier> {
    prop_oneof![
        (1i64..100_000).prop_map(|n| Qualifier::Within(Literal::Int(n))),
        (1i64..100_000).prop_map(|n| Qualifier::Within(Literal::Float(n as f64 / 100.0))),
        (1u64..1000).prop_map(Qualifier::Repeats),
        (timestamp(), timestamp()).prop_map(|(a, b)| Qualifier::StartStop(a, b)),
    ]
}

fn observation() -> impl Strategy<Value = ObservationExpr> {
    comparison()
        .prop_map(ObservationExpr::Observation)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(ObservationExpr::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(ObservationExpr::Or),
                prop::collection::vec(inner.clone(), 2..4).prop_map(ObservationExpr::FollowedBy),
                (inner, qualifier()).prop_map(|(e, q)| ObservationExpr::Qualified(Box::new(e), q)),
            ]
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printing_then_parsing_gives_back_the_same_tree(expr in observation()) {
        let p = Pattern { expr };
        let text = p.to_string();
        let again = Pattern::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(again, p, "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(s in "[\\[\\]() 'a-zA-Z0-9:.=<>!*,_\\\\-]{0,60}") {
        if let Ok(p) = Pattern::parse(&s) {
            prop_assert_eq!(Pattern::parse(&p.to_string()).ok(), Some(p));
        }
    }
}
