//! The indicator index: every indicator kind in the structure that answers "does anything
//! match this value?" fastest, in memory laid out flat so a million indicators stay small.
//!
//! Layout. Each indicator is one fixed-size [`Record`] in a vector; its normal-form text lives
//! in one shared string. Keyed tables map a lookup key to the *head* record of a chain
//! (records with the same key are linked through `next`), so a table slot is one `u32`:
//!
//! | kind | structure |
//! |---|---|
//! | IP | hash maps of the address bits (IPv4 `u32`, IPv6 `u128`); IPv4 behind the bit filter below |
//! | CIDR | prefix tries (`prefix-trie`) behind a bit filter of the top 22 (IPv6: 16) bits, so most addresses skip the trie |
//! | ip:port | hash maps of address and port |
//! | domain, URL, URL path, hash, e-mail | hash tables of `u32` whose keys are read back from the records' text, behind a one-hash Bloom filter |
//!
//! A domain lookup walks the name's parents at label boundaries (`a.evil.example`,
//! `evil.example`, `example`), so a domain indicator covers its subdomains and never a name
//! that merely ends with the same letters. An address matches every block that contains it,
//! not only the longest: each block may come from another partner or case, and each must hear
//! about the hit.
//!
//! Expired indicators never enter the tables. The allow-list is a second store of the same
//! shape: an observed value that the allow-list matches produces no hit.

use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use foldhash::fast::RandomState;
use hashbrown::{HashMap, HashTable};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::Serialize;

use crate::error::IndexError;
use crate::event_time::EventTime;
use crate::indicator::{DomainScope, IndicatorKind, IndicatorMeta, IndicatorValue};
use crate::normalize::{
    UrlLayout, UrlParts, canonical_ip, domain_key, email_key, hash_key, normalize_url_into,
    split_url,
};

/// Refers to one indicator of an [`Index`]; numbered from 0 in the order they were added
/// (expired ones take no number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct IndicatorId(u32);

impl IndicatorId {
    /// The position of the indicator among those indexed.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// No record: the end of a chain, or an absent string.
const NONE: u32 = u32::MAX;

/// One indicator, 40 bytes.
#[derive(Debug, Clone)]
struct Record {
    /// Its normal-form text in `Store::text`.
    value_off: u32,
    value_len: u32,
    /// Interned strings in `Index::pool`; `case_ref` may be `NONE`.
    label: u32,
    case_ref: u32,
    tlp: u32,
    /// The next record with the same key, or `NONE`.
    next: u32,
    /// Microseconds since the epoch; `i64::MAX` for "no end".
    valid_until: i64,
    kind: IndicatorKind,
    exact_domain: bool,
    /// See [`IndicatorMeta::partial`].
    partial: bool,
    /// Where the lookup key starts in the text: past `scheme://` for URLs, else 0.
    key_off: u8,
}

/// Records and the tables over them. The index has two: indicators and the allow-list.
#[derive(Debug)]
struct Store {
    records: Vec<Record>,
    text: String,
    v4: HashMap<u32, u32, RandomState>,
    v6: HashMap<u128, u32, RandomState>,
    net4: PrefixMap<Ipv4Net, u32>,
    net6: PrefixMap<Ipv6Net, u32>,
    /// Bit `n` is set when an address in `v4` or a block in `net4` has addresses whose top
    /// [`NET4_FILTER_BITS`] bits are `n`: an address that matches nothing, nearly every address
    /// in a log, costs one bit test instead of a hash probe and a trie walk. At 512 KiB the
    /// filter stays in a core's L2 cache, where a 2 MiB one missed on every lookup.
    net4_filter: Vec<u64>,
    /// The same over the top 16 bits of IPv6 addresses.
    net6_filter: Vec<u64>,
    /// Bit `n` is set when some domain record of `n` labels covers subdomains (`n` ≥ 63 share
    /// bit 63): parents of a looked-up name are probed only at label counts that exist.
    parent_labels: u64,
    /// A one-hash Bloom filter over the keys of the text-keyed tables, indexed by the top
    /// [`KEY_FILTER_BITS`] bits of a key's hash: most keys looked up are in no table, and the
    /// filter answers that from L2 instead of a cache miss in the table's control bytes.
    key_filter: Vec<u64>,
    ipport4: HashMap<u64, u32, RandomState>,
    ipport6: HashMap<(u128, u16), u32, RandomState>,
    domains: HashTable<u32>,
    urls: HashTable<u32>,
    paths: HashTable<u32>,
    hashes: HashTable<u32>,
    emails: HashTable<u32>,
    hasher: RandomState,
}

/// The text-keyed tables of a store.
#[derive(Clone, Copy)]
enum Keyed {
    Domains,
    Urls,
    Paths,
    Hashes,
    Emails,
}

impl Store {
    fn new() -> Self {
        let hasher = RandomState::default();
        Self {
            records: Vec::new(),
            text: String::new(),
            v4: HashMap::with_hasher(hasher.clone()),
            v6: HashMap::with_hasher(hasher.clone()),
            net4: PrefixMap::new(),
            net6: PrefixMap::new(),
            net4_filter: Vec::new(),
            net6_filter: Vec::new(),
            parent_labels: 0,
            key_filter: Vec::new(),
            ipport4: HashMap::with_hasher(hasher.clone()),
            ipport6: HashMap::with_hasher(hasher.clone()),
            domains: HashTable::new(),
            urls: HashTable::new(),
            paths: HashTable::new(),
            hashes: HashTable::new(),
            emails: HashTable::new(),
            hasher,
        }
    }

