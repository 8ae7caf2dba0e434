-- What the scheduled job stores (app/report.py): one row per run and report name.
CREATE TABLE app.reports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    value bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
