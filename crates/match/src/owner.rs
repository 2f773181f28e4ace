//! Whose network is it: the owner table (CIDR → organisation, abuse contact), per-owner
//! aggregation of hits, and notification drafts an operator can send.
//!
//! An address belongs to the organisation of the most specific block containing it (longest
//! prefix). A hit is attributed to the owners of every address on its line: the host that
//! contacted a C2 server, and the C2 server itself when it is in our territory.
//!
//! Memory stays bounded whatever the logs hold: per owner, the counts (hits, first and last
//! time, hits per indicator) are exact, and at most [`MAX_HOSTS_PER_OWNER`] hosts are kept,
//! the ones with the most hits, chosen by the Space-Saving algorithm (Metwally, Agrawal and
//! El Abbadi, "Efficient computation of frequent and top-k elements in data streams", 2005).
//! When the table of hosts is full, a new host takes the place of the one with the fewest
//! hits and inherits its count as an upper bound of what it may have missed; so any host
//! with more than 1/[`MAX_HOSTS_PER_OWNER`] of its owner's hits is always kept, and what a
//! report says of a host is a count it really had (see [`HostReport::uncounted`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufRead;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::Serialize;

use crate::error::OwnerError;
use crate::event_time::EventTime;
use crate::index::{Index, IndicatorId, IndicatorView};
use crate::indicator::tlp_rank;
use crate::normalize::parse_ip;
use crate::run::{Hit, HitSink};
use crate::sighting::clip_value;

/// An organisation responsible for some of our address space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// Its name.
    pub organisation: String,
    /// Where abuse reports go (an e-mail address or a URL).
    pub abuse_contact: String,
    /// The blocks the table gives it, in table order.
    pub blocks: Vec<IpNet>,
}

/// CIDR → owner, longest prefix wins.
#[derive(Debug, Default)]
pub struct OwnerTable {
    owners: Vec<Owner>,
    v4: PrefixMap<Ipv4Net, u32>,
    v6: PrefixMap<Ipv6Net, u32>,
}

impl OwnerTable {
    /// Reads `cidr,organisation,abuse_contact` lines (RFC 4180 quoting allowed; an optional
    /// header line starting with `cidr`; `#` comments). Bad lines are returned as errors and
    /// skipped. Rows with the same organisation and contact make one owner.
    pub fn parse_csv(reader: impl BufRead) -> (Self, Vec<OwnerError>) {
        let mut table = Self::default();
        let mut errors = Vec::new();
        let mut by_name: BTreeMap<(String, String), u32> = BTreeMap::new();
        for (n, line) in reader.lines().enumerate() {
            let line_no = n as u64 + 1;
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    errors.push(OwnerError::Read(e.to_string()));
                    break;
                }
            };
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let fields = split_csv(text);
            if line_no == 1
                && fields
                    .first()
                    .is_some_and(|f| f.eq_ignore_ascii_case("cidr"))
            {
                continue;
            }
            if fields.len() != 3 {
                errors.push(OwnerError::Fields {
                    line: line_no,
                    found: fields.len(),
                });
                continue;
            }
            let Some(net) = parse_block(&fields[0]) else {
                errors.push(OwnerError::Cidr {
                    line: line_no,
                    value: fields[0].clone(),
                });
                continue;
            };
            if fields[1].is_empty() {
                errors.push(OwnerError::Organisation { line: line_no });
                continue;
            }
            let key = (fields[1].clone(), fields[2].clone());
            let next = table.owners.len() as u32;
            let id = *by_name.entry(key).or_insert(next);
            let existing = match net {
                IpNet::V4(n) => table.v4.get(&n).copied(),
                IpNet::V6(n) => table.v6.get(&n).copied(),
            };
            if let Some(first) = existing {
                errors.push(OwnerError::Duplicate {
                    line: line_no,
                    cidr: net.to_string(),
                    organisation: table.owners[first as usize].organisation.clone(),
                });
                continue;
            }
            if id == next {
                table.owners.push(Owner {
                    organisation: fields[1].clone(),
                    abuse_contact: fields[2].clone(),
                    blocks: Vec::new(),
                });
            }
            table.owners[id as usize].blocks.push(net);
            match net {
                IpNet::V4(n) => table.v4.insert(n, id),
                IpNet::V6(n) => table.v6.insert(n, id),
            };
        }
        (table, errors)
    }

    /// The owner of an address, if any block holds it.
    pub fn lookup(&self, ip: IpAddr) -> Option<&Owner> {
        self.lookup_id(ip).map(|id| &self.owners[id as usize])
    }

    fn lookup_id(&self, ip: IpAddr) -> Option<u32> {
        match ip.to_canonical() {
            IpAddr::V4(ip) => self.v4.get_lpm(&Ipv4Net::from(ip)).map(|(_, &id)| id),
            IpAddr::V6(ip) => self.v6.get_lpm(&Ipv6Net::from(ip)).map(|(_, &id)| id),
        }
    }

    /// The owners, in order of first appearance.
    pub fn owners(&self) -> &[Owner] {
        &self.owners
    }
}