    fn key_of(&self, id: u32) -> &[u8] {
        let r = &self.records[id as usize];
        let start = r.value_off as usize + usize::from(r.key_off);
        &self.text.as_bytes()[start..r.value_off as usize + r.value_len as usize]
    }

    fn value_of(&self, id: u32) -> &str {
        let r = &self.records[id as usize];
        &self.text[r.value_off as usize..r.value_off as usize + r.value_len as usize]
    }

    /// The scheme of a URL record, `None` for a URL without one.
    fn scheme_of(&self, id: u32) -> Option<&[u8]> {
        let r = &self.records[id as usize];
        (r.key_off > 0).then(|| {
            let start = r.value_off as usize;
            &self.text.as_bytes()[start..start + usize::from(r.key_off) - 3]
        })
    }

    fn table(&self, which: Keyed) -> &HashTable<u32> {
        match which {
            Keyed::Domains => &self.domains,
            Keyed::Urls => &self.urls,
            Keyed::Paths => &self.paths,
            Keyed::Hashes => &self.hashes,
            Keyed::Emails => &self.emails,
        }
    }

    /// Appends a record for `value` and links it into its table.
    fn insert(&mut self, value: &IndicatorValue, mut record: Record) -> Result<u32, IndexError> {
        let id = u32::try_from(self.records.len()).map_err(|_| IndexError::TooLarge)?;
        if id == NONE {
            return Err(IndexError::TooLarge);
        }
        let off = self.text.len();
        write!(self.text, "{value}").expect("writing to a String cannot fail");
        record.value_off = u32::try_from(off).map_err(|_| IndexError::TooLarge)?;
        record.value_len =
            u32::try_from(self.text.len() - off).map_err(|_| IndexError::TooLarge)?;
        if let IndicatorValue::Url(url) = value {
            record.key_off = url.find("://").map_or(0, |i| (i + 3) as u8);
        }
        if let IndicatorValue::Domain { name, scope } = value {
            record.exact_domain = *scope == DomainScope::Exact;
            if !record.exact_domain {
                self.parent_labels |= label_bit(name.as_bytes());
            }
        }
        self.records.push(record);

        let records = &mut self.records;
        match value {
            IndicatorValue::Ip(IpAddr::V4(ip)) => {
                mark_filter(
                    &mut self.net4_filter,
                    NET4_FILTER_BITS,
                    ip.to_bits() >> (32 - NET4_FILTER_BITS),
                    32,
                );
                link(records, self.v4.entry(ip.to_bits()).or_insert(NONE), id);
            }
            IndicatorValue::Ip(IpAddr::V6(ip)) => {
                link(records, self.v6.entry(ip.to_bits()).or_insert(NONE), id)
            }
            IndicatorValue::IpPort(IpAddr::V4(ip), port) => link(
                records,
                self.ipport4
                    .entry(u64::from(ip.to_bits()) << 16 | u64::from(*port))
                    .or_insert(NONE),
                id,
            ),
            IndicatorValue::IpPort(IpAddr::V6(ip), port) => {
                link(
                    records,
                    self.ipport6.entry((ip.to_bits(), *port)).or_insert(NONE),
                    id,
                );
            }
            IndicatorValue::Cidr(IpNet::V4(net)) => {
                let top = net.network().to_bits() >> (32 - NET4_FILTER_BITS);
                mark_filter(
                    &mut self.net4_filter,
                    NET4_FILTER_BITS,
                    top,
                    net.prefix_len(),
                );
                link(records, self.net4.entry(*net).or_insert(NONE), id);
            }
            IndicatorValue::Cidr(IpNet::V6(net)) => {
                mark_filter(
                    &mut self.net6_filter,
                    16,
                    (net.network().to_bits() >> 112) as u32,
                    net.prefix_len(),
                );
                link(records, self.net6.entry(*net).or_insert(NONE), id);
            }
            IndicatorValue::Domain { .. } => self.link_keyed(Keyed::Domains, id),
            IndicatorValue::Url(_) => self.link_keyed(Keyed::Urls, id),
            IndicatorValue::UrlPath(_) => self.link_keyed(Keyed::Paths, id),
            IndicatorValue::Hash(_) => self.link_keyed(Keyed::Hashes, id),
            IndicatorValue::Email(_) => self.link_keyed(Keyed::Emails, id),
        }
        Ok(id)
    }

    /// Links record `id` into the chain of its key, starting a chain if the key is new.
    fn link_keyed(&mut self, which: Keyed, id: u32) {
        let Self {
            records,
            text,
            hasher,
            domains,
            urls,
            paths,
            hashes,
            emails,
            key_filter,
            ..
        } = self;
        let table = match which {
            Keyed::Domains => domains,
            Keyed::Urls => urls,
            Keyed::Paths => paths,
            Keyed::Hashes => hashes,
            Keyed::Emails => emails,
        };
        let key_of = |h: u32| -> &[u8] {
            let r = &records[h as usize];
            let start = r.value_off as usize + usize::from(r.key_off);
            &text.as_bytes()[start..r.value_off as usize + r.value_len as usize]
        };
        let key = key_of(id);
        let hash = hasher.hash_one(key);
        if key_filter.is_empty() {
            key_filter.resize(1 << (KEY_FILTER_BITS - 6), 0);
        }
        let bit = key_filter_bit(hash);
        key_filter[(bit >> 6) as usize] |= 1 << (bit & 63);
        match table.find_entry(hash, |&h| key_of(h) == key) {
            Ok(entry) => {
                let slot = entry.into_mut();
                let old = std::mem::replace(slot, id);
                records[id as usize].next = old;
            }
            Err(_) => {
                table.insert_unique(hash, id, |&h| hasher.hash_one(key_of(h)));
            }
        }
    }

