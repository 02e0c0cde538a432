//! How the JSON API writes instants: RFC 3339 in UTC (CONTRACTS), one function for
//! every module that answers with times.

/// `at` as RFC 3339, e.g. `2030-06-01T12:00:00.5Z`: the contract types' own writer.
pub use gapless_api::time_format::rfc3339;

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn instants_are_written_in_utc() {
        assert_eq!(
            super::rfc3339(datetime!(2030-06-01 14:00:00.5 +02:00)),
            "2030-06-01T12:00:00.5Z"
        );
    }
}
