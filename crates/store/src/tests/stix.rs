//! STIX storage, run on both backends like the rest of the store's tests: dedupe by id and
//! version, TLP on every read (markings under other ids resolved by their definitions),
//! TAXII paging and `added_after`, collections, status resources and pull bookmarks.
#![allow(clippy::unwrap_used)]

use detente_stix::{AccessRule, Reader, StixObject, Tlp};

use super::TestDb;
use crate::{Collection, ObjectQuery, ReadAs, ShareContext, StixRow, Versions};

const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"MODIFIED","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"MARKING}"#;

fn indicator(n: u32, modified: &str, tlp: Option<&str>) -> StixObject {
    let marking = tlp.map_or(String::new(), |m| {
        format!(r#","object_marking_refs":["{m}"]"#)
    });
    let text = IND
        .replace("8e2e2d2b", &format!("{n:08x}"))
        .replace("MODIFIED", modified)
        .replace("MARKING", &marking);
    StixObject::from_json(&text).unwrap()
}

fn local() -> ShareContext {
    ShareContext {
        origin: "US".into(),
        audience: Some("CN".into()),
        recipients: vec![],
    }
}

fn as_local() -> ReadAs<'static> {
    ReadAs {
        reader: Reader::Local { party: "US" },
        rule: AccessRule::default(),
    }
}

fn collection() -> Collection {
    Collection {
        id: "91a7b528-80eb-42ed-a74d-c6fbd5a26116".into(),
        title: "US-CN indicators".into(),
        description: None,
        audience: Some("CN".into()),
        can_write: true,
    }
}

fn query(limit: usize) -> ObjectQuery {
    ObjectQuery {
        limit,
        ..ObjectQuery::default()
    }
}

