//! What the services' errors share: a failure of the store is ours, never the caller's,
//! so it is each service's `Internal` (logged where it is answered, shown without
//! detail). The staff services' error is the one exception: an altered page link
//! (`StoreError::BadCursor`) is the caller's, and `StaffError` says so.

macro_rules! store_failures_are_internal {
    ($($error:ty),+ $(,)?) => {$(
        impl From<gapless_store::StoreError> for $error {
            fn from(error: gapless_store::StoreError) -> Self {
                <$error>::Internal(error.into())
            }
        }
    )+};
}

store_failures_are_internal!(
    crate::chat::error::ChatError,
    crate::returns::error::ReturnsError,
    crate::fulfilment::service::FulfilmentError,
    crate::payments::PaymentError,
);
