-- The notification outbox, key-value state for the notifier, and the index
-- the growth feed reads alerts by.

CREATE TABLE outbox (
	id         TEXT PRIMARY KEY,
	receiver   TEXT NOT NULL,
	doc        BLOB NOT NULL,
	created_t  INTEGER NOT NULL,
	next_t     INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	state      TEXT NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	done_t     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (state, next_t, created_t);

CREATE TABLE kv (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

CREATE INDEX alerts_updated ON alerts (updated_t, id);