    fn chain(&self, mut head: u32, out: &mut Vec<u32>) {
        while head != NONE {
            out.push(head);
            head = self.records[head as usize].next;
        }
    }

    fn find_keyed(&self, which: Keyed, key: &[u8]) -> u32 {
        let table = self.table(which);
        if table.is_empty() {
            return NONE;
        }
        let hash = self.hasher.hash_one(key);
        if !filter_has(&self.key_filter, key_filter_bit(hash)) {
            return NONE;
        }
        table
            .find(hash, |&h| self.key_of(h) == key)
            .copied()
            .unwrap_or(NONE)
    }

    fn lookup_ip(&self, ip: IpAddr, out: &mut Vec<u32>) {
        match canonical_ip(ip) {
            IpAddr::V4(ip) => self.lookup_v4(ip, out),
            IpAddr::V6(ip) => self.lookup_v6(ip, out),
        }
    }

    fn lookup_v4(&self, ip: Ipv4Addr, out: &mut Vec<u32>) {
        let bits = ip.to_bits();
        if !filter_has(&self.net4_filter, bits >> (32 - NET4_FILTER_BITS)) {
            return;
        }
        if let Some(&head) = self.v4.get(&bits) {
            self.chain(head, out);
        }
        if !self.net4.is_empty() {
            for (_, &head) in self.net4.cover(&Ipv4Net::from(ip)) {
                self.chain(head, out);
            }
        }
    }

    fn lookup_v6(&self, ip: Ipv6Addr, out: &mut Vec<u32>) {
        let bits = ip.to_bits();
        if let Some(&head) = self.v6.get(&bits) {
            self.chain(head, out);
        }
        if filter_has(&self.net6_filter, (bits >> 112) as u32) {
            for (_, &head) in self.net6.cover(&Ipv6Net::from(ip)) {
                self.chain(head, out);
            }
        }
    }

    fn lookup_ip_port(&self, ip: IpAddr, port: u16, out: &mut Vec<u32>) {
        let head = match canonical_ip(ip) {
            IpAddr::V4(ip) => self
                .ipport4
                .get(&(u64::from(ip.to_bits()) << 16 | u64::from(port))),
            IpAddr::V6(ip) => self.ipport6.get(&(ip.to_bits(), port)),
        };
        if let Some(&head) = head {
            self.chain(head, out);
        }
    }

    /// `name` must already be in lookup form (see [`domain_key`]).
    fn lookup_domain(&self, name: &[u8], out: &mut Vec<u32>) {
        if self.domains.is_empty() {
            return;
        }
        self.chain(self.find_keyed(Keyed::Domains, name), out);
        let mut rest = name;
        while let Some(dot) = memchr::memchr(b'.', rest) {
            rest = &rest[dot + 1..];
            if self.parent_labels & label_bit(rest) == 0 {
                continue;
            }
            let mut head = self.find_keyed(Keyed::Domains, rest);
            while head != NONE {
                let r = &self.records[head as usize];
                if !r.exact_domain {
                    out.push(head);
                }
                head = r.next;
            }
        }
    }

