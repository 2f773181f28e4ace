//! Reports: STIX 2.1 sightings, per-owner aggregation and notification drafts.

use detente_match::input::Format;
use detente_match::{EventTime, OwnerReports, OwnerTable, RunOptions, Sightings, identity_ref};

use crate::support::{CONN, DNS, index_of, run_bytes, zeek_header};

const OWNERS: &str = "cidr,organisation,abuse_contact\n10.0.0.0/16,Example Hospital,cert@hospital.example\n10.1.0.0/16,\"Ministry, IT\",abuse@ministry.example\n192.0.2.0/24,Hosting Ltd,abuse@hosting.example\n";

fn logs() -> Vec<(&'static str, Vec<u8>, Format)> {
    let mut conn = zeek_header("conn", CONN);
    conn.push_str("1700000000.5\tC1\t10.0.0.7\t40000\t192.0.2.66\t443\ttcp\tssl\n");
    conn.push_str("1700000100.0\tC2\t10.0.0.7\t40001\t192.0.2.66\t443\ttcp\tssl\n");
    conn.push_str("1700000050.0\tC3\t10.1.3.3\t40002\t192.0.2.66\t443\ttcp\tssl\n");
    let mut dns = zeek_header("dns", DNS);
    dns.push_str("1700000200.0\tD1\t10.1.3.3\t5353\t8.8.8.8\t53\tudp\tx.evil.example\tA\t-\n");
    dns.push_str("1700000300.0\tD2\t172.16.0.1\t5353\t8.8.8.8\t53\tudp\tevil.example\tA\t-\n");
    vec![
        ("conn.log", conn.into_bytes(), Format::Auto),
        ("dns.log", dns.into_bytes(), Format::Auto),
    ]
}

