//! Run-time checks of the node's own log against its signed checkpoints and stored tree.
//!
//! SQL triggers stop detente itself from changing or deleting log rows, but not someone with
//! write access to the database file. The node cannot prevent that; it can notice it, because
//! every committed write is covered by a checkpoint it signed in the same transaction:
//!
//! - [`check_head`], at start-up, costs O(log n): the latest checkpoint is signed by this
//!   node's key, covers exactly the stored tree, and its root is the root of the stored tree;
//!   the last entry hashes to its stored leaf and nothing is stored past it. It catches
//!   changes at the end of the log and to the tree's upper nodes, not a changed old entry.
//! - [`verify_log`] (`detente log verify`) costs O(n): it recomputes the whole tree from the
//!   entries, compares every entry with its stored leaf, every stored node with the recomputed
//!   one and every signed checkpoint's root with the recomputed root at its size, and names
//!   the first entry (or node, or checkpoint) at fault.
//! - [`each_verified_entry`] costs O(n) and is what official figures rest on: it streams the
//!   entries covered by the latest signed checkpoint, compares each with its stored leaf and
//!   checks that they recompute the checkpoint's root, so the review is derived from bytes the
//!   node signed for, never from a projection nobody re-checks.

use std::{collections::BTreeMap, fmt};

use detente_audit::verify_checkpoint;
use detente_domain::Agreement;
use detente_ledger::{Digest, Frontier, NodeId, TreeSize, hash_leaf};
use detente_protocol::PartyId;
use detente_store::{Store, StoreError};

/// Entries read and checked per round trip by [`verify_log`].
const CHUNK: u64 = 10_000;

/// Entries read per round trip by [`each_verified_entry`]: its caller parses each one, and
/// an envelope may carry objects, so fewer at a time keeps the memory of a pass small.
const READ_CHUNK: u64 = 2_000;

/// The first thing found wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProblem {
    /// The entry at fault, when one can be named.
    pub entry: Option<u64>,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for LogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(i) => write!(f, "entry {i} {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// What [`verify_log`] checked, and the first problem it found.
#[derive(Debug, Clone, Default)]
pub struct LogVerification {
    /// Entries compared with their stored leaves.
    pub entries: u64,
    /// Stored tree nodes compared with the recomputed tree (leaves included).
    pub nodes: u64,
    /// Signed checkpoints whose roots were compared with the recomputed tree.
    pub checkpoints: u64,
    /// The first problem; `None` means the log is intact.
    pub problem: Option<LogProblem>,
}

fn problem(entry: Option<u64>, what: impl Into<String>) -> Option<LogProblem> {
    Some(LogProblem {
        entry,
        what: what.into(),
    })
}

/// The start-up check: the latest signed checkpoint against the stored tree and the last
/// entry. `Ok(Some(_))` means the database was changed outside detente.
pub async fn check_head(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
) -> Result<Option<LogProblem>, StoreError> {
    let (size, root) = store.tree_head().await;
    let Some(note) = store.latest_checkpoint().await? else {
        // A log without checkpoints (written before they existed) has nothing signed to
        // compare with.
        return Ok(None);
    };
    let checkpoint = match verify_checkpoint(agreement, party, &note) {
        Ok(c) => c,
        Err(why) => return Ok(problem(None, format!("the latest checkpoint {why}"))),
    };
    if checkpoint.size() != size {
        return Ok(problem(
            Some(checkpoint.size().min(size).get()),
            format!(
                "is where the stored tree ({size} entries) and the latest checkpoint the node \
                 signed ({} entries) part: entries were added or removed outside detente",
                checkpoint.size()
            ),
        ));
    }
    if checkpoint.root() != root {
        return Ok(problem(
            None,
            format!(
                "the stored tree's root at size {size} is not the root the node signed: \
                 the tree was changed outside detente"
            ),
        ));
    }
    let last = store.last_entry_index().await?;
    if last.map_or(0, |l| l + 1) != size.get() {
        return Ok(problem(
            last,
            format!("is the last stored entry, but the tree holds {size} entries"),
        ));
    }
    if let Some(last) = last {
        let bytes = store.entries(last, last + 1).await?;
        let leaf = store.tree_nodes(0, last, last + 1).await?;
        let hashed = bytes.first().map(|(_, _, _, b)| hash_leaf(b));
        if hashed.is_none() || hashed != leaf.first().map(|(_, h)| *h) {
            return Ok(problem(
                Some(last),
                "does not hash to its stored leaf: it was changed outside detente",
            ));
        }
    }
    Ok(None)
}

/// One stored entry: (index, kind, direction, bytes).
pub type StoredEntry = (u64, String, String, Vec<u8>);

/// The entries covered by this node's latest signed checkpoint, read chunk by chunk in log
/// order, in one pass of bounded memory: each entry is compared with its stored leaf as its
/// chunk is read, and after the last chunk the leaves must recompute the root the node
/// signed. What a chunk held may be used only once [`VerifiedEntries::next_chunk`] has
/// returned `Ok(Ok(None))`. Entries appended after the checkpoint was read (by a node
/// writing meanwhile) are left out: nothing signed covers them yet. A caller that must read
/// more per chunk (an await between chunks) drives it itself; [`each_verified_entry`] is the
/// simple form.
pub struct VerifiedEntries<'a> {
    store: &'a Store,
    size: TreeSize,
    root: Digest,
    frontier: Frontier,
    done: bool,
}