fn parse_block(text: &str) -> Option<IpNet> {
    match text.split_once('/') {
        Some((addr, len)) => {
            let addr = parse_ip(addr.trim().as_bytes())?;
            IpNet::new(addr, len.trim().parse().ok()?)
                .ok()
                .map(|n| n.trunc())
        }
        None => parse_ip(text.trim().as_bytes()).map(IpNet::from),
    }
}

/// Splits one CSV line, unquoting quoted fields and their doubled quotes; fields are trimmed.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    fields.push(field.trim().to_owned());
    fields
}

/// Hosts kept per owner, those with the most hits (see the module documentation).
pub const MAX_HOSTS_PER_OWNER: usize = 1_000;

/// Distinct observed values kept per host.
const MAX_VALUES: usize = 20;

/// Indicators counted per host (the owner counts every one).
const MAX_HOST_INDICATORS: usize = 20;

#[derive(Debug, Default, Clone)]
struct HostTally {
    /// Hits since the host was kept.
    hits: u64,
    /// The count of the host whose place it took: hits it may have had before.
    uncounted: u64,
    first: Option<EventTime>,
    last: Option<EventTime>,
    indicators: BTreeMap<IndicatorId, u64>,
    values: BTreeSet<String>,
}

impl HostTally {
    /// The count the Space-Saving algorithm ranks by: an upper bound of the host's hits.
    fn rank(&self) -> u64 {
        self.hits + self.uncounted
    }
}

/// One owner's exact counts and its heaviest hosts.
#[derive(Debug, Default)]
struct OwnerTally {
    hits: u64,
    first: Option<EventTime>,
    last: Option<EventTime>,
    indicators: BTreeMap<IndicatorId, u64>,
    hosts: BTreeMap<IpAddr, HostTally>,
    /// The kept hosts by rank, smallest first: the next to give up its place.
    ranks: BTreeSet<(u64, IpAddr)>,
    /// Whether some host ever gave up its place.
    dropped_hosts: bool,
}

impl OwnerTally {
    /// Counts `hit` for host `ip`, under the complete indicators `ids` it matched.
    fn hit(&mut self, ip: IpAddr, hit: &Hit, ids: &[IndicatorId]) {
        self.hits += 1;
        widen(&mut self.first, &mut self.last, hit.time);
        for &id in ids {
            *self.indicators.entry(id).or_default() += 1;
        }
        let host = match self.hosts.get_mut(&ip) {
            Some(host) => {
                self.ranks.remove(&(host.rank(), ip));
                host
            }
            None => {
                let mut uncounted = 0;
                if self.hosts.len() >= MAX_HOSTS_PER_OWNER
                    && let Some((rank, smallest)) = self.ranks.pop_first()
                {
                    self.hosts.remove(&smallest);
                    self.dropped_hosts = true;
                    uncounted = rank;
                }
                self.hosts.entry(ip).or_insert(HostTally {
                    uncounted,
                    ..HostTally::default()
                })
            }
        };
        host.hits += 1;
        widen(&mut host.first, &mut host.last, hit.time);
        for &id in ids {
            if let Some(n) = host.indicators.get_mut(&id) {
                *n += 1;
            } else if host.indicators.len() < MAX_HOST_INDICATORS {
                host.indicators.insert(id, 1);
            }
        }
        if host.values.len() < MAX_VALUES && !host.values.contains(&hit.value) {
            host.values.insert(clip_value(&hit.value));
        }
        self.ranks.insert((host.rank(), ip));
    }
}

