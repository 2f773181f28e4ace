//! The engine end to end: formats, compression, chunking, ordering and malformed lines.

use std::io::Write;

use detente_match::input::{CsvMapping, Format};
use detente_match::{RunOptions, RunReport};

use crate::support::{CONN, DNS, HTTP, index_of, labels, run_bytes, zeek_header};

fn conn_log(lines: usize) -> Vec<u8> {
    let mut log = zeek_header("conn", CONN);
    for i in 0..lines {
        let resp = if i % 100 == 42 {
            "192.0.2.66".to_owned()
        } else {
            format!("198.51.100.{}", i % 250)
        };
        log.push_str(&format!(
            "{}.{:06}\tC{i}\t10.0.{}.{}\t{}\t{resp}\t443\ttcp\tssl\n",
            1_700_000_000 + i,
            i,
            i % 200,
            i % 250 + 1,
            40000 + i % 20000
        ));
    }
    log.push_str("#close\t2023-11-15-00-00-00\n");
    log.into_bytes()
}

fn small_chunks(threads: usize) -> RunOptions {
    RunOptions {
        threads,
        chunk_bytes: 257,
        max_line_bytes: 4096,
    }
}

#[test]
fn hits_are_the_same_and_in_order_whatever_the_threads_and_chunk_size() {
    let index = index_of(&["192.0.2.66", "192.0.2.66:443", "198.51.100.7"]);
    let log = conn_log(3000);
    let (one, report_one) = run_bytes(
        &index,
        vec![("conn.log", log.clone(), Format::Auto)],
        &RunOptions {
            threads: 1,
            ..RunOptions::default()
        },
    );
    let (many, report_many) = run_bytes(
        &index,
        vec![("conn.log", log, Format::Auto)],
        &small_chunks(4),
    );
    assert_eq!(one, many);
    assert_eq!(report_one.inputs[0].lines, report_many.inputs[0].lines);
    assert_eq!(report_one.inputs[0].lines, 3000 + 9);
    // 30 lines hit the address twice (the IP and the ip:port), 12 hit 198.51.100.7.
    assert_eq!(one.len(), 30 * 2 + 12);
    assert!(one.windows(2).all(|w| w[0].line <= w[1].line));
    assert_eq!((one[0].line, one[0].value.as_str()), (16, "198.51.100.7"));
    // Line 9 of the file is the first data line (8 header lines), so i = 42 is line 51.
    let at = one
        .iter()
        .position(|h| h.value == "192.0.2.66")
        .expect("a hit");
    let first = &one[at];
    assert_eq!((first.line, first.field.as_str()), (51, "id.resp_h"));
    assert_eq!(
        first.time.map(|t| t.to_string()).as_deref(),
        Some("2023-11-14T22:14:02.000042Z")
    );
    assert_eq!(
        first.hosts,
        [
            "10.0.42.43".parse::<std::net::IpAddr>().expect("ip"),
            "192.0.2.66".parse().expect("ip")
        ]
    );
    assert_eq!(labels(&index, &one[at + 1]), ["i1"]);
    assert_eq!(
        (one[at + 1].line, one[at + 1].field.as_str()),
        (51, "id.resp_p")
    );
}

#[test]
fn gzip_and_zstd_inputs_give_the_same_hits_as_plain_ones() {
    let index = index_of(&["192.0.2.66"]);
    let log = conn_log(500);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log).expect("in memory");
    let gz = gz.finish().expect("in memory");
    let zst = zstd::encode_all(&log[..], 3).expect("in memory");
    let (plain, _) = run_bytes(&index, vec![("a", log, Format::Auto)], &small_chunks(2));
    let (from_gz, report) = run_bytes(&index, vec![("a", gz, Format::Auto)], &small_chunks(2));
    let (from_zst, _) = run_bytes(&index, vec![("a", zst, Format::Auto)], &small_chunks(2));
    assert_eq!(report.inputs[0].format, "zeek-tsv");
    assert_eq!(plain.len(), 5);
    assert_eq!(plain, from_gz);
    assert_eq!(plain, from_zst);
}

