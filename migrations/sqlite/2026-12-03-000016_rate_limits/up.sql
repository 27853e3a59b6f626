-- Attempt counters shared by every instance: sign-in and access-link codes per address.
-- One row per bucket holds the current fixed window and the count of the one before, which
-- together give a sliding-window estimate.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    previous_hits INTEGER NOT NULL
);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