impl<'a> VerifiedEntries<'a> {
    /// Reads and checks the latest signed checkpoint of `party`'s log in `store`.
    pub async fn open(
        store: &'a Store,
        agreement: &Agreement,
        party: &PartyId,
    ) -> Result<Result<Self, LogProblem>, StoreError> {
        let damaged = |entry: Option<u64>, what: String| Ok(Err(LogProblem { entry, what }));
        let (size, root) = match store.latest_checkpoint().await? {
            Some(note) => match verify_checkpoint(agreement, party, &note) {
                Ok(c) => (c.size(), c.root()),
                Err(why) => return damaged(None, format!("the latest checkpoint {why}")),
            },
            None if store.last_entry_index().await?.is_some() => {
                return damaged(
                    Some(0),
                    "and every entry after it are covered by no checkpoint the node signed".into(),
                );
            }
            None => (TreeSize::new(0), Frontier::new().root()),
        };
        Ok(Ok(Self {
            store,
            size,
            root,
            frontier: Frontier::new(),
            done: false,
        }))
    }

    /// The size of the signed checkpoint the entries are checked against.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// The next chunk of entries, each already compared with its stored leaf; `None` once
    /// every entry was read and their root is the signed one.
    pub async fn next_chunk(
        &mut self,
    ) -> Result<Result<Option<Vec<StoredEntry>>, LogProblem>, StoreError> {
        let damaged = |entry: Option<u64>, what: String| Ok(Err(LogProblem { entry, what }));
        let start = self.frontier.size().get();
        if self.done {
            return Ok(Ok(None));
        }
        if start >= self.size.get() {
            self.done = true;
            if self.frontier.root() != self.root {
                return damaged(
                    None,
                    format!(
                        "the entries do not have the root the node signed at size {}: entries \
                         before it were changed together with their stored leaves, dropped, \
                         reordered or inserted; `detente log verify` compares the stored tree",
                        self.size
                    ),
                );
            }
            return Ok(Ok(None));
        }
        let stop = (start + READ_CHUNK).min(self.size.get());
        let rows = self.store.entries(start, stop).await?;
        let leaves = self.store.tree_nodes(0, start, stop).await?;
        for (k, index) in (start..stop).enumerate() {
            let size = self.size;
            if let Some(what) = check_entry(index, size, size.get(), rows.get(k), leaves.get(k)) {
                self.done = true;
                return damaged(Some(index), what.into());
            }
        }
        // Every leaf now hashes its entry, so the leaves stand for the entries.
        let hashes: Vec<Digest> = leaves.iter().map(|(_, h)| *h).collect();
        self.frontier
            .append(&hashes)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Ok(Some(rows)))
    }
}

/// Hands every entry covered by this node's latest signed checkpoint to `on_entry` (index,
/// kind, direction, bytes), as [`VerifiedEntries`] reads and checks them. Returns the
/// checkpoint's size, or the first problem found; what `on_entry` was handed may be used
/// only when this returns `Ok(Ok(_))`.
pub async fn each_verified_entry(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
    mut on_entry: impl FnMut(u64, &str, &str, &[u8]),
) -> Result<Result<TreeSize, LogProblem>, StoreError> {
    let mut entries = match VerifiedEntries::open(store, agreement, party).await? {
        Ok(e) => e,
        Err(problem) => return Ok(Err(problem)),
    };
    loop {
        match entries.next_chunk().await? {
            Ok(Some(rows)) => {
                for (index, kind, direction, bytes) in &rows {
                    on_entry(*index, kind, direction, bytes);
                }
            }
            Ok(None) => return Ok(Ok(entries.size())),
            Err(problem) => return Ok(Err(problem)),
        }
    }
}

/// What is wrong with the stored entry at `index`, if anything, given its row and leaf.
fn check_entry(
    index: u64,
    size: TreeSize,
    signed: u64,
    row: Option<&(u64, String, String, Vec<u8>)>,
    leaf: Option<&(NodeId, Digest)>,
) -> Option<&'static str> {
    let Some((.., bytes)) = row.filter(|r| r.0 == index) else {
        return Some("is missing: its row was deleted outside detente");
    };
    match leaf.filter(|(id, _)| id.index() == index) {
        Some((_, hash)) if *hash == hash_leaf(bytes) => None,
        Some(_) => Some(
            "does not hash to its stored leaf: it was changed (or moved from another position) \
             outside detente",
        ),
        // A read-only open leaves rows inserted past the stored tree there.
        None if index >= size.get() && index >= signed => Some(
            "lies past the end of the tree and is covered by no checkpoint the node signed: it \
             was inserted outside detente",
        ),
        None => Some("has no stored leaf: the tree was changed outside detente"),
    }
}

