//! Closed word lists of English chat, kept apart from the logic that uses them.

/// Everyday words that are never a typo of a catalog word and never the name of a
/// product someone wants: "hold" must not become "cold", "side" not "size".
#[rustfmt::skip]
pub const COMMON: &[&str] = &[
    "asap", "tmrw", "tomorrow", "rn", "sir", "maam", "mate", "bro", "dude", "buddy", "fam",
    "pickup", "takeout", "anyway", "anyways", "though", "quickly", "yummy", "yum", "delivered",
    "tonite", "hun", "babe", "urgent", "urgently", "tho", "aswell", "maybe", "perhaps", "probably",
    "a", "about", "above", "actually", "add", "after", "again", "ago", "agent", "all", "also", "am",
    "amount", "an", "and", "another", "any", "anything", "are", "around", "as", "ask", "at", "away",
    "back", "bad", "be", "because", "been", "before", "being", "best", "better", "bill", "both",
    "box", "boxes", "bring", "but", "buy", "by", "call", "can", "cancel", "cant", "can't", "card",
    "cart", "cash", "change", "charge", "cheap", "check", "checkout", "close", "code", "come",
    "confirm", "cost", "could", "coupon", "day", "deal", "deliver", "delivery", "did", "discount",
    "do", "does", "doing", "dollar", "dollars", "done", "dont", "don't", "down", "drop", "each",
    "either", "else", "email", "enough", "even", "every", "everything", "exactly", "fast", "few",
    "fine", "first", "for", "forget", "free", "from", "get", "gimme", "give", "go", "going",
    "gonna", "good", "got", "gotta", "great", "had", "half", "has", "have", "having", "he", "hello",
    "help", "her", "here", "hey", "hi", "him", "his", "hmm", "hold", "home", "hope", "how", "hows",
    "human", "i", "i'd", "i'll", "i'm", "i've", "id", "if", "ill", "im", "in", "instead", "into",
    "is", "isn't", "it", "it's", "item", "items", "its", "ive", "just", "keep", "kind", "know",
    "last", "later", "least", "leave", "less", "let", "let's", "lets", "like", "little", "look",
    "looking", "lot", "lots", "love", "make", "many", "may", "maybe", "me", "mean", "meant", "mind",
    "mine", "minus", "money", "more", "most", "much", "must", "my", "name", "need", "needs",
    "never", "new", "next", "nice", "no", "none", "nope", "not", "nothing", "now", "number", "of",
    "off", "oh", "ok", "okay", "on", "once", "one", "only", "oops", "or", "order", "orders",
    "other", "our", "out", "over", "pair", "pairs", "pay", "payment", "per", "percent", "person",
    "phone", "piece", "pieces", "place", "please", "pls", "plz", "plus", "price", "prices",
    "pretty", "put", "qty", "quantity", "quick", "quite", "rather", "real", "really", "remove",
    "replace", "return", "right", "same", "say", "scratch", "see", "send", "set", "she", "ship",
    "shipping", "should", "show", "so", "some", "someone", "something", "soon", "sorry", "still",
    "stuff", "such", "sure", "swap", "switch", "take", "tell", "than", "thank", "thanks", "thanx",
    "thx", "that", "that's", "thats", "the", "their", "them", "then", "there", "these", "they",
    "thing", "things", "think", "this", "those", "though", "time", "to", "today", "too", "total",
    "track", "try", "two", "ty", "uh", "um", "up", "update", "us", "use", "very", "wait", "want",
    "wanna", "was", "way", "we", "well", "were", "what", "whats", "what's", "when", "where",
    "which", "while", "who", "whole", "why", "will", "with", "without", "would", "wow", "yeah",
    "yep", "yes", "yet", "you", "your", "yours", "yup", "size", "sizes", "color", "colors",
    "colour", "colours", "option", "options", "medium", "large", "small", "extra", "light", "food",
    "drink", "drinks", "something", "store", "shop", "shopping", "week", "weeks", "hour", "hours",
    "minute", "minutes", "sec", "address", "street", "city", "zip", "postcode", "apt", "suite",
    "instructions", "system", "prompt", "previous", "ignore", "admin", "everyone", "anyone",
    "sold", "stock", "available", "menu", "catalog", "bag", "kit", "cap", "nothing", "each", "sale",
    "final", "bit", "lol", "haha", "cool", "awesome", "hungry", "thirsty", "tonight", "lunch",
    "dinner", "breakfast", "party", "friend", "friends", "kids", "wife", "husband", "also", "sth",
    "smth", "more", "mode", "test", "hat", "hats", "best", "rest", "west", "vast", "list", "cold",
    "year", "years", "days", "times", "old", "am", "pm", "tip", "tax", "bucks", "usd", "euros",
    "people", "guys", "family", "min", "mins", "ago", "status", "tracking", "refund", "human",
    "agent", "representative", "hand", "wear", "wearing", "gift", "present", "birthday",
];