#[test]
fn malformed_lines_are_counted_with_their_numbers_and_the_rest_still_matches() {
    let index = index_of(&["192.0.2.66"]);
    let mut log = zeek_header("conn", CONN);
    log.push_str("1700000000.0\tC1\t10.0.0.1\t1\t192.0.2.66\t443\ttcp\tssl\n");
    log.push_str("1700000000.0\tC2\t10.0.0.1\n");
    log.push_str("1700000000.0\tC3\tnot-an-ip\t1\t192.0.2.66\t443\ttcp\tssl\n");
    log.push('\n');
    log.push_str("1700000000.0\tC4\t10.0.0.1\t1\t192.0.2.66\t99999\ttcp\tssl\n");
    log.push_str("1700000001.0\tC5\t10.0.0.2\t1\t192.0.2.66\t443\ttcp\tssl");
    let (hits, report) = run_bytes(
        &index,
        vec![("conn", log.into_bytes(), Format::ZeekTsv)],
        &small_chunks(2),
    );
    let input = &report.inputs[0];
    assert_eq!(input.lines, 8 + 6);
    assert_eq!(input.malformed, 3);
    let lines: Vec<u64> = input.malformed_lines.iter().map(|m| m.line).collect();
    assert_eq!(lines, [10, 11, 13]);
    assert!(
        input.malformed_lines[1].reason.contains("id.orig_h"),
        "{:?}",
        input.malformed_lines[1]
    );
    assert_eq!(hits.iter().map(|h| h.line).collect::<Vec<_>>(), [9, 14]);
}