on_both_backends! {
    async fn the_same_version_is_stored_once_and_a_new_version_is_added(db: TestDb) {
        let s = db.open().await;
        let v1 = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let v2 = indicator(1, "2017-01-01T00:00:00.000Z", None);
        let c = s
            .insert_stix(&[v1.clone(), v1.clone()], &local(), None, 1)
            .await
            .unwrap();
        assert_eq!((c.inserted, c.duplicates), (1, 1));
        let c = s.insert_stix(&[v1, v2], &local(), None, 2).await.unwrap();
        assert_eq!((c.inserted, c.duplicates), (1, 1));
        assert_eq!(s.stix_object_count().await.unwrap(), 2);
        let last = s.stix_objects(&query(10), &as_local()).await.unwrap();
        assert_eq!(last.objects.len(), 1);
        assert_eq!(
            last.objects[0].modified.as_deref(),
            Some("2017-01-01T00:00:00.000Z")
        );
        let all = ObjectQuery {
            versions: Versions::All,
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&all, &as_local())
                .await
                .unwrap()
                .objects
                .len(),
            2
        );
    }

    async fn date_added_grows_even_when_the_clock_steps_back(db: TestDb) {
        let s = db.open().await;
        s.insert_stix(
            &[indicator(1, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            100,
        )
        .await
        .unwrap();
        s.insert_stix(
            &[indicator(2, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            50,
        )
        .await
        .unwrap();
        let page = s.stix_objects(&query(10), &as_local()).await.unwrap();
        let added: Vec<i64> = page.objects.iter().map(|o| o.date_added).collect();
        assert_eq!(added, [100, 101]);
        let after = ObjectQuery {
            added_after: Some(100),
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&after, &as_local())
                .await
                .unwrap()
                .objects
                .len(),
            1
        );
    }

    async fn added_after_starts_after_the_rows_added_by_then(db: TestDb) {
        let s = db.open().await;
        let c = collection();
        s.put_collection(&c).await.unwrap();
        // Three transactions at 10, 20 and 30; the middle one outside the collection.
        for (now, ns, into) in [
            (10, [1, 2], Some(c.id.as_str())),
            (20, [3, 4], None),
            (30, [5, 6], Some(c.id.as_str())),
        ] {
            let objects: Vec<_> = ns
                .iter()
                .map(|&n| indicator(n, "2016-04-06T20:03:48.000Z", None))
                .collect();
            s.insert_stix(&objects, &local(), into, now).await.unwrap();
        }
        let dates = |collection: Option<&str>, added_after: Option<i64>, after: Option<i64>| {
            let q = ObjectQuery {
                collection: collection.map(str::to_owned),
                added_after,
                after,
                ..query(10)
            };
            let s = &s;
            async move {
                let page = s.stix_objects(&q, &as_local()).await.unwrap();
                page.objects.iter().map(|o| o.date_added).collect::<Vec<_>>()
            }
        };
        assert_eq!(dates(None, None, None).await, [10, 10, 20, 20, 30, 30]);
        assert_eq!(dates(None, Some(5), None).await, [10, 10, 20, 20, 30, 30]);
        assert_eq!(dates(None, Some(10), None).await, [20, 20, 30, 30]);
        assert_eq!(dates(None, Some(25), None).await, [30, 30]);
        assert_eq!(dates(None, Some(30), None).await, Vec::<i64>::new());
        let col = Some(c.id.as_str());
        assert_eq!(dates(col, Some(10), None).await, [30, 30]);
        assert_eq!(dates(col, Some(9), None).await, [10, 10, 30, 30]);
        // A cursor beyond the date's floor still counts; one before it does not widen it.
        let all = s.stix_objects(&query(10), &as_local()).await.unwrap();
        let fifth = all.objects.len() - 2;
        // The cursor after each row but the last, read one row per page.
        let seqs: Vec<i64> = {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let page = s
                    .stix_objects(&ObjectQuery { after, ..query(1) }, &as_local())
                    .await
                    .unwrap();
                match page.next {
                    Some(n) if !page.objects.is_empty() => {
                        out.push(n);
                        after = Some(n);
                    }
                    _ => break,
                }
            }
            out
        };
        assert_eq!(dates(None, Some(10), Some(seqs[fifth])).await, [30]);
        assert_eq!(dates(None, Some(25), Some(seqs[0])).await, [30, 30]);
    }

    async fn pages_follow_the_cursor_to_the_end(db: TestDb) {
        let s = db.open().await;
        let objs: Vec<StixObject> = (0..25)
            .map(|i| indicator(i, "2016-04-06T20:03:48.000Z", None))
            .collect();
        s.insert_stix(&objs, &local(), None, 1).await.unwrap();
        let mut q = query(10);
        let mut seen = 0;
        let mut pages = 0;
        loop {
            let page = s.stix_objects(&q, &as_local()).await.unwrap();
            seen += page.objects.len();
            pages += 1;
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        assert_eq!((seen, pages), (25, 3));
    }

    async fn a_partner_reads_only_what_tlp_allows_on_every_level(db: TestDb) {
        use detente_stix::tlp::TLP_2_IDS;
        let s = db.open().await;
        let levels = TLP_2_IDS.map(Some).into_iter().chain([None]).collect::<Vec<_>>();
        let objs: Vec<StixObject> = levels
            .iter()
            .enumerate()
            .map(|(i, m)| indicator(i as u32, "2016-04-06T20:03:48.000Z", *m))
            .collect();
        s.insert_stix(&objs, &local(), None, 1).await.unwrap();
        let count = |reader| {
            let s = s.clone();
            async move {
                let r = ReadAs {
                    reader,
                    rule: AccessRule::default(),
                };
                s.stix_objects(&query(100), &r).await.unwrap().objects.len()
            }
        };
        // CLEAR, GREEN, AMBER and the unmarked one (AMBER by default) for the named partner.
        let cn = Reader::Party {
            party: "CN",
            in_community: true,
        };
        assert_eq!(count(cn).await, 4);
        let gb = Reader::Party {
            party: "GB",
            in_community: true,
        };
        assert_eq!(count(gb).await, 2);
        assert_eq!(count(Reader::Anyone).await, 1);
        // The origin's own users see everything they imported.
        assert_eq!(count(Reader::Local { party: "US" }).await, 6);
    }

    async fn collections_hold_what_was_added_to_them(db: TestDb) {
        let s = db.open().await;
        let c = collection();
        s.put_collection(&c).await.unwrap();
        assert_eq!(s.collections().await.unwrap(), std::slice::from_ref(&c));
        let a = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let b = indicator(2, "2016-04-06T20:03:48.000Z", None);
        s.insert_stix(&[a], &local(), Some(&c.id), 1).await.unwrap();
        s.insert_stix(&[b], &local(), None, 2).await.unwrap();
        let q = ObjectQuery {
            collection: Some(c.id.clone()),
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&q, &as_local()).await.unwrap().objects.len(),
            1
        );
    }

    async fn filters_are_bound_parameters_not_sql(db: TestDb) {
        let s = db.open().await;
        s.insert_stix(
            &[indicator(1, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            1,
        )
        .await
        .unwrap();
        let q = ObjectQuery {
            types: vec!["indicator' OR '1'='1".into()],
            ..query(10)
        };
        assert!(
            s.stix_objects(&q, &as_local())
                .await
                .unwrap()
                .objects
                .is_empty()
        );
    }

    async fn an_object_already_stored_joins_a_collection_when_imported_into_it(db: TestDb) {
        let s = db.open().await;
        let c = collection();
        s.put_collection(&c).await.unwrap();
        let a = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let b = indicator(2, "2016-04-06T20:03:48.000Z", None);
        s.insert_stix(std::slice::from_ref(&a), &local(), None, 1)
            .await
            .unwrap();
        // `a` again (already stored) and `b` (new), into the collection, twice.
        for now in [2, 3] {
            s.insert_stix(&[a.clone(), b.clone()], &local(), Some(&c.id), now)
                .await
                .unwrap();
        }
        let q = ObjectQuery {
            collection: Some(c.id.clone()),
            ..query(10)
        };
        let page = s.stix_objects(&q, &as_local()).await.unwrap();
        let ids: Vec<&str> = page.objects.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [a.id().as_str(), b.id().as_str()]);
        assert_eq!(s.stix_object_count().await.unwrap(), 2);
    }

    async fn batches_in_one_transaction_dedupe_across_batches(db: TestDb) {
        let s = db.open().await;
        let c = collection();
        s.put_collection(&c).await.unwrap();
        let rows = |ns: &[u32]| -> Vec<StixRow> {
            ns.iter()
                .map(|&n| StixRow::of(&indicator(n, "2016-04-06T20:03:48.000Z", None)))
                .collect()
        };
        // 1 is stored before, outside the collection.
        s.insert_stix_rows(&mut rows(&[1]), &local(), None, 1)
            .await
            .unwrap();
        let q = ObjectQuery {
            collection: Some(c.id.clone()),
            ..query(10)
        };
        // Dropped without a commit: nothing of it is stored.
        let mut import = s.begin_stix(&local(), Some(&c.id), 2).await.unwrap();
        import.add(&mut rows(&[2, 3])).await.unwrap();
        drop(import);
        assert_eq!(s.stix_object_count().await.unwrap(), 1);
        let mut import = s.begin_stix(&local(), Some(&c.id), 3).await.unwrap();
        let a = import.add(&mut rows(&[1, 2, 3])).await.unwrap();
        // 3 was added by this transaction's first batch, 1 before it.
        let b = import.add(&mut rows(&[3, 4, 1])).await.unwrap();
        assert_eq!((a.inserted, a.duplicates), (2, 1));
        assert_eq!((b.inserted, b.duplicates), (1, 2));
        import.commit().await.unwrap();
        assert_eq!(s.stix_object_count().await.unwrap(), 4);
        // Every version the transaction saw joined the collection once, the one stored
        // before included; the new ones share the transaction's date_added.
        let page = s.stix_objects(&q, &as_local()).await.unwrap();
        let mut seen: Vec<(u32, i64)> = page
            .objects
            .iter()
            .map(|o| {
                let n = u32::from_str_radix(&o.id["indicator--".len()..][..8], 16).unwrap();
                (n, o.date_added)
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, [(1, 1), (2, 3), (3, 3), (4, 3)]);
    }

    async fn reads_pick_versions_and_ids(db: TestDb) {
        let s = db.open().await;
        let v1 = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let v2 = indicator(1, "2017-01-01T00:00:00.000Z", None);
        let other = indicator(2, "2016-04-06T20:03:48.000Z", None);
        s.insert_stix(&[v1.clone(), v2.clone(), other], &local(), None, 1)
            .await
            .unwrap();
        let modified = |versions: Versions| {
            let s = s.clone();
            let id = v1.id().as_str().to_owned();
            async move {
                let q = ObjectQuery {
                    ids: vec![id],
                    versions,
                    ..query(10)
                };
                s.stix_objects(&q, &as_local())
                    .await
                    .unwrap()
                    .objects
                    .into_iter()
                    .map(|o| o.modified.unwrap())
                    .collect::<Vec<_>>()
            }
        };
        let (old, new) = ("2016-04-06T20:03:48.000Z", "2017-01-01T00:00:00.000Z");
        assert_eq!(modified(Versions::Last).await, [new]);
        assert_eq!(modified(Versions::First).await, [old]);
        assert_eq!(modified(Versions::All).await, [old, new]);
        let at = v1.version().unwrap().unix_micros();
        assert_eq!(modified(Versions::At(vec![at])).await, [old]);
        assert!(modified(Versions::At(vec![])).await.is_empty());
    }

    async fn taxii_status_is_read_by_its_reader_only(db: TestDb) {
        let s = db.open().await;
        let c = collection();
        s.put_collection(&c).await.unwrap();
        s.put_taxii_status("st-1", &c.id, "alice", 5, r#"{"status":"complete"}"#)
            .await
            .unwrap();
        assert_eq!(
            s.taxii_status("st-1", "alice").await.unwrap().as_deref(),
            Some(r#"{"status":"complete"}"#)
        );
        assert_eq!(s.taxii_status("st-1", "mallory").await.unwrap(), None);
        assert_eq!(s.taxii_status("st-2", "alice").await.unwrap(), None);
    }

    async fn pull_bookmarks_move_forward_per_source_and_collection(db: TestDb) {
        let s = db.open().await;
        assert_eq!(s.taxii_bookmark("CN", "c1").await.unwrap(), None);
        s.set_taxii_bookmark("CN", "c1", "2024-01-01T00:00:00.000000Z")
            .await
            .unwrap();
        s.set_taxii_bookmark("CN", "c1", "2024-02-01T00:00:00.000000Z")
            .await
            .unwrap();
        s.set_taxii_bookmark("CN", "c2", "2024-03-01T00:00:00.000000Z")
            .await
            .unwrap();
        assert_eq!(
            s.taxii_bookmark("CN", "c1").await.unwrap().as_deref(),
            Some("2024-02-01T00:00:00.000000Z")
        );
        assert_eq!(
            s.taxii_bookmark("CN", "c2").await.unwrap().as_deref(),
            Some("2024-03-01T00:00:00.000000Z")
        );
        assert_eq!(s.taxii_bookmark("GB", "c1").await.unwrap(), None);
    }

    async fn a_collection_is_updated_in_place(db: TestDb) {
        let s = db.open().await;
        let mut c = collection();
        s.put_collection(&c).await.unwrap();
        c.title = "renamed".into();
        c.can_write = false;
        s.put_collection(&c).await.unwrap();
        assert_eq!(s.collection(&c.id).await.unwrap(), Some(c.clone()));
        assert_eq!(s.collections().await.unwrap(), [c]);
        assert_eq!(s.collection("no-such").await.unwrap(), None);
    }

    async fn markings_under_other_ids_are_resolved_by_their_definitions(db: TestDb) {
        // Regression: a marking-definition under its own id (OpenCTI's, a TLP 2.0 extension
        // definition, a TLP 1.0-style one) was not recognised, so its RED or AMBER+STRICT
        // objects counted as unmarked and reached the partner.
        let s = db.open().await;
        let (objects, levels) = custom_marked();
        // The definitions come after the objects, in the same batch.
        let c = s.insert_stix(&objects, &local(), None, 1).await.unwrap();
        assert_eq!((c.inserted, c.unresolved_markings), (objects.len() as u64, 1));
        let stored = s.stix_objects(&query(100), &as_local()).await.unwrap();
        for (n, want) in &levels {
            let o = stored.objects.iter().find(|o| o.id == indicator_id(*n)).unwrap();
            assert_eq!(o.tlp, *want, "indicator {n}");
        }
        // The partner named as audience gets CLEAR, GREEN and AMBER only; another party of
        // the agreement gets CLEAR and GREEN.
        let seen = |reader| {
            let s = s.clone();
            async move {
                let r = ReadAs { reader, rule: AccessRule::default() };
                let mut n: Vec<u32> = s
                    .stix_objects(&query(100), &r)
                    .await
                    .unwrap()
                    .objects
                    .iter()
                    .filter(|o| o.object_type == "indicator")
                    .map(|o| u32::from_str_radix(&o.id["indicator--".len()..][..8], 16).unwrap())
                    .collect();
                n.sort_unstable();
                n
            }
        };
        let cn = Reader::Party { party: "CN", in_community: true };
        let gb = Reader::Party { party: "GB", in_community: true };
        assert_eq!(seen(cn).await, [10, 11, 12, 15]);
        assert_eq!(seen(gb).await, [10, 11]);
    }

    async fn stored_definitions_resolve_later_imports_from_the_same_origin_only(db: TestDb) {
        let s = db.open().await;
        let (objects, _) = custom_marked();
        let definitions: Vec<StixObject> = objects
            .iter()
            .filter(|o| o.object_type() == "marking-definition")
            .cloned()
            .collect();
        let marked: Vec<StixObject> = objects
            .iter()
            .filter(|o| o.object_type() == "indicator")
            .cloned()
            .collect();
        s.insert_stix(&definitions, &local(), None, 1).await.unwrap();
        // The same origin, later: resolved by the stored definitions.
        let mut import = s.begin_stix(&local(), None, 2).await.unwrap();
        let mut rows: Vec<StixRow> = marked.iter().map(StixRow::of).collect();
        import.add(&mut rows[..2]).await.unwrap();
        import.add(&mut rows[2..]).await.unwrap();
        import.commit().await.unwrap();
        let level = |n: u32| {
            let s = s.clone();
            async move {
                let q = ObjectQuery { ids: vec![indicator_id(n)], ..query(10) };
                let page = s.stix_objects(&q, &as_local()).await.unwrap();
                page.objects[0].tlp
            }
        };
        assert_eq!(level(10).await, Some(Tlp::Clear));
        assert_eq!(level(13).await, Some(Tlp::AmberStrict));
        // A partner's objects under the same ids are not resolved by our definitions (nor
        // could a partner's definitions say what our objects' markings mean): RED.
        let from_cn = ShareContext {
            origin: "CN".into(),
            audience: None,
            recipients: vec!["US".into()],
        };
        let theirs: Vec<StixObject> = (0..2)
            .map(|n| custom_marked_indicator(20 + n, &format!("marking-definition--7e1c2a44-0b5d-4c1e-8f00-0000000000{n:02}")))
            .collect();
        let c = s.insert_stix(&theirs, &from_cn, None, 3).await.unwrap();
        assert_eq!(c.unresolved_markings, 2);
        assert_eq!(level(20).await, Some(Tlp::Red));
        assert_eq!(level(21).await, Some(Tlp::Red));
    }

    async fn a_batch_naming_thousands_of_unknown_markings_is_stored_as_red(db: TestDb) {
        // Each marking id is looked up among the stored definitions: 20,000 of them must not
        // exceed what one statement may bind (SQLite takes 32,766 parameters).
        let s = db.open().await;
        let refs: Vec<String> = (0..20_000u32)
            .map(|n| format!("marking-definition--7e1c2a44-0b5d-4c1e-8f00-{n:012}"))
            .collect();
        let mut v = serde_json::to_value(indicator(40, "2016-04-06T20:03:48.000Z", None)).unwrap();
        v["object_marking_refs"] = serde_json::json!(refs);
        let marked = StixObject::from_value(v).unwrap();
        let c = s.insert_stix(&[marked], &local(), None, 1).await.unwrap();
        assert_eq!((c.inserted, c.unresolved_markings), (1, 1));
        let q = ObjectQuery { ids: vec![indicator_id(40)], ..query(10) };
        let page = s.stix_objects(&q, &as_local()).await.unwrap();
        assert_eq!(page.objects[0].tlp, Some(Tlp::Red));
        assert_eq!(s.markings(&refs, "US").await.unwrap().level([refs[0].as_str()]), Some(Tlp::Red));
    }

    async fn a_looser_redefinition_cannot_open_a_marking(db: TestDb) {
        let s = db.open().await;
        let id = "marking-definition--7e1c2a44-0b5d-4c1e-8f00-000000000004";
        s.insert_stix(&[definition(id, "red")], &local(), None, 1)
            .await
            .unwrap();
        // Another definition of the same id (a different version of it) says CLEAR.
        let mut loose = serde_json::to_value(definition(id, "clear")).unwrap();
        loose["created"] = serde_json::json!("2023-01-01T00:00:00.000Z");
        let loose = StixObject::from_value(loose).unwrap();
        s.insert_stix(&[loose, custom_marked_indicator(30, id)], &local(), None, 2)
            .await
            .unwrap();
        let q = ObjectQuery { ids: vec![indicator_id(30)], ..query(10) };
        let page = s.stix_objects(&q, &as_local()).await.unwrap();
        assert_eq!(page.objects[0].tlp, Some(Tlp::Red));
    }
}

fn indicator_id(n: u32) -> String {
    format!("indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f")
}

/// A TLP 2.0 extension definition of `level` under `id`.
fn definition(id: &str, level: &str) -> StixObject {
    StixObject::from_value(serde_json::json!({
        "type": "marking-definition", "spec_version": "2.1", "id": id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", level.to_ascii_uppercase()),
        "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
            {"extension_type": "property-extension", "tlp_2_0": level}}
    }))
    .unwrap()
}

/// Indicator `n` marked with `marking`.
fn custom_marked_indicator(n: u32, marking: &str) -> StixObject {
    indicator(n, "2016-04-06T20:03:48.000Z", Some(marking))
}

/// Indicators 10-16, each marked under a non-standard id, then the definitions: CLEAR and
/// GREEN as TLP 2.0 extension definitions, AMBER TLP 1.0-style, AMBER+STRICT OpenCTI-style
/// (and 16 with OpenCTI's well-known AMBER+STRICT id, no definition), RED as an extension,
/// and 15 with a statement (no level: the default applies). 17 has a marking nobody defines.
/// Returns the objects and each indicator's expected stored level.
fn custom_marked() -> (Vec<StixObject>, Vec<(u32, Option<Tlp>)>) {
    let id = |n: u32| format!("marking-definition--7e1c2a44-0b5d-4c1e-8f00-0000000000{n:02}");
    let defs = [
        definition(&id(0), "clear"),
        definition(&id(1), "green"),
        StixObject::from_value(serde_json::json!({"type": "marking-definition",
            "spec_version": "2.1", "id": id(2), "created": "2017-01-20T00:00:00.000Z",
            "definition_type": "tlp", "definition": {"tlp": "amber"}}))
        .unwrap(),
        StixObject::from_value(serde_json::json!({"type": "marking-definition",
            "spec_version": "2.1", "id": id(3), "created": "2022-10-01T00:00:00.000Z",
            "name": "TLP:AMBER+STRICT", "definition_type": "TLP",
            "definition": {"TLP": "TLP:AMBER+STRICT"}}))
        .unwrap(),
        definition(&id(4), "red"),
        StixObject::from_value(serde_json::json!({"type": "marking-definition",
            "spec_version": "2.1", "id": id(5), "created": "2017-06-01T00:00:00.000Z",
            "definition_type": "statement", "definition": {"statement": "Copyright ACME"}}))
        .unwrap(),
    ];
    let mut objects: Vec<StixObject> = (0..6)
        .map(|n| custom_marked_indicator(10 + n, &id(n)))
        .collect();
    objects.push(custom_marked_indicator(
        16,
        "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
    ));
    objects.push(custom_marked_indicator(17, &id(99)));
    objects.extend(defs);
    let levels = vec![
        (10, Some(Tlp::Clear)),
        (11, Some(Tlp::Green)),
        (12, Some(Tlp::Amber)),
        (13, Some(Tlp::AmberStrict)),
        (14, Some(Tlp::Red)),
        (15, None),
        (16, Some(Tlp::AmberStrict)),
        (17, Some(Tlp::Red)),
    ];
    (objects, levels)
}
