-- Callers counted by UTC day as well as by hour: a month of a vault's top
-- callers adds up 30 rows per caller instead of 720.
CREATE TABLE callers_day (
	vault     INTEGER NOT NULL,
	day       INTEGER NOT NULL, -- unix nanoseconds of the UTC day's start
	principal INTEGER NOT NULL,
	events    INTEGER NOT NULL,
	denials   INTEGER NOT NULL,
	last_t    INTEGER NOT NULL,
	name      INTEGER,
	PRIMARY KEY (vault, day, principal)
) WITHOUT ROWID;

INSERT INTO callers_day (vault, day, principal, events, denials, last_t, name)
	SELECT vault, hour - (hour % 86400000000000), principal, sum(events), sum(denials), max(last_t), max(name)
	FROM callers WHERE hour >= 0 GROUP BY vault, hour - (hour % 86400000000000), principal;