/// Recomputes the whole tree from the stored entries and compares it with the stored tree
/// and every checkpoint the node signed; stops at the first problem.
pub async fn verify_log(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
) -> Result<LogVerification, StoreError> {
    let mut report = LogVerification::default();
    let mut checkpoints: Vec<(TreeSize, Digest)> = Vec::new();
    for (n, note) in store.checkpoint_notes().await?.iter().enumerate() {
        match verify_checkpoint(agreement, party, note) {
            Ok(c) => checkpoints.push((c.size(), c.root())),
            Err(why) => {
                report.problem = problem(None, format!("checkpoint {} {why}", n + 1));
                return Ok(report);
            }
        }
    }
    let (size, _) = store.tree_head().await;
    // Rows stored past the tree are examined too: they were inserted behind detente's back.
    let end = size
        .get()
        .max(store.last_entry_index().await?.map_or(0, |l| l + 1));
    let signed = checkpoints.last().map_or(0, |(s, _)| s.get());
    let mut pending = checkpoints.iter().peekable();
    let mut frontier = Frontier::new();
    let mut start = 0;
    while start < end {
        let stop = (start + CHUNK).min(end);
        let rows = store.entries(start, stop).await?;
        let leaves = store.tree_nodes(0, start, stop).await?;
        for (k, index) in (start..stop).enumerate() {
            // A deleted row or leaf shifts the rest of the chunk; the first mismatch is the
            // entry to name.
            if let Some(what) = check_entry(index, size, signed, rows.get(k), leaves.get(k)) {
                report.problem = problem(Some(index), what);
                return Ok(report);
            }
        }
        report.entries += stop - start;
        report.nodes += stop - start;
        // Grow the recomputed tree up to each checkpoint size in turn, so every signed root
        // is compared at exactly its size.
        let hashes: Vec<Digest> = leaves.iter().map(|(_, h)| *h).collect();
        let mut created: Vec<(NodeId, Digest)> = Vec::new();
        let mut done = start;
        while done < stop {
            let upto = pending
                .peek()
                .map_or(stop, |(s, _)| s.get().clamp(done + 1, stop));
            let range = usize::try_from(done - start).expect("a chunk fits in memory")
                ..usize::try_from(upto - start).expect("a chunk fits in memory");
            let nodes = frontier
                .append(&hashes[range])
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            created.extend(nodes.into_iter().filter(|(id, _)| id.level() > 0));
            done = upto;
            while let Some((s, root)) = pending.next_if(|(s, _)| *s <= frontier.size()) {
                report.checkpoints += 1;
                if *s != frontier.size() || *root != frontier.root() {
                    report.problem = problem(
                        None,
                        format!(
                            "the entries do not have the root the node signed at size {s}: \
                             entries before it were changed, dropped, reordered or inserted"
                        ),
                    );
                    return Ok(report);
                }
            }
        }
        if let Some(p) = compare_nodes(store, &created).await? {
            report.problem = Some(p);
            return Ok(report);
        }
        report.nodes += created.len() as u64;
        start = stop;
    }
    if let Some((s, _)) = pending.next() {
        report.problem = problem(
            Some(end),
            format!(
                "is missing: the node signed a checkpoint at size {s}, but the log holds {end} \
                 entries, so entries were dropped at the end"
            ),
        );
    } else if let Some((s, _)) = checkpoints.last().filter(|(s, _)| s.get() < end) {
        report.problem = problem(
            Some(s.get()),
            format!(
                "and those after it up to {end} are covered by no checkpoint the node signed: \
                 they were inserted outside detente"
            ),
        );
    }
    Ok(report)
}

/// Compares recomputed interior nodes with the stored ones, one query per level.
async fn compare_nodes(
    store: &Store,
    created: &[(NodeId, Digest)],
) -> Result<Option<LogProblem>, StoreError> {
    let mut by_level: BTreeMap<u8, Vec<(NodeId, Digest)>> = BTreeMap::new();
    for &node in created {
        by_level.entry(node.0.level()).or_default().push(node);
    }
    for (level, nodes) in by_level {
        // The nodes one chunk completes at a level are consecutive.
        let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
            continue;
        };
        let stored = store
            .tree_nodes(level, first.0.index(), last.0.index() + 1)
            .await?;
        for (k, node) in nodes.iter().enumerate() {
            if stored.get(k) != Some(node) {
                let id = node.0;
                return Ok(problem(
                    None,
                    format!(
                        "stored tree node {id} does not match entries {}..{}: the tree was \
                         changed outside detente",
                        id.first_leaf(),
                        id.complete_at()
                    ),
                ));
            }
        }
    }
    Ok(None)
}
