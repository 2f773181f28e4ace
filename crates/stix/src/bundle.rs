//! Writing bundles: a whole [`Bundle`] value, or a [`BundleWriter`] that streams objects out
//! one at a time (for exports of any size, and for the import benchmark's input).

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::id::StixId;
use crate::object::StixObject;

/// A STIX 2.1 bundle held in memory. (Reading goes through the streaming
/// [`Importer`](crate::Importer), which never needs one.)
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle's id (`bundle--…`).
    pub id: StixId,
    /// The objects.
    pub objects: Vec<StixObject>,
}

impl Serialize for Bundle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("type", "bundle")?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("objects", &self.objects)?;
        m.end()
    }
}

/// Writes `{"type":"bundle","id":…,"objects":[` then one object per call, then `]}`.
#[derive(Debug)]
pub struct BundleWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle with the given id.
    pub fn new(mut out: W, id: &StixId) -> io::Result<Self> {
        write!(out, "{{\"type\":\"bundle\",\"id\":\"{id}\",\"objects\":[")?;
        Ok(Self { out, written: 0 })
    }

    /// Appends one object.
    pub fn write(&mut self, obj: &StixObject) -> io::Result<()> {
        self.write_serialize(obj)
    }

    /// Appends any serialisable object (already-valid JSON from elsewhere, say).
    pub fn write_serialize<T: Serialize>(&mut self, obj: &T) -> io::Result<()> {
        if self.written > 0 {
            self.out.write_all(b",")?;
        }
        serde_json::to_writer(&mut self.out, obj)?;
        self.written += 1;
        Ok(())
    }

    /// Objects written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Closes the bundle and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"]}")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
