//! Jobs on the whole database: bulk inserts (the benchmark's seed) and re-rendering posts with
//! the current renderer.

pub mod bulk;
pub mod rerender;
