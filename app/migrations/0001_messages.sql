-- The guestbook's messages (app/guestbook.py). Applied by `python -m app.migrate` as
-- tap_owner, which owns them; the application role reads and writes them through the
-- schema's default privileges. Migrations run inside the release's one transaction: no
-- CREATE INDEX CONCURRENTLY here.
CREATE TABLE app.messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    text text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The daily report counts the messages of the last day (app/report.py).
CREATE INDEX messages_created_at ON app.messages (created_at);
