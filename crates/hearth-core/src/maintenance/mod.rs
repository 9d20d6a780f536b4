//! Jobs on the whole database: backups and restores, bulk inserts (the benchmark's seed),
//! re-rendering posts with the current renderer, and the counts `/metrics` reads (`gauges`).

pub mod backup;
pub mod bulk;
pub mod gauges;
pub mod rerender;