#[test]
fn sightings_summarise_each_indicator_in_stix_shape() {
    let index = index_of(&["192.0.2.66", "evil.example", "unseen.example"]);
    let (owners, errors) = OwnerTable::parse_csv(OWNERS.as_bytes());
    assert!(errors.is_empty());
    let (hits, _) = run_bytes(&index, logs(), &RunOptions::default());
    let mut sightings = Sightings::default();
    for h in &hits {
        detente_match::HitSink::hit(&mut sightings, h);
    }
    let created = EventTime::from_unix_seconds(1_700_001_000).expect("valid");
    let names = vec!["conn.log".to_owned(), "dns.log".to_owned()];
    let stix = sightings.to_stix(&index, Some(&owners), created, &names);
    assert_eq!(stix.len(), 2, "unseen indicators have no sighting");
    let ip = &stix[0];
    assert_eq!(ip["type"], "sighting");
    assert_eq!(ip["spec_version"], "2.1");
    assert!(ip["id"].as_str().expect("id").starts_with("sighting--"));
    assert!(
        ip["sighting_of_ref"]
            .as_str()
            .expect("ref")
            .starts_with("indicator--")
    );
    assert_eq!(ip["created"], "2023-11-14T22:30:00.000Z");
    assert_eq!(ip["count"], 3);
    assert_eq!(ip["first_seen"], "2023-11-14T22:13:20.500000Z");
    assert_eq!(ip["last_seen"], "2023-11-14T22:15:00Z");
    assert_eq!(
        ip["object_marking_refs"][0],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    let mut where_sighted: Vec<String> = ip["where_sighted_refs"]
        .as_array()
        .expect("refs")
        .iter()
        .map(|v| v.as_str().expect("str").to_owned())
        .collect();
    where_sighted.sort();
    let mut expected = vec![
        identity_ref("Example Hospital"),
        identity_ref("Ministry, IT"),
        identity_ref("Hosting Ltd"),
    ];
    expected.sort();
    assert_eq!(where_sighted, expected);
    assert_eq!(ip["x_detente_indicator"]["value"], "192.0.2.66");
    assert_eq!(ip["x_detente_inputs"][0], "conn.log");
    let domain = &stix[1];
    assert_eq!(domain["count"], 2);
    assert_eq!(
        domain["x_detente_observed_values"],
        serde_json::json!(["evil.example", "x.evil.example"])
    );

    // Same input, same output, byte for byte.
    let again = sightings.to_stix(&index, Some(&owners), created, &names);
    assert_eq!(
        serde_json::to_string(&stix).expect("json"),
        serde_json::to_string(&again).expect("json")
    );
}

#[test]
fn owners_get_their_hosts_and_a_draft_they_can_act_on() {
    let index = index_of(&["192.0.2.66", "evil.example"]);
    let (owners, _) = OwnerTable::parse_csv(OWNERS.as_bytes());
    let (hits, _) = run_bytes(
        &index,
        logs(),
        &RunOptions {
            threads: 2,
            ..RunOptions::default()
        },
    );
    let mut agg = OwnerReports::new(&owners, &index);
    for h in &hits {
        detente_match::HitSink::hit(&mut agg, h);
    }
    assert_eq!(
        agg.unowned_hits(),
        1,
        "the 172.16.0.1 query is nobody's in the table"
    );
    let reports = agg.reports();
    let names: Vec<&str> = reports.iter().map(|r| r.organisation).collect();
    assert_eq!(names, ["Example Hospital", "Hosting Ltd", "Ministry, IT"]);
    let hospital = &reports[0];
    assert_eq!(hospital.hits, 2);
    assert_eq!(hospital.hosts.len(), 1);
    assert_eq!(hospital.hosts[0].ip.to_string(), "10.0.0.7");
    assert_eq!(hospital.tlp, "TLP:AMBER");
    // The C2 address itself is in our territory: its host gets told too.
    assert_eq!(reports[1].hosts[0].ip.to_string(), "192.0.2.66");
    let ministry = &reports[2];
    assert_eq!(ministry.indicators.len(), 2);

    let draft = hospital.draft();
    assert_eq!(draft.to, "cert@hospital.example");
    assert!(draft.subject.contains("1 host"), "{}", draft.subject);
    assert!(draft.body.starts_with("TLP:AMBER\n"), "{}", draft.body);
    assert!(
        draft
            .body
            .contains("10.0.0.7: 2 events, 2023-11-14T22:13:20.500000Z to 2023-11-14T22:15:00Z"),
        "{}",
        draft.body
    );
    assert!(
        draft.body.contains("192.0.2.66 (ip; i0; TLP:AMBER)"),
        "{}",
        draft.body
    );
    let json = serde_json::to_value(&draft).expect("json");
    assert_eq!(json["report"]["hosts"][0]["hits"], 2);
    assert_eq!(json["report"]["indicators"][0]["kind"], "ip");
}

#[test]
fn a_red_indicator_makes_the_draft_red_and_warns_the_operator() {
    let mut b = detente_match::IndexBuilder::new(crate::support::now());
    let meta = detente_match::IndicatorMeta {
        case_ref: Some("REQ-7".into()),
        ..detente_match::IndicatorMeta::new("indicator--1", "TLP:RED")
    };
    b.add(
        detente_match::IndicatorValue::parse("192.0.2.66").expect("valid"),
        &meta,
    )
    .expect("fits");
    let index = b.build();
    let (owners, _) = OwnerTable::parse_csv(OWNERS.as_bytes());
    let (hits, _) = run_bytes(&index, logs(), &RunOptions::default());
    let mut agg = OwnerReports::new(&owners, &index);
    for h in &hits {
        detente_match::HitSink::hit(&mut agg, h);
    }
    let reports = agg.reports();
    let draft = reports[0].draft();
    assert_eq!(draft.tlp, "TLP:RED");
    assert!(draft.body.contains("OPERATOR NOTE"), "{}", draft.body);
    assert!(draft.body.contains("case REQ-7"), "{}", draft.body);
}

/// Hits from `hosts` (one each, in order), all on one indicator, ten seconds apart.
fn hits_from(index: &detente_match::Index, hosts: &[std::net::IpAddr]) -> Vec<detente_match::Hit> {
    let id = index.ids().next().expect("one indicator");
    hosts
        .iter()
        .enumerate()
        .map(|(n, &ip)| detente_match::Hit {
            input: 0,
            line: n as u64 + 1,
            field: "id.orig_h".into(),
            value: "192.0.2.66".into(),
            indicators: vec![id],
            time: EventTime::from_unix_seconds(1_700_000_000 + 10 * n as i64),
            hosts: vec![ip],
        })
        .collect()
}

/// Regression (issue 20.12): per-owner aggregation kept every host it saw, so one indicator
/// hit by every address of a big network (0.0.0.0/0 over 2M lines) took 3.8 GB and wrote a
/// 739 MB report. It now keeps the heaviest hosts of each owner, and exact counts.
#[test]
fn owner_reports_stay_bounded_whatever_the_number_of_hosts() {
    // Arrange: 100,000 hosts of one owner with one hit each, and a busy host whose 5,000
    // hits start only once the others have filled any table.
    let index = index_of(&["192.0.2.66"]);
    let (owners, _) = OwnerTable::parse_csv("10.0.0.0/8,Big ISP,abuse@isp.example\n".as_bytes());
    let busy: std::net::IpAddr = "10.255.255.1".parse().expect("ip");
    let mut hosts = Vec::new();
    for n in 0..100_000u32 {
        hosts.push(std::net::IpAddr::from((10u32 << 24 | n).to_be_bytes()));
        if n >= 50_000 && n % 10 == 0 {
            hosts.push(busy);
        }
    }
    let hits = hits_from(&index, &hosts);

    // Act
    let mut agg = OwnerReports::new(&owners, &index);
    for h in &hits {
        detente_match::HitSink::hit(&mut agg, h);
    }
    let reports = agg.reports();

    // Assert: exact counts, the busy host first with its exact count, the rest bounded.
    let isp = &reports[0];
    assert!(
        isp.hosts.len() <= detente_match::MAX_HOSTS_PER_OWNER,
        "{} hosts kept",
        isp.hosts.len()
    );
    assert_eq!(isp.hits, 105_000);
    assert_eq!((isp.hosts[0].ip, isp.hosts[0].hits), (busy, 5_000));
    assert!(!isp.all_hosts_listed);
    let listed: u64 = isp.hosts.iter().map(|h| h.hits).sum();
    assert_eq!(isp.hits_on_other_hosts, isp.hits - listed);
    assert_eq!(isp.first_seen, hits[0].time);
    assert_eq!(isp.last_seen, hits[hits.len() - 1].time);
    let json = serde_json::to_vec(isp).expect("json");
    assert!(json.len() < 512 * 1024, "a report of {} bytes", json.len());
    let draft = isp.draft();
    assert!(
        draft.subject.contains("more than 1000 hosts"),
        "{}",
        draft.subject
    );
    assert!(
        draft.body.contains("10.255.255.1: at least 5000 events"),
        "{}",
        &draft.body[..2000]
    );
}

#[test]
fn an_owner_with_few_hosts_gets_them_all_with_exact_counts() {
    // Arrange
    let index = index_of(&["192.0.2.66"]);
    let (owners, _) = OwnerTable::parse_csv(
        "10.0.0.0/8,Small ISP,abuse@isp.example
"
        .as_bytes(),
    );
    let a: std::net::IpAddr = "10.0.0.1".parse().expect("ip");
    let b: std::net::IpAddr = "10.0.0.2".parse().expect("ip");
    let hits = hits_from(&index, &[a, b, b, a, b]);

    // Act
    let mut agg = OwnerReports::new(&owners, &index);
    for h in &hits {
        detente_match::HitSink::hit(&mut agg, h);
    }
    let reports = agg.reports();

    // Assert
    let isp = &reports[0];
    assert!(isp.all_hosts_listed);
    assert_eq!(isp.hits_on_other_hosts, 0);
    let hosts: Vec<_> = isp
        .hosts
        .iter()
        .map(|h| (h.ip, h.hits, h.uncounted))
        .collect();
    assert_eq!(hosts, [(b, 3, 0), (a, 2, 0)]);
    assert!(
        isp.draft().subject.contains(" 2 hosts"),
        "{}",
        isp.draft().subject
    );
}

/// Regression (issue 20.14): an indicator whose STIX pattern asks for more than one value
/// (`[ipv4-addr:value = 'X' AND network-traffic:dst_port = 443]`) was matched on its address
/// alone and reported as sighted. Such an indicator is marked partial: its hits are
/// candidates for an analyst, never sightings, and never reach an owner's notification.
#[test]
fn hits_on_partial_indicators_are_candidates_not_sightings() {
    // Arrange: the same address in a complete and in a partial indicator, and a second
    // address only in the partial one.
    let mut b = detente_match::IndexBuilder::new(crate::support::now());
    let value = |t: &str| detente_match::IndicatorValue::parse(t).expect("valid");
    b.add(
        value("192.0.2.66"),
        &detente_match::IndicatorMeta::new("full", "TLP:AMBER"),
    )
    .expect("fits");
    let partial = detente_match::IndicatorMeta {
        partial: true,
        ..detente_match::IndicatorMeta::new("indicator--and", "TLP:AMBER")
    };
    b.add(value("192.0.2.66"), &partial).expect("fits");
    b.add(value("10.1.3.3"), &partial).expect("fits");
    let index = b.build();
    let (owners, _) = OwnerTable::parse_csv("10.0.0.0/16,Hospital,cert@h.example\n".as_bytes());
    let (hits, _) = run_bytes(&index, logs(), &RunOptions::default());

    // Act
    let mut sightings = Sightings::default();
    let mut agg = OwnerReports::new(&owners, &index);
    for h in &hits {
        detente_match::HitSink::hit(&mut sightings, h);
        detente_match::HitSink::hit(&mut agg, h);
    }
    let created = EventTime::from_unix_seconds(1_700_001_000).expect("valid");
    let stix = sightings.to_stix(&index, None, created, &[]);
    let candidates = sightings.candidates(&index);
    let reports = agg.reports();

    // Assert
    let sighted: Vec<&str> = stix
        .iter()
        .map(|s| s["x_detente_indicator"]["label"].as_str().expect("label"))
        .collect();
    assert_eq!(sighted, ["full"]);
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    assert!(candidates.iter().all(|c| c.indicator.partial));
    assert_eq!(candidates[0].indicator.value, "192.0.2.66");
    assert_eq!(candidates[0].hits, 3);
    // The hospital's host hit the full indicator twice; the 10.1.3.3 line is not its block.
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].hits, 2);
    assert!(reports[0].indicators.iter().all(|i| !i.partial));
}