    /// `url` is a normalised URL as laid out by `layout`.
    fn lookup_url(&self, url: &[u8], layout: UrlLayout, out: &mut Vec<u32>) {
        let scheme = (layout.key_start > 0).then(|| &url[..layout.key_start - 3]);
        let mut push_matching = |head: u32| {
            let mut head = head;
            while head != NONE {
                let compatible = match (scheme, self.scheme_of(head)) {
                    (Some(seen), Some(listed)) => seen == listed,
                    _ => true,
                };
                if compatible {
                    out.push(head);
                }
                head = self.records[head as usize].next;
            }
        };
        if !self.urls.is_empty() {
            push_matching(self.find_keyed(Keyed::Urls, &url[layout.key_start..]));
            // An indicator without a query matches the same URL with any query.
            if let Some(q) = layout.query_start {
                push_matching(self.find_keyed(Keyed::Urls, &url[layout.key_start..q]));
            }
        }
        if !self.paths.is_empty() {
            self.chain(
                self.find_keyed(Keyed::Paths, &url[layout.path_start..]),
                out,
            );
            if let Some(q) = layout.query_start {
                self.chain(
                    self.find_keyed(Keyed::Paths, &url[layout.path_start..q]),
                    out,
                );
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes held by the store's own allocations (an estimate for the tables).
    fn memory_bytes(&self) -> usize {
        self.records.capacity() * size_of::<Record>()
            + self.text.capacity()
            + self.v4.allocation_size()
            + self.v6.allocation_size()
            + self.ipport4.allocation_size()
            + self.ipport6.allocation_size()
            + self.net4.mem_size()
            + self.net6.mem_size()
            + (self.net4_filter.len() + self.net6_filter.len() + self.key_filter.len()) * 8
            + [
                &self.domains,
                &self.urls,
                &self.paths,
                &self.hashes,
                &self.emails,
            ]
            .iter()
            .map(|t| t.allocation_size())
            .sum::<usize>()
    }
}

/// Marks in a filter over the top `bits` bits of addresses every value that a block of `len`
/// bits, whose top `bits` bits are `top`, overlaps. The filter is allocated on first use.
fn mark_filter(filter: &mut Vec<u64>, bits: u32, top: u32, len: u8) {
    if filter.is_empty() {
        filter.resize(1 << (bits - 6), 0);
    }
    let len = u32::from(len);
    let span: u32 = if len >= bits { 1 } else { 1 << (bits - len) };
    let first = top & !(span - 1);
    if span >= 64 {
        // A wide block (an allow-listed /8 spans 16,384 bits) fills whole words.
        filter[(first >> 6) as usize..((first + span) >> 6) as usize].fill(u64::MAX);
        return;
    }
    for n in first..first + span {
        filter[(n >> 6) as usize] |= 1 << (n & 63);
    }
}

fn filter_has(filter: &[u64], top: u32) -> bool {
    filter
        .get((top >> 6) as usize)
        .is_some_and(|word| word & (1 << (top & 63)) != 0)
}

/// Top bits of an IPv4 address that index `Store::net4_filter` (2^22 bits, 512 KiB).
const NET4_FILTER_BITS: u32 = 22;

/// Bits of a key's hash that index `Store::key_filter` (2^22 bits, 512 KiB).
const KEY_FILTER_BITS: u32 = 22;

fn key_filter_bit(hash: u64) -> u32 {
    (hash >> (64 - KEY_FILTER_BITS)) as u32
}

/// The bit of `parent_labels` for a name with this many labels.
fn label_bit(name: &[u8]) -> u64 {
    let labels = memchr::memchr_iter(b'.', name).count() + 1;
    1 << labels.min(63)
}

/// Interned strings (labels, case references, TLPs): stored once however many indicators
/// share them.
#[derive(Debug, Default)]
struct StrPool {
    text: String,
    spans: Vec<(u32, u32)>,
    table: HashTable<u32>,
    hasher: RandomState,
}

impl StrPool {
    fn get(&self, id: u32) -> &str {
        let (off, len) = self.spans[id as usize];
        &self.text[off as usize..(off + len) as usize]
    }

    fn intern(&mut self, s: &str) -> Result<u32, IndexError> {
        let hash = self.hasher.hash_one(s.as_bytes());
        let Self {
            text,
            spans,
            table,
            hasher,
        } = self;
        let get = |id: u32| -> &[u8] {
            let (off, len) = spans[id as usize];
            &text.as_bytes()[off as usize..(off + len) as usize]
        };
        if let Some(&id) = table.find(hash, |&id| get(id) == s.as_bytes()) {
            return Ok(id);
        }
        let off = u32::try_from(text.len()).map_err(|_| IndexError::TooLarge)?;
        let len = u32::try_from(s.len()).map_err(|_| IndexError::TooLarge)?;
        off.checked_add(len).ok_or(IndexError::TooLarge)?;
        text.push_str(s);
        let id = u32::try_from(spans.len()).map_err(|_| IndexError::TooLarge)?;
        spans.push((off, len));
        let get = |id: u32| -> &[u8] {
            let (off, len) = spans[id as usize];
            &text.as_bytes()[off as usize..(off + len) as usize]
        };
        table.insert_unique(hash, id, |&id| hasher.hash_one(get(id)));
        Ok(id)
    }

    fn memory_bytes(&self) -> usize {
        self.text.capacity() + self.spans.capacity() * 8 + self.table.allocation_size()
    }
}

/// Collects indicators and allow-list entries, then freezes them into an [`Index`].
#[derive(Debug)]
pub struct IndexBuilder {
    now: EventTime,
    indicators: Store,
    allow: Store,
    pool: StrPool,
    expired: usize,
}

/// What [`IndexBuilder::add`] did with an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Indexed under this id.
    Indexed(IndicatorId),
    /// Left out: its `valid_until` is not after the builder's `now`.
    Expired,
}

impl IndexBuilder {
    /// A builder for matching at time `now`: indicators valid until `now` or earlier are left out.
    pub fn new(now: EventTime) -> Self {
        Self {
            now,
            indicators: Store::new(),
            allow: Store::new(),
            pool: StrPool::default(),
            expired: 0,
        }
    }

    /// Adds an indicator. Values built by hand are normalised first (values from
    /// [`IndicatorValue::parse`] already are). Addresses and blocks that point at no one's
    /// host (`0.0.0.0/0`, `127.0.0.1`, …) are refused: see
    /// [`IndicatorError::NotAHost`](crate::IndicatorError::NotAHost).
    pub fn add(
        &mut self,
        value: IndicatorValue,
        meta: &IndicatorMeta,
    ) -> Result<Added, IndexError> {
        if meta.valid_until.is_some_and(|until| until <= self.now) {
            self.expired += 1;
            return Ok(Added::Expired);
        }
        let value = value.canonicalize()?;
        value.check_points_at_a_host()?;
        let record = Record {
            value_off: 0,
            value_len: 0,
            label: self.pool.intern(&meta.label)?,
            case_ref: match &meta.case_ref {
                Some(case) => self.pool.intern(case)?,
                None => NONE,
            },
            tlp: self.pool.intern(&meta.tlp)?,
            next: NONE,
            valid_until: meta.valid_until.map_or(i64::MAX, EventTime::unix_micros),
            kind: value.kind(),
            exact_domain: false,
            partial: meta.partial,
            key_off: 0,
        };
        let id = self.indicators.insert(&value, record)?;
        Ok(Added::Indexed(IndicatorId(id)))
    }

    /// Adds an allow-list entry: observed values it matches (by the same rules as an indicator
    /// of its kind) produce no hit. `label` names the list, e.g. `maltrail:mass_scanner`.
    pub fn allow(&mut self, value: IndicatorValue, label: &str) -> Result<(), IndexError> {
        let value = value.canonicalize()?;
        let record = Record {
            value_off: 0,
            value_len: 0,
            label: self.pool.intern(label)?,
            case_ref: NONE,
            tlp: NONE,
            next: NONE,
            valid_until: i64::MAX,
            kind: value.kind(),
            exact_domain: false,
            partial: false,
            key_off: 0,
        };
        self.allow.insert(&value, record)?;
        Ok(())
    }

    /// Freezes the index.
    pub fn build(mut self) -> Index {
        self.indicators.records.shrink_to_fit();
        self.indicators.text.shrink_to_fit();
        self.allow.records.shrink_to_fit();
        self.allow.text.shrink_to_fit();
        Index {
            indicators: self.indicators,
            allow: self.allow,
            pool: self.pool,
            expired: self.expired,
        }
    }
}

/// Indicators and the allow-list, ready for lookups from many threads at once.
#[derive(Debug)]
pub struct Index {
    indicators: Store,
    allow: Store,
    pool: StrPool,
    expired: usize,
}

/// One indicator as a hit or a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorView<'a> {
    /// Its id in the index.
    pub id: IndicatorId,
    /// Its kind.
    pub kind: IndicatorKind,
    /// Its value in normal form.
    pub value: &'a str,
    /// For a domain, whether it covers subdomains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<DomainScope>,
    /// Its id or source label.
    pub label: &'a str,
    /// The case or request it came with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_ref: Option<&'a str>,
    /// Its TLP as shared.
    pub tlp: &'a str,
    /// When it stops being valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<EventTime>,
    /// Whether a hit on it is only a candidate (see [`IndicatorMeta::partial`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// Counts describing an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Indicators indexed.
    pub indicators: usize,
    /// Indicators left out because they had expired.
    pub expired: usize,
    /// Allow-list entries.
    pub allow_entries: usize,
    /// Indexed indicators per kind, in kind order.
    pub by_kind: Vec<(IndicatorKind, usize)>,
    /// Bytes held by the index's own allocations.
    pub memory_bytes: usize,
}

impl Index {
    /// How many indicators are indexed.
    pub fn len(&self) -> usize {
        self.indicators.records.len()
    }

