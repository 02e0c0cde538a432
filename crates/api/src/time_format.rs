//! Instants in the JSON: RFC 3339 in UTC (`2030-06-01T12:00:00.5Z`), whatever offset
//! the value carries, as every answer of the API writes them.

use serde::{Deserialize, Deserializer, Serializer};
use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

/// `at` as the API writes it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// The day of `at` in UTC, `2026-12-30`: what a page shows where the hour does not matter.
pub fn day(at: OffsetDateTime) -> String {
    rfc3339(at).get(..10).unwrap_or_default().to_owned()
}

pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*at))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
}

/// The same for an optional instant (`null` when absent).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{format_description::well_known::Rfc3339, OffsetDateTime};

    pub fn serialize<S: Serializer>(
        at: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn instants_are_written_in_utc_and_read_back() {
        let at = datetime!(2030-06-01 14:00:00.5 +02:00);
        assert_eq!(super::rfc3339(at), "2030-06-01T12:00:00.5Z");
        #[derive(serde::Serialize, serde::Deserialize)]
        struct At {
            #[serde(with = "super")]
            at: time::OffsetDateTime,
            #[serde(with = "super::option")]
            maybe: Option<time::OffsetDateTime>,
        }
        let json = serde_json::to_string(&At { at, maybe: None }).unwrap();
        assert_eq!(json, r#"{"at":"2030-06-01T12:00:00.5Z","maybe":null}"#);
        let back: At = serde_json::from_str(&json).unwrap();
        assert_eq!((back.at, back.maybe), (at, None));
    }
}
