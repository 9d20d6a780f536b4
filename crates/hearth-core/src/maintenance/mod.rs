//! Jobs on the whole database: backups and restores, bulk inserts (the benchmark's seed) and
//! re-rendering posts with the current renderer.

pub mod backup;
pub mod bulk;
pub mod rerender;