    /// Whether no indicator is indexed.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// One indicator. Panics on an id from another index.
    pub fn indicator(&self, id: IndicatorId) -> IndicatorView<'_> {
        let r = &self.indicators.records[id.index()];
        IndicatorView {
            id,
            kind: r.kind,
            value: self.indicators.value_of(id.0),
            scope: (r.kind == IndicatorKind::Domain).then_some(if r.exact_domain {
                DomainScope::Exact
            } else {
                DomainScope::WithSubdomains
            }),
            label: self.pool.get(r.label),
            case_ref: (r.case_ref != NONE).then(|| self.pool.get(r.case_ref)),
            tlp: self.pool.get(r.tlp),
            valid_until: (r.valid_until != i64::MAX)
                .then(|| EventTime::from_unix_micros(r.valid_until))
                .flatten(),
            partial: r.partial,
        }
    }

    /// Whether a hit on this indicator is only a candidate (see [`IndicatorMeta::partial`]).
    /// Panics on an id from another index.
    pub fn is_partial(&self, id: IndicatorId) -> bool {
        self.indicators.records[id.index()].partial
    }

    /// Every indicator id, in order.
    pub fn ids(&self) -> impl Iterator<Item = IndicatorId> + '_ {
        (0..self.indicators.records.len() as u32).map(IndicatorId)
    }

    /// Counts and memory.
    pub fn stats(&self) -> IndexStats {
        let mut by_kind = std::collections::BTreeMap::new();
        for r in &self.indicators.records {
            *by_kind.entry(r.kind).or_insert(0) += 1;
        }
        IndexStats {
            indicators: self.len(),
            expired: self.expired,
            allow_entries: self.allow.records.len(),
            by_kind: by_kind.into_iter().collect(),
            memory_bytes: self.indicators.memory_bytes()
                + self.allow.memory_bytes()
                + self.pool.memory_bytes(),
        }
    }

    /// A matcher with its own scratch buffers; make one per thread.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            index: self,
            buf: Vec::new(),
            scratch: Vec::new(),
            found: Vec::new(),
            allowed: Vec::new(),
            ids: Vec::new(),
            value: String::new(),
        }
    }
}

