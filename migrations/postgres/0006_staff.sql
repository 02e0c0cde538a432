-- Staff accounts (CONTRACTS §5): who may sign in to the staff console and the staff API.

CREATE TABLE staff_accounts (
    id            TEXT        PRIMARY KEY,
    -- Lowercased by the app before it is stored or looked up, so the unique key is
    -- case-insensitive in effect.
    email         TEXT        NOT NULL UNIQUE,
    role          TEXT        NOT NULL CHECK (role IN ('admin', 'agent')),
    -- A PHC string ($argon2id$v=19$…): algorithm, parameters, salt and hash.
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    -- Set when the account may no longer sign in; the row stays for the audit trail.
    disabled_at   TIMESTAMPTZ
);
