//! Binding an optional `f64` through sqlx's `Any` driver.
//!
//! sqlx 0.9.0 converts a NULL `f64` into a PostgreSQL `float4` NULL: its `Real` and
//! `Double` NULL mappings are swapped (transact-rs/sqlx#4284, fixed after 0.9.0).
//! PostgreSQL keeps the prepared statement in the connection's cache with that
//! parameter typed `float4`, and the next call on the same connection that binds a
//! value (eight bytes of `float8`) fails with "incorrect binary data format in bind
//! parameter N". Bind every `Option<f64>` as [`nullable`] so its NULL is a `float8`
//! NULL. SQLite does not care either way.

use sqlx::any::{Any, AnyTypeInfo};
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::{Database, Type};

/// An `f64` whose NULL binds as `float8` on PostgreSQL (see the module comment).
pub(crate) struct Float8(f64);

impl Type<Any> for Float8 {
    fn type_info() -> AnyTypeInfo {
        // The swapped mapping turns the NULL of a `Real` into a NULL `f64`: report
        // `Real` so that `Option<Float8>::None` arrives as `float8`.
        <f32 as Type<Any>>::type_info()
    }
}

impl Encode<'_, Any> for Float8 {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <f64 as Encode<'_, Any>>::encode_by_ref(&self.0, buf)
    }
}

/// The value to bind for an optional float column.
pub(crate) fn nullable(v: Option<f64>) -> Option<Float8> {
    v.map(Float8)
}