/// Moves `first` and `last` out to include `time`.
fn widen(first: &mut Option<EventTime>, last: &mut Option<EventTime>, time: Option<EventTime>) {
    if let Some(time) = time {
        *first = Some(first.map_or(time, |f| f.min(time)));
        *last = Some(last.map_or(time, |l| l.max(time)));
    }
}

/// Aggregates hits per owner and host, in bounded memory; feed it as a [`HitSink`]. Hits
/// only on partial indicators (see [`IndicatorMeta::partial`](crate::IndicatorMeta::partial))
/// are left out: an owner hears only of full matches.
#[derive(Debug)]
pub struct OwnerReports<'a> {
    owners: &'a OwnerTable,
    index: &'a Index,
    tallies: BTreeMap<u32, OwnerTally>,
    unowned: u64,
    /// Complete indicators of the hit at hand, reused between hits.
    ids: Vec<IndicatorId>,
}

impl HitSink for OwnerReports<'_> {
    fn hit(&mut self, hit: &Hit) {
        self.ids.clear();
        let index = self.index;
        self.ids
            .extend(hit.indicators.iter().filter(|&&id| !index.is_partial(id)));
        if self.ids.is_empty() {
            return;
        }
        let mut owned = false;
        for &ip in &hit.hosts {
            let Some(owner) = self.owners.lookup_id(ip) else {
                continue;
            };
            owned = true;
            self.tallies
                .entry(owner)
                .or_default()
                .hit(ip, hit, &self.ids);
        }
        if !owned {
            self.unowned += 1;
        }
    }
}

/// One host's part in an owner's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostReport {
    /// The address.
    pub ip: IpAddr,
    /// Hits on lines it was on, counted since it was kept: all of them when `uncounted` is 0.
    pub hits: u64,
    /// Hits it may have had before it was kept (it took the place of a host with this many,
    /// see the module documentation); 0 when `hits` is its exact count.
    #[serde(skip_serializing_if = "is_zero")]
    pub uncounted: u64,
    /// Earliest hit time (since it was kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<EventTime>,
    /// Latest hit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<EventTime>,
    /// Indicators hit, with counts (the first few).
    pub indicators: Vec<(IndicatorId, u64)>,
    /// Values observed (the first few).
    pub values: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Everything one owner should hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerReport<'a> {
    /// The organisation.
    pub organisation: &'a str,
    /// Where to send it.
    pub abuse_contact: &'a str,
    /// The most restrictive TLP of the indicators involved, which the notification inherits.
    pub tlp: &'a str,
    /// Hits attributed to this owner (a hit with two of its hosts counts for each).
    pub hits: u64,
    /// Earliest hit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<EventTime>,
    /// Latest hit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<EventTime>,
    /// Its hosts with the most hits, most first (at most [`MAX_HOSTS_PER_OWNER`]).
    pub hosts: Vec<HostReport>,
    /// Whether `hosts` names every host of this owner that was hit.
    pub all_hosts_listed: bool,
    /// Hits not counted under any listed host: `hits` less the listed hosts' `hits`.
    pub hits_on_other_hosts: u64,
    /// The indicators involved, by id.
    pub indicators: Vec<IndicatorView<'a>>,
}

/// A notification an operator can review and send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification<'a> {
    /// Recipient.
    pub to: &'a str,
    /// Subject line.
    pub subject: String,
    /// TLP of the message.
    pub tlp: &'a str,
    /// The text.
    pub body: String,
    /// The facts behind it.
    pub report: &'a OwnerReport<'a>,
}

