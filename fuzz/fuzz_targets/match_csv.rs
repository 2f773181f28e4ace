//! Fuzzes the matcher's parser of CSV flow exports through a fixed mapping: quotes, missing columns, short rows.
//!
//! Any bytes may be malformed, but none may panic, and the engine must read them the same way
//! whether it cuts them into 7-byte or 1 MiB chunks, on one thread or two.

#![no_main]

#[allow(unused_imports)]
use detente_match::input::{CsvMapping, Format};
use libfuzzer_sys::fuzz_target;

#[path = "match_common.rs"]
mod match_common;

fuzz_target!(|data: &[u8]| {
    match_common::check(data, Format::Csv(CsvMapping::parse("ts=time,src=src-ip,sport=src-port,dst=dst-ip,dport=dst-port,url=url,host=host,uri=uri,q=domain,h=hash,m=email,msg=text").expect("a valid mapping")));
});
