//! Closed sets of words that are stored as text (statuses, outcomes): each enum's
//! `as_str` writes the word, and `FromStr`/`TryFrom<String>` read it back, so a row with
//! a word no version of Gapless wrote is an error where it is read, not a string that
//! travels on and is compared somewhere else.

/// A stored word that is not one of its set's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {text:?}")]
pub struct UnknownWord {
    /// What the word names: `order status`, `return status`, …
    pub what: &'static str,
    pub text: String,
}

/// `FromStr` and `TryFrom<String>` for an enum with `ALL` and `as_str`.
macro_rules! stored_words {
    ($($ty:ty => $what:literal),+ $(,)?) => {$(
        impl ::std::str::FromStr for $ty {
            type Err = $crate::words::UnknownWord;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL.into_iter().find(|word| word.as_str() == text).ok_or_else(|| {
                    $crate::words::UnknownWord { what: $what, text: text.to_owned() }
                })
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::words::UnknownWord;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    )+};
}

stored_words! {
    crate::chat::Extractor => "extractor",
    crate::orders::OrderStatus => "order status",
    crate::orders::PaymentStatus => "payment status",
    crate::returns::ReturnStatus => "return status",
    crate::staff_metrics::ConversationStatus => "conversation status",
}

#[cfg(test)]
mod tests {
    use crate::{
        chat::Extractor,
        orders::{OrderStatus, PaymentStatus},
        returns::ReturnStatus,
        staff_metrics::ConversationStatus,
    };

    #[test]
    fn every_word_reads_back_and_no_other_does() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::try_from(status.as_str().to_owned()), Ok(status));
        }
        for status in ReturnStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        for status in ConversationStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        for extractor in Extractor::ALL {
            assert_eq!(extractor.as_str().parse(), Ok(extractor));
            // The stored word is the serialized one.
            let json = serde_json::to_value(extractor).unwrap();
            assert_eq!(json.as_str(), Some(extractor.as_str()));
        }
        let error = "Confirmed".parse::<OrderStatus>().unwrap_err();
        assert_eq!(error.to_string(), "unknown order status \"Confirmed\"");
        assert!("handed off".parse::<ConversationStatus>().is_err());
    }
}