impl<'a> OwnerReports<'a> {
    /// An empty aggregation over `owners`, for hits on the indicators of `index`.
    pub fn new(owners: &'a OwnerTable, index: &'a Index) -> Self {
        Self {
            owners,
            index,
            tallies: BTreeMap::new(),
            unowned: 0,
            ids: Vec::new(),
        }
    }

    /// Hits (on complete indicators) none of whose addresses are in the owner table.
    pub fn unowned_hits(&self) -> u64 {
        self.unowned
    }

    /// One report per owner with hits, ordered by organisation name then contact.
    pub fn reports(&self) -> Vec<OwnerReport<'a>> {
        let index = self.index;
        let mut reports: Vec<OwnerReport<'a>> = self
            .tallies
            .iter()
            .map(|(&owner, tally)| {
                let o = &self.owners.owners[owner as usize];
                let mut hosts: Vec<HostReport> = tally
                    .hosts
                    .iter()
                    .map(|(&ip, t)| HostReport {
                        ip,
                        hits: t.hits,
                        uncounted: t.uncounted,
                        first_seen: t.first,
                        last_seen: t.last,
                        indicators: t.indicators.iter().map(|(&id, &n)| (id, n)).collect(),
                        values: t.values.iter().cloned().collect(),
                    })
                    .collect();
                hosts.sort_by(|a, b| {
                    (b.hits + b.uncounted)
                        .cmp(&(a.hits + a.uncounted))
                        .then(a.ip.cmp(&b.ip))
                });
                let indicators: Vec<IndicatorView<'a>> = tally
                    .indicators
                    .keys()
                    .map(|&id| index.indicator(id))
                    .collect();
                let tlp = indicators
                    .iter()
                    .map(|v| v.tlp)
                    .max_by_key(|t| tlp_rank(t))
                    .unwrap_or("TLP:CLEAR");
                let listed: u64 = hosts.iter().map(|h| h.hits).sum();
                OwnerReport {
                    organisation: &o.organisation,
                    abuse_contact: &o.abuse_contact,
                    tlp,
                    hits: tally.hits,
                    first_seen: tally.first,
                    last_seen: tally.last,
                    hosts,
                    all_hosts_listed: !tally.dropped_hosts,
                    hits_on_other_hosts: tally.hits - listed,
                    indicators,
                }
            })
            .collect();
        reports.sort_by(|a, b| {
            (a.organisation, a.abuse_contact).cmp(&(b.organisation, b.abuse_contact))
        });
        reports
    }
}