/// A value read from a log, to look up. Text is taken as found; the matcher normalises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observable<'a> {
    /// An address.
    Ip(IpAddr),
    /// An address with the port it was reached on.
    IpPort(IpAddr, u16),
    /// A domain name.
    Domain(&'a [u8]),
    /// A URL in parts: Zeek's `http.log` gives the host and the URI separately.
    Url {
        /// The scheme, if known.
        scheme: Option<&'a [u8]>,
        /// `[userinfo@]host[:port]`.
        authority: &'a [u8],
        /// Path, query and fragment (empty, or starting with `/` or `?`).
        rest: &'a [u8],
    },
    /// A file hash (any case).
    Hash(&'a [u8]),
    /// An e-mail address.
    Email(&'a [u8]),
}

impl<'a> Observable<'a> {
    /// A URL observable from its full text (`http://host/path`, or `host/path`).
    pub fn url(text: &'a [u8]) -> Self {
        let UrlParts {
            scheme,
            authority,
            rest,
        } = split_url(text);
        Self::Url {
            scheme,
            authority,
            rest,
        }
    }
}

/// The outcome of one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'m> {
    /// No indicator matches (or the value can't be normalised).
    Miss,
    /// Indicators match, but the allow-list matches the value too.
    Suppressed,
    /// These indicators (sorted, no repeats) match the value, shown in normal form.
    Hit {
        /// The indicators.
        indicators: &'m [IndicatorId],
        /// The observed value in normal form.
        value: &'m str,
    },
}

/// Looks values up in an index; owns reusable buffers, so one per thread.
#[derive(Debug)]
pub struct Matcher<'i> {
    index: &'i Index,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    found: Vec<u32>,
    allowed: Vec<u32>,
    ids: Vec<IndicatorId>,
    value: String,
}

impl<'i> Matcher<'i> {
    /// The index this matcher reads.
    pub fn index(&self) -> &'i Index {
        self.index
    }

    /// Looks one observed value up.
    pub fn lookup(&mut self, observable: &Observable<'_>) -> Lookup<'_> {
        let Some(prepared) = prepare(observable, &mut self.buf, &mut self.scratch) else {
            return Lookup::Miss;
        };
        self.found.clear();
        find(
            &self.index.indicators,
            prepared,
            &self.buf,
            &mut self.found,
            false,
        );
        if self.found.is_empty() {
            return Lookup::Miss;
        }
        if !self.index.allow.is_empty() {
            self.allowed.clear();
            find(
                &self.index.allow,
                prepared,
                &self.buf,
                &mut self.allowed,
                true,
            );
            if !self.allowed.is_empty() {
                return Lookup::Suppressed;
            }
        }
        self.found.sort_unstable();
        self.found.dedup();
        self.ids.clear();
        self.ids
            .extend(self.found.iter().map(|&id| IndicatorId(id)));
        self.value.clear();
        match prepared {
            Prepared::Ip(ip) => {
                write!(self.value, "{ip}").expect("writing to a String cannot fail")
            }
            Prepared::IpPort(IpAddr::V4(ip), port) => {
                write!(self.value, "{ip}:{port}").expect("writing to a String cannot fail");
            }
            Prepared::IpPort(IpAddr::V6(ip), port) => {
                write!(self.value, "[{ip}]:{port}").expect("writing to a String cannot fail");
            }
            _ => self.value.push_str(&String::from_utf8_lossy(&self.buf)),
        }
        Lookup::Hit {
            indicators: &self.ids,
            value: &self.value,
        }
    }
}

/// An observable in normal form; text kinds keep theirs in the matcher's buffer.
#[derive(Debug, Clone, Copy)]
enum Prepared {
    Ip(IpAddr),
    IpPort(IpAddr, u16),
    Domain,
    Url(UrlLayout),
    Hash,
    Email,
}

