//! The compact scans a full re-classification reads the whole graph through.

/// Relationship types along which classification flows from source to target, and the one
/// along which it flows from target to source.
pub(crate) const FLOW_FORWARD: &str = "('depends_on', 'runs_on', 'hosted_by')";
pub(crate) const FLOW_BACKWARD: &str = "('stores_data_of')";
/// The CIs that carry a level from somewhere (in `ci_levels`, migration 0014), as a
/// `SELECT … WHERE …` to narrow with `AND`.
pub(crate) const CARRY_LEVELS: &str = "SELECT id FROM ci_levels WHERE TRUE";

/// CI id → dense index, for graphs of millions of CIs: ids are random (UUID v7 below the
/// timestamp), so folding the two halves and one multiplication is hash enough, and far
/// cheaper than SipHash.
#[derive(Default)]
pub(crate) struct IdIndex(
    std::collections::HashMap<u128, u32, std::hash::BuildHasherDefault<Fold>>,
);

impl IdIndex {
    pub(crate) fn insert(&mut self, id: uuid::Uuid, i: u32) {
        self.0.insert(id.as_u128(), i);
    }

    pub(crate) fn get(&self, id: &uuid::Uuid) -> Option<u32> {
        self.0.get(&id.as_u128()).copied()
    }
}

#[derive(Default)]
pub(crate) struct Fold(u64);

impl std::hash::Hasher for Fold {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = ((v as u64) ^ ((v >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Every CI's id and its explicit levels packed two bits each (C, I, A with 0 for unset),
/// in a dense order, read in chunks for a full re-classification.
#[derive(Default)]
pub struct CiScan {
    pub(crate) ids: Vec<uuid::Uuid>,
    pub(crate) index: IdIndex,
    pub(crate) bits: Vec<u16>,
}

/// CIs or edges per chunk in a full scan: each chunk crosses sqlx's connection as one
/// aggregated value (per-row hand-off costs ~1 µs, the whole scan of a million CIs takes
/// less than that per CI).
pub(crate) const SCAN_CHUNK: usize = 65_536;

fn corrupt(what: &str) -> custos_core::StoreError {
    custos_core::StoreError::Internal(format!("malformed {what} chunk in a classification scan"))
}

impl CiScan {
    /// Adds a chunk of `n` records, each a 16-byte id and then the levels, which `levels`
    /// decodes from the rest of the record (`rec` bytes in all).
    pub(crate) fn add_chunk(
        &mut self,
        blob: &[u8],
        n: i64,
        rec: usize,
        levels: fn(&[u8]) -> Option<u16>,
    ) -> custos_core::error::StoreResult<()> {
        if blob.len() != n as usize * rec {
            return Err(corrupt("CI"));
        }
        for r in blob.chunks_exact(rec) {
            let id = uuid::Uuid::from_slice(&r[..16]).map_err(|_| corrupt("CI"))?;
            let bits = levels(&r[16..])
                .filter(|b| *b < 4096)
                .ok_or_else(|| corrupt("CI"))?;
            self.index.insert(id, self.ids.len() as u32);
            self.ids.push(id);
            self.bits.push(bits);
        }
        Ok(())
    }

    /// Adds a chunk of `n` inheritance edges, each the parent's then the child's 16-byte id.
    pub(crate) fn add_edges(
        &self,
        pairs: &mut Vec<(u32, u32)>,
        blob: &[u8],
        n: i64,
    ) -> custos_core::error::StoreResult<()> {
        if blob.len() != n as usize * 32 {
            return Err(corrupt("relationship"));
        }
        for r in blob.chunks_exact(32) {
            let id = |b: &[u8]| {
                uuid::Uuid::from_slice(b)
                    .ok()
                    .and_then(|u| self.index.get(&u))
            };
            // A CI created after the CI scan (impossible under the CMDB lock) is skipped.
            if let (Some(p), Some(c)) = (id(&r[..16]), id(&r[16..])) {
                pairs.push((p, c));
            }
        }
        Ok(())
    }
}