impl<'a> OwnerReport<'a> {
    /// A draft notification for this owner: plain text an operator can edit and send, with the
    /// same facts as structured data when serialised.
    pub fn draft(&'a self) -> Notification<'a> {
        let hosts = self.hosts.len();
        let subject = format!(
            "[{}] {}{} host{} in your network matched threat indicators shared with us",
            self.tlp,
            if self.all_hosts_listed {
                ""
            } else {
                "more than "
            },
            hosts,
            if hosts == 1 && self.all_hosts_listed {
                ""
            } else {
                "s"
            }
        );
        let mut body = String::new();
        let w = &mut body;
        // Writing to a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(w, "{}", self.tlp);
        let _ = writeln!(w, "To: {} ({})", self.abuse_contact, self.organisation);
        let _ = writeln!(w, "Subject: {subject}\n");
        let _ = writeln!(w, "Hello,\n");
        let period = match (self.first_seen, self.last_seen) {
            (Some(f), Some(l)) => format!("between {f} and {l}"),
            _ => "recently".to_owned(),
        };
        let _ = writeln!(
            w,
            "{period}, our monitoring saw {} event{} involving {}{hosts} address{} in networks registered to {}, matching threat indicators shared with us by a partner CERT.",
            self.hits,
            if self.hits == 1 { "" } else { "s" },
            if self.all_hosts_listed {
                ""
            } else {
                "more than "
            },
            if hosts == 1 && self.all_hosts_listed {
                ""
            } else {
                "es"
            },
            self.organisation
        );
        if self.all_hosts_listed {
            let _ = writeln!(w, "\nAddresses in your networks:");
        } else {
            let _ = writeln!(
                w,
                "\nThe {hosts} addresses in your networks with the most events ({} more event{} involved other addresses):",
                self.hits_on_other_hosts,
                if self.hits_on_other_hosts == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        for h in &self.hosts {
            let when = match (h.first_seen, h.last_seen) {
                (Some(f), Some(l)) if f == l => format!(" at {f}"),
                (Some(f), Some(l)) => format!(", {f} to {l}"),
                _ => String::new(),
            };
            let _ = writeln!(
                w,
                "  {}: {}{} event{}{when}",
                h.ip,
                if h.uncounted > 0 { "at least " } else { "" },
                h.hits,
                if h.hits == 1 { "" } else { "s" }
            );
            for v in &h.values {
                let _ = writeln!(w, "      observed: {v}");
            }
        }
        let _ = writeln!(w, "\nIndicators matched:");
        for i in &self.indicators {
            let case = i
                .case_ref
                .map(|c| format!(", case {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                w,
                "  {} ({}; {}{case}; {})",
                i.value, i.kind, i.label, i.tlp
            );
        }
        let _ = writeln!(
            w,
            "\nPlease check these hosts for compromise, take the steps your policy requires, and tell us what you found and did by replying to this message."
        );
        if tlp_rank(self.tlp) >= 3 {
            let _ = writeln!(
                w,
                "\nOPERATOR NOTE (remove before sending): some indicators are {}; their source must agree before this goes to {}.",
                self.tlp, self.organisation
            );
        }
        let _ = writeln!(
            w,
            "\nThis message is {}: share it only as that label allows.",
            self.tlp
        );
        Notification {
            to: self.abuse_contact,
            subject,
            tlp: self.tlp,
            body,
            report: self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(csv: &str) -> (OwnerTable, Vec<OwnerError>) {
        OwnerTable::parse_csv(csv.as_bytes())
    }

    #[test]
    fn the_most_specific_block_owns_an_address() {
        let (t, errors) = table(
            "cidr,organisation,abuse_contact\n10.0.0.0/8,Big ISP,abuse@isp.example\n10.1.0.0/16,\"Hospital, North\",cert@hospital.example\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let owner = |ip: &str| {
            t.lookup(ip.parse().expect("ip"))
                .map(|o| o.organisation.as_str())
        };
        assert_eq!(owner("10.1.2.3"), Some("Hospital, North"));
        assert_eq!(owner("10.2.0.1"), Some("Big ISP"));
        assert_eq!(owner("11.0.0.1"), None);
    }

    #[test]
    fn bad_and_duplicate_rows_are_reported_by_line_and_skipped() {
        let (t, errors) = table(
            "10.0.0.0/8,A,a@x\nnot-a-cidr,B,b@x\n10.0.0.0/8,C,c@x\n192.0.2.0/24,,d@x\n1.2.3.0/24,only two\n",
        );
        assert_eq!(t.owners().len(), 1);
        assert_eq!(
            errors,
            vec![
                OwnerError::Cidr {
                    line: 2,
                    value: "not-a-cidr".into()
                },
                OwnerError::Duplicate {
                    line: 3,
                    cidr: "10.0.0.0/8".into(),
                    organisation: "A".into()
                },
                OwnerError::Organisation { line: 4 },
                OwnerError::Fields { line: 5, found: 2 },
            ]
        );
    }

    #[test]
    fn rows_of_one_organisation_make_one_owner() {
        let (t, _) = table("10.0.0.0/8,A,a@x\n2001:db8::/32,A,a@x\n");
        assert_eq!(t.owners().len(), 1);
        assert_eq!(t.owners()[0].blocks.len(), 2);
        assert!(t.lookup("2001:db8::5".parse().expect("ip")).is_some());
    }
}