/// Normalises `observable`, writing text kinds into `buf`; `None` if it has no normal form.
fn prepare(
    observable: &Observable<'_>,
    buf: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Option<Prepared> {
    Some(match *observable {
        Observable::Ip(ip) => Prepared::Ip(canonical_ip(ip)),
        Observable::IpPort(ip, port) => Prepared::IpPort(canonical_ip(ip), port),
        Observable::Domain(raw) => {
            if !domain_key(raw, buf) {
                return None;
            }
            Prepared::Domain
        }
        Observable::Url {
            scheme,
            authority,
            rest,
        } => {
            let parts = UrlParts {
                scheme,
                authority,
                rest,
            };
            Prepared::Url(normalize_url_into(parts, buf, scratch).ok()?)
        }
        Observable::Hash(raw) => {
            if !hash_key(raw, buf) {
                return None;
            }
            Prepared::Hash
        }
        Observable::Email(raw) => {
            if !email_key(raw, buf) {
                return None;
            }
            Prepared::Email
        }
    })
}

/// Appends to `out` the records of `store` that match the prepared value in `buf`.
fn find(store: &Store, prepared: Prepared, buf: &[u8], out: &mut Vec<u32>, allow: bool) {
    match prepared {
        Prepared::Ip(ip) => store.lookup_ip(ip, out),
        Prepared::IpPort(ip, port) => {
            store.lookup_ip_port(ip, port, out);
            // An allow-listed address is allowed on every port.
            if allow {
                store.lookup_ip(ip, out);
            }
        }
        Prepared::Domain => store.lookup_domain(buf, out),
        Prepared::Url(layout) => store.lookup_url(buf, layout, out),
        Prepared::Hash => store.chain(store.find_keyed(Keyed::Hashes, buf), out),
        Prepared::Email => store.chain(store.find_keyed(Keyed::Emails, buf), out),
    }
}

/// Puts record `id` at the front of the chain whose head is `slot`.
fn link(records: &mut [Record], slot: &mut u32, id: u32) {
    records[id as usize].next = std::mem::replace(slot, id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> EventTime {
        EventTime::from_unix_seconds(1_700_000_000).expect("valid")
    }

    fn index(indicators: &[&str], allow: &[&str]) -> Index {
        let mut b = IndexBuilder::new(now());
        for (i, text) in indicators.iter().enumerate() {
            let meta = IndicatorMeta::new(format!("ind{i}"), "TLP:AMBER");
            b.add(IndicatorValue::parse(text).expect("valid indicator"), &meta)
                .expect("fits");
        }
        for text in allow {
            b.allow(IndicatorValue::parse(text).expect("valid entry"), "allow")
                .expect("fits");
        }
        b.build()
    }

    /// The labels of the indicators `obs` hits, or "suppressed".
    fn hits(index: &Index, obs: Observable<'_>) -> Vec<String> {
        let mut m = index.matcher();
        match m.lookup(&obs) {
            Lookup::Miss => vec![],
            Lookup::Suppressed => vec!["suppressed".into()],
            Lookup::Hit { indicators, .. } => indicators
                .iter()
                .map(|&id| index.indicator(id).label.to_owned())
                .collect(),
        }
    }

    fn ip(text: &str) -> Observable<'static> {
        Observable::Ip(text.parse().expect("ip"))
    }

    /// Regression (issue 20.17): `0.0.0.0/0` and `::/0` were indexed silently and hit every
    /// address (4M hits on 2M lines); placeholders like `0.0.0.0` and `127.0.0.1` point at
    /// no partner's host either. They are refused as indicators, and still allowed in the
    /// allow-list, where they suppress local noise.
    #[test]
    fn indicators_that_cover_everything_or_no_host_are_refused() {
        // Arrange
        let mut b = IndexBuilder::new(now());
        let meta = IndicatorMeta::new("list", "TLP:AMBER");

        // Act
        let refused: Vec<String> = [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/7",
            "2000::/3",
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "127.0.0.1",
            "127.0.0.0/8",
            "::1",
            "0.0.0.0:443",
        ]
        .iter()
        .filter_map(|text| {
            let value = IndicatorValue::parse(text).expect("valid syntax");
            b.add(value, &meta).err().map(|e| e.to_string())
        })
        .collect();
        let kept = [
            "10.0.0.0/8",
            "2001:db8::/32",
            "192.0.2.1",
            "198.51.100.7:443",
        ]
        .iter()
        .filter(|text| {
            b.add(IndicatorValue::parse(text).expect("valid"), &meta)
                .is_ok()
        })
        .count();
        let allowed = b.allow(
            IndicatorValue::parse("127.0.0.0/8").expect("valid"),
            "local",
        );

        // Assert
        assert_eq!(refused.len(), 11, "{refused:#?}");
        assert!(refused[0].contains("0.0.0.0/0"), "{}", refused[0]);
        assert!(refused[0].contains("1/256"), "{}", refused[0]);
        assert!(refused[7].contains("loopback"), "{}", refused[7]);
        assert_eq!(kept, 4);
        assert!(allowed.is_ok());
    }

    #[test]
    fn wide_blocks_cover_their_edges_and_nothing_beyond() {
        // A /8 and a /10 fill whole words of the address filter; the addresses at and just
        // past their edges tell whether the words were the right ones.
        let idx = index(&["10.0.0.0/8", "100.64.0.0/10"], &["0.0.0.0/0"]);
        let open = index(&["10.0.0.0/8", "100.64.0.0/10"], &[]);
        for (addr, expected) in [
            ("10.0.0.0", vec!["ind0"]),
            ("10.255.255.255", vec!["ind0"]),
            ("9.255.255.255", vec![]),
            ("11.0.0.0", vec![]),
            ("100.64.0.1", vec!["ind1"]),
            ("100.127.255.255", vec!["ind1"]),
            ("100.128.0.0", vec![]),
        ] {
            assert_eq!(hits(&open, ip(addr)), expected, "{addr}");
            let suppressed: Vec<String> = if expected.is_empty() {
                vec![]
            } else {
                vec!["suppressed".into()]
            };
            assert_eq!(hits(&idx, ip(addr)), suppressed, "{addr} allow-listed");
        }
    }

    #[test]
    fn a_domain_matches_its_subdomains_only_at_label_boundaries() {
        let idx = index(&["evil.example"], &[]);
        assert_eq!(hits(&idx, Observable::Domain(b"evil.example")), ["ind0"]);
        assert_eq!(
            hits(&idx, Observable::Domain(b"A.B.EVIL.example.")),
            ["ind0"]
        );
        assert!(hits(&idx, Observable::Domain(b"notevil.example")).is_empty());
        assert!(hits(&idx, Observable::Domain(b"evil.example.com")).is_empty());
        assert!(hits(&idx, Observable::Domain(b"example")).is_empty());
    }

    #[test]
    fn an_exact_domain_does_not_cover_subdomains() {
        let mut b = IndexBuilder::new(now());
        let v = IndicatorValue::domain("evil.example", DomainScope::Exact).expect("valid");
        b.add(v, &IndicatorMeta::new("exact", "TLP:CLEAR"))
            .expect("fits");
        let idx = b.build();
        assert_eq!(hits(&idx, Observable::Domain(b"evil.example")), ["exact"]);
        assert!(hits(&idx, Observable::Domain(b"a.evil.example")).is_empty());
    }

    #[test]
    fn an_address_matches_every_block_around_it_and_not_the_next_block() {
        let idx = index(
            &[
                "10.0.0.0/8",
                "10.1.0.0/16",
                "10.1.2.3",
                "10.2.0.0/16",
                "2001:db8::/32",
            ],
            &[],
        );
        assert_eq!(hits(&idx, ip("10.1.2.3")), ["ind0", "ind1", "ind2"]);
        assert_eq!(hits(&idx, ip("10.1.2.4")), ["ind0", "ind1"]);
        assert!(hits(&idx, ip("11.0.0.0")).is_empty());
        assert!(hits(&idx, ip("9.255.255.255")).is_empty());
        assert_eq!(hits(&idx, ip("::ffff:10.3.0.1")), ["ind0"]);
        assert_eq!(hits(&idx, ip("2001:db8:ffff::1")), ["ind4"]);
        assert!(hits(&idx, ip("2001:db9::1")).is_empty());
    }

    #[test]
    fn ip_port_indicators_need_the_port() {
        let idx = index(&["192.0.2.1:8080"], &[]);
        assert_eq!(
            hits(
                &idx,
                Observable::IpPort("192.0.2.1".parse().expect("ip"), 8080)
            ),
            ["ind0"]
        );
        assert!(
            hits(
                &idx,
                Observable::IpPort("192.0.2.1".parse().expect("ip"), 80)
            )
            .is_empty()
        );
        assert!(hits(&idx, ip("192.0.2.1")).is_empty());
    }

    #[test]
    fn urls_match_after_normalisation_and_queryless_indicators_match_any_query() {
        let idx = index(
            &[
                "http://evil.example/gate.php",
                "evil.example/x?id=1",
                "/panel/admin.php",
            ],
            &[],
        );
        let url = |t: &'static str| Observable::url(t.as_bytes());
        assert_eq!(
            hits(&idx, url("HTTP://EVIL.example:80/%67ate.php?a=b#frag")),
            ["ind0"]
        );
        assert!(hits(&idx, url("https://evil.example/gate.php")).is_empty());
        assert!(hits(&idx, url("http://evil.example/Gate.php")).is_empty());
        assert_eq!(hits(&idx, url("https://evil.example/x?id=1")), ["ind1"]);
        assert!(hits(&idx, url("https://evil.example/x?id=12")).is_empty());
        assert_eq!(
            hits(&idx, url("http://any.example/panel/admin.php?x")),
            ["ind2"]
        );
        assert!(hits(&idx, url("http://any.example/panel/admin.php5")).is_empty());
    }

    #[test]
    fn hashes_and_emails_match_case_insensitively_where_they_should() {
        let idx = index(
            &["3a73e7d7cc21bd63fd8ea862352fa46a", "Bob@Phish.example"],
            &[],
        );
        assert_eq!(
            hits(&idx, Observable::Hash(b"3A73E7D7CC21BD63FD8EA862352FA46A")),
            ["ind0"]
        );
        assert_eq!(
            hits(&idx, Observable::Email(b"<Bob@PHISH.EXAMPLE>")),
            ["ind1"]
        );
        assert!(hits(&idx, Observable::Email(b"bob@phish.example")).is_empty());
    }

    #[test]
    fn the_allow_list_suppresses_matching_values_on_any_port() {
        let idx = index(
            &["198.51.100.0/24", "198.51.100.7:22", "scan.example"],
            &["198.51.100.7", "ok.scan.example"],
        );
        assert_eq!(hits(&idx, ip("198.51.100.7")), ["suppressed"]);
        assert_eq!(
            hits(
                &idx,
                Observable::IpPort("198.51.100.7".parse().expect("ip"), 22)
            ),
            ["suppressed"]
        );
        assert_eq!(hits(&idx, ip("198.51.100.8")), ["ind0"]);
        assert_eq!(
            hits(&idx, Observable::Domain(b"a.ok.scan.example")),
            ["suppressed"]
        );
        assert_eq!(
            hits(&idx, Observable::Domain(b"bad.scan.example")),
            ["ind2"]
        );
    }

    #[test]
    fn expired_indicators_take_no_id_and_never_match() {
        let mut b = IndexBuilder::new(now());
        let old = IndicatorMeta {
            valid_until: Some(now()),
            ..IndicatorMeta::new("old", "TLP:RED")
        };
        let fresh = IndicatorMeta {
            valid_until: EventTime::from_unix_seconds(1_800_000_000),
            ..IndicatorMeta::new("fresh", "TLP:RED")
        };
        let v = || IndicatorValue::parse("192.0.2.1").expect("valid");
        assert_eq!(b.add(v(), &old), Ok(Added::Expired));
        assert!(matches!(b.add(v(), &fresh), Ok(Added::Indexed(_))));
        let idx = b.build();
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.stats().expired, 1);
        assert_eq!(hits(&idx, ip("192.0.2.1")), ["fresh"]);
    }

    #[test]
    fn several_indicators_with_one_value_all_hit_and_keep_their_meta() {
        let mut b = IndexBuilder::new(now());
        let v = || IndicatorValue::parse("evil.example").expect("valid");
        b.add(
            v(),
            &IndicatorMeta {
                case_ref: Some("case-1".into()),
                ..IndicatorMeta::new("a", "TLP:GREEN")
            },
        )
        .expect("fits");
        b.add(v(), &IndicatorMeta::new("b", "TLP:RED"))
            .expect("fits");
        let idx = b.build();
        assert_eq!(
            hits(&idx, Observable::Domain(b"x.evil.example")),
            ["a", "b"]
        );
        let first = idx.indicator(idx.ids().next().expect("two"));
        assert_eq!((first.case_ref, first.tlp), (Some("case-1"), "TLP:GREEN"));
    }
}