#[test]
fn an_overlong_line_is_skipped_and_reported_and_the_next_line_read() {
    let index = index_of(&["evil.example"]);
    let mut log = Vec::new();
    log.extend_from_slice(b"evil.example first\n");
    log.extend(std::iter::repeat_n(b'x', 10_000));
    log.extend_from_slice(b" evil.example\nsecond evil.example\n");
    let (hits, report) = run_bytes(&index, vec![("p", log, Format::Plain)], &small_chunks(2));
    assert_eq!(hits.iter().map(|h| h.line).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(report.inputs[0].lines, 3);
    assert_eq!(report.inputs[0].malformed_lines[0].line, 2);
}

#[test]
fn a_new_fields_header_mid_file_changes_the_columns_from_there_on() {
    // Two Zeek logs concatenated: conn, then dns with other columns.
    let index = index_of(&["evil.example", "192.0.2.66"]);
    let mut log = zeek_header("conn", CONN);
    log.push_str("1\tC1\t10.0.0.1\t1\t192.0.2.66\t53\tudp\tdns\n");
    log.push_str(&zeek_header("dns", DNS));
    log.push_str(
        "2\tC2\t10.0.0.1\t1\t10.0.0.53\t53\tudp\twww.EVIL.example\tA\t192.0.2.66,cname.example\n",
    );
    for threads in [1, 3] {
        let options = RunOptions {
            threads,
            chunk_bytes: 64,
            max_line_bytes: 4096,
        };
        let (hits, report) = run_bytes(
            &index,
            vec![("mixed", log.clone().into_bytes(), Format::Auto)],
            &options,
        );
        assert_eq!(report.malformed(), 0, "{report:?}");
        let seen: Vec<(u64, &str, &str)> = hits
            .iter()
            .map(|h| (h.line, h.field.as_str(), h.value.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (9, "id.resp_h", "192.0.2.66"),
                (18, "query", "www.evil.example"),
                (18, "answers", "192.0.2.66")
            ]
        );
    }
}

#[test]
fn http_logs_match_urls_built_from_host_and_uri() {
    let index = index_of(&["http://evil.example/gate.php", "/c2/panel.php"]);
    let mut log = zeek_header("http", HTTP);
    log.push_str(
        "1\tC1\t10.0.0.1\t1\t192.0.2.1\t80\tGET\tEVIL.example\t/%67ate.php?id=7\t-\tcurl\n",
    );
    log.push_str(
        "2\tC2\t10.0.0.1\t1\t192.0.2.1\t80\tGET\tother.example:8080\t/c2/panel.php\t-\tcurl\n",
    );
    log.push_str("3\tC3\t10.0.0.1\t1\t192.0.2.1\t80\tGET\tevil.example\t/gate.php.bak\t-\tcurl\n");
    let (hits, _) = run_bytes(
        &index,
        vec![("http", log.into_bytes(), Format::Auto)],
        &RunOptions::default(),
    );
    let seen: Vec<(u64, &str)> = hits.iter().map(|h| (h.line, h.value.as_str())).collect();
    assert_eq!(
        seen,
        [
            (9, "http://evil.example/gate.php?id=7"),
            (10, "http://other.example:8080/c2/panel.php")
        ]
    );
}

#[test]
fn zeek_json_csv_and_plain_inputs_are_all_read() {
    let index = index_of(&["evil.example", "192.0.2.66:8443", "bad@phish.example"]);
    // The local part of an address keeps its case (RFC 5321 §2.4); the domain does not.
    let json = b"{\"ts\":1700000000.25,\"id.orig_h\":\"10.0.0.1\",\"query\":\"a.evil.example\"}\nnot json\n".to_vec();
    let csv = b"start,src,dst,dport,bytes\n2023-11-14T22:13:20Z,10.0.0.9,192.0.2.66,8443,120\n2023-11-14T22:13:21Z,10.0.0.9,192.0.2.66,443,120\n".to_vec();
    let plain = b"Nov 14 mail: from=<bad@Phish.EXAMPLE> to=<Bad@phish.example>\n".to_vec();
    let mapping =
        CsvMapping::parse("start=time,src=src-ip,dst=dst-ip,dport=dst-port").expect("valid");
    let (hits, report) = run_bytes(
        &index,
        vec![
            ("j", json, Format::Auto),
            ("c", csv, Format::Csv(mapping)),
            ("p", plain, Format::Auto),
        ],
        &small_chunks(2),
    );
    let formats: Vec<&str> = report.inputs.iter().map(|i| i.format).collect();
    assert_eq!(formats, ["zeek-json", "csv", "plain"]);
    assert_eq!(report.inputs[0].malformed_lines[0].line, 2);
    let seen: Vec<(usize, u64, &str, &str)> = hits
        .iter()
        .map(|h| (h.input, h.line, h.field.as_str(), h.value.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (0, 1, "query", "a.evil.example"),
            (1, 2, "dport", "192.0.2.66:8443"),
            (2, 1, "text", "bad@phish.example"),
        ]
    );
    assert_eq!(
        hits[0].time.map(|t| t.to_string()).as_deref(),
        Some("2023-11-14T22:13:20.250000Z")
    );
    assert_eq!(
        hits[1].time.map(|t| t.to_string()).as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
}

#[test]
fn a_csv_mapping_naming_a_missing_column_fails_that_input_only() {
    let index = index_of(&["192.0.2.66"]);
    let mapping = CsvMapping::parse("dst_addr=dst-ip").expect("valid");
    let (hits, report): (_, RunReport) = run_bytes(
        &index,
        vec![
            (
                "bad.csv",
                b"src,dst\n10.0.0.1,192.0.2.66\n".to_vec(),
                Format::Csv(mapping),
            ),
            ("ok.txt", b"192.0.2.66\n".to_vec(), Format::Plain),
        ],
        &RunOptions::default(),
    );
    let error = report.inputs[0].error.as_deref().expect("failed");
    assert!(
        error.contains("dst_addr") && error.contains("bad.csv"),
        "{error}"
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].input, 1);
}

#[test]
fn a_truncated_gzip_input_reports_its_error_and_keeps_earlier_hits() {
    let index = index_of(&["192.0.2.66"]);
    let log = conn_log(2000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log).expect("in memory");
    let mut gz = gz.finish().expect("in memory");
    gz.truncate(gz.len() / 2);
    let (hits, report) = run_bytes(&index, vec![("cut.gz", gz, Format::Auto)], &small_chunks(2));
    assert!(report.inputs[0].error.is_some(), "{report:?}");
    assert!(!hits.is_empty());
}

/// Decompresses `data` the way `zcat` does: everything up to the damage, then stops.
fn decompress_until_damaged(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut reader =
        detente_match::input::decompress(std::io::Cursor::new(data.to_vec())).expect("sniffable");
    let mut buf = [0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Regression (issue 25.1): a gzip log whose checksum was damaged gave "0 lines, 0 hits": the
/// chunk reader dropped every line it had decompressed in the chunk when the error came.
#[test]
fn a_gzip_log_with_a_bad_checksum_keeps_every_line_and_reports_the_damage() {
    // Arrange: 3,000 intact lines, then a flipped CRC-32 in the gzip trailer.
    let index = index_of(&["192.0.2.66"]);
    let log = conn_log(3000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log).expect("in memory");
    let mut gz = gz.finish().expect("in memory");
    let crc = gz.len() - 8;
    gz[crc] ^= 0xff;

    // Act: default chunks, so the whole log is one chunk.
    let (hits, report) = run_bytes(
        &index,
        vec![("crc.gz", gz, Format::Auto)],
        &RunOptions::default(),
    );

    // Assert
    let input = &report.inputs[0];
    assert_eq!(input.lines, 3000 + 9, "{input:?}");
    assert_eq!(input.bytes, log.len() as u64);
    assert_eq!(hits.len(), 30);
    let error = input.error.as_deref().expect("the damage is reported");
    assert!(
        error.contains("crc.gz") && error.contains(&format!("after {} bytes", log.len())),
        "{error}"
    );
}

/// Regression (issue 25.1): a zstd log cut short lost the lines decompressed in its last
/// chunk; now every whole line before the cut is matched and the cut line is reported.
#[test]
fn a_truncated_zstd_log_keeps_every_whole_line_before_the_cut() {
    // Arrange: 20,000 lines (1.4 MB, more than one default chunk), the last 40 bytes cut.
    let index = index_of(&["192.0.2.66"]);
    let log = conn_log(20_000);
    let mut zst = zstd::encode_all(&log[..], 3).expect("in memory");
    zst.truncate(zst.len() - 40);
    let recovered = decompress_until_damaged(&zst);
    let whole_lines = recovered.iter().filter(|&&b| b == b'\n').count() as u64;
    let cut_line = u64::from(!recovered.ends_with(b"\n"));
    let planted = recovered
        .split(|&b| b == b'\n')
        .take(whole_lines as usize)
        .filter(|l| l.windows(10).any(|w| w == b"192.0.2.66"))
        .count();

    // Act
    for options in [RunOptions::default(), small_chunks(2)] {
        let (hits, report) = run_bytes(
            &index,
            vec![("cut.zst", zst.clone(), Format::Auto)],
            &options,
        );

        // Assert
        let input = &report.inputs[0];
        assert!(whole_lines > 19_000, "the test cuts only the end");
        assert_eq!(input.lines, whole_lines + cut_line, "{input:?}");
        assert_eq!(input.bytes, recovered.len() as u64);
        assert_eq!(hits.len(), planted);
        assert!(input.error.is_some(), "{input:?}");
        if cut_line == 1 {
            let last = input.malformed_lines.last().expect("the cut line");
            assert_eq!(last.line, whole_lines + 1);
            assert!(last.reason.contains("cut short"), "{last:?}");
        }
    }
}

/// Regression (issue 20.18): the byte count left out lines too long to read, so a log of
/// one 200 MB line reported 0 bytes.
#[test]
fn byte_counts_include_overlong_lines() {
    // Arrange
    let index = index_of(&["evil.example"]);
    let mut log = Vec::new();
    log.extend_from_slice(b"evil.example first\n");
    log.extend(std::iter::repeat_n(b'x', 100_000));
    log.extend_from_slice(b"\nlast line without newline");

    // Act
    let (_, report) = run_bytes(
        &index,
        vec![("p", log.clone(), Format::Plain)],
        &small_chunks(2),
    );

    // Assert
    assert_eq!(report.inputs[0].lines, 3);
    assert_eq!(report.inputs[0].malformed, 1);
    assert_eq!(report.inputs[0].bytes, log.len() as u64);
}

/// Found by the `match_zeek_tsv` fuzz target: a zstd log corrupted mid-stream gave 16,480
/// lines with small chunks and 14,126 with 1 MiB ones. A decompressor that fails drops what
/// it decoded in that same read, and the reader asked for more bytes per read with larger
/// chunks. Reads are now the same size whatever the chunk, so the same lines come out.
#[test]
fn a_log_corrupted_mid_stream_gives_the_same_lines_whatever_the_chunk_size() {
    // Arrange
    let index = index_of(&["10.0.0.0/8", "192.0.2.1"]);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corrupt-1.1MiB.log.zst");
    let data = std::fs::read(path).expect("the fuzzer's input is kept in the tests");

    // Act
    let runs: Vec<RunReport> = [small_chunks(2), RunOptions::default()]
        .into_iter()
        .map(|options| {
            run_bytes(
                &index,
                vec![("bad.zst", data.clone(), Format::Auto)],
                &options,
            )
            .1
        })
        .collect();

    // Assert
    let (small, large) = (&runs[0].inputs[0], &runs[1].inputs[0]);
    assert!(small.error.is_some() && large.error.is_some(), "{small:?}");
    assert!(small.lines > 10_000, "{small:?}");
    assert_eq!(
        (small.lines, small.hits, small.bytes),
        (large.lines, large.hits, large.bytes)
    );
}