/// Words that look like a thing one might order but that no catalog sells, and that
/// instructions aimed at the system use: never an unknown product.
#[rustfmt::skip]
pub const NOT_PRODUCTS: &[&str] = &[
    "zero",
    "discount", "discounts", "price", "prices", "free", "coupon", "coupons", "code", "codes",
    "instructions", "instruction", "system", "prompt", "refund", "refunds", "order", "orders",
    "total", "totals", "money", "dollars", "dollar", "cents", "percent", "items", "item", "things",
    "thing", "more", "of", "off", "each", "times", "pieces", "piece", "pairs", "pair", "sizes",
    "size", "colors", "color", "options", "option", "points", "credit", "credits",
];

/// Everyday names for kinds of thing a shop sells: after a product's name they say
/// what it is ("a meatball marinara sandwich"), not that it is another product the
/// way "coke zero" is.
#[rustfmt::skip]
pub const KIND_WORDS: &[&str] = &[
    "sandwich", "sandwiches", "sub", "subs", "hoagie", "hoagies", "drink", "drinks", "soda",
    "sodas", "beverage", "beverages", "pizza", "pizzas", "pie", "pies", "burger", "burgers",
    "bowl", "bowls", "dish", "dishes", "shirt", "shirts", "item", "items",
];

/// Spellings of the same unit of measure, as option values use them after a number.
#[rustfmt::skip]
pub const UNITS_OF_MEASURE: &[&[&str]] = &[
    &["l", "liter", "liters", "litre", "litres", "ltr"],
    &["ml", "milliliter", "milliliters", "millilitre", "millilitres"],
    &["oz", "ounce", "ounces"],
    &["inch", "inches", "in", "inchs"],
    &["cm", "centimeter", "centimeters", "centimetre", "centimetres"],
    &["g", "gram", "grams", "gr"],
    &["kg", "kilo", "kilos", "kilogram", "kilograms"],
    &["lb", "lbs", "pound", "pounds"],
    &["pc", "pcs", "piece", "pieces"],
];

/// Words that make the following product or option a thing to leave out.
#[rustfmt::skip]
pub const NEGATIONS: &[&str] = &[
    "no", "without", "minus", "sans", "nix", "hold", "skip", "w/o", "avoid", "not", "except",
    "excluding", "exclude", "omit",
];

/// Words that split a message into separate item mentions.
pub const SPLITTERS: &[&str] = &["and", "plus", "also", "then", "or", "n", "nd"];

/// Words before a product that point at a line already in the draft.
pub const DEFINITES: &[&str] = &["the", "my", "that", "this", "those", "these", "our", "them"];

/// Verbs (and stand-ins) that turn what follows into an edit of the draft.
#[rustfmt::skip]
pub const CHANGE_WORDS: &[&str] = &[
    "make", "change", "switch", "update", "set", "turn", "actually", "instead", "rather",
    "correction", "wait", "oops", "modify", "edit", "swap", "replace", "mean", "meant", "sorry",
];

/// Verbs that turn what follows into a removal.
pub const REMOVE_WORDS: &[&str] =
    &["remove", "delete", "drop", "forget", "scratch", "ditch", "lose", "cancel", "nix"];

/// Verbs that turn what follows back into plain ordering.
#[rustfmt::skip]
pub const ADD_WORDS: &[&str] = &[
    "add", "want", "get", "like", "have", "order", "need", "gimme", "give", "bring", "throw",
    "grab", "buy", "include", "also", "plus", "another", "more", "i'll", "ill", "i'd", "id",
    "wanna", "can", "could", "would", "lemme", "adding",
];

/// Words that may surround a bare quantity in "make that 3" without turning it into
/// something other than a quantity ("set the price to 0" is not one).
#[rustfmt::skip]
pub const QUANTITY_FILLERS: &[&str] = &[
    "make", "it", "that", "them", "those", "these", "this", "change", "to", "please", "pls",
    "actually", "instead", "of", "can", "you", "i", "want", "need", "let's", "lets", "do", "just",
    "the", "quantity", "qty", "set", "update", "oh", "wait", "sorry", "ok", "okay", "no", "yeah",
    "yes", "make", "should", "be", "could", "would", "like", "ill", "i'll", "take", "have", "i'd",
    "id", "all", "in", "total", "sorry", "oops", "mean", "meant", "hmm", "um", "uh", "thanks",
    "thx", "so", "then", "change", "up", "bump", "only", "times", "x", "rather", "correction",
    "there", "we", "need", "get", "one", "ones", "of", "pair", "pairs", "pcs", "pieces", "units",
    "orders", "more", "remove", "drop", "delete", "take", "off",
];
