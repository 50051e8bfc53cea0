-- Times are UTC unix nanoseconds; 0 is the zero time.

-- The event index. Its rows and indexes hold small integers: the strings
-- an event is looked up by are kept once each, in keys (identities, matched
-- ignoring ASCII case) and names (vault ids, object and caller names, matched
-- exactly), so that an index entry is a few bytes whatever the length of an
-- Azure resource id. The writer caches the mapping.
CREATE TABLE keys (
	id INTEGER PRIMARY KEY,
	v  TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE names (
	id INTEGER PRIMARY KEY,
	v  TEXT NOT NULL UNIQUE
);

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,  -- given by the writer, in commit order
	bucket      INTEGER GENERATED ALWAYS AS (id >> 13) VIRTUAL,
	t           INTEGER NOT NULL,
	vault       INTEGER NOT NULL,  -- names: the vault id
	object      INTEGER,           -- names: the object name
	ip          INTEGER,           -- keys: the address
	principal   INTEGER,           -- keys: store.Principal
	object_id   INTEGER,           -- keys
	upn         INTEGER,           -- keys
	app_id      INTEGER,           -- keys
	caller_name INTEGER,           -- names: a readable name of the caller
	denied      INTEGER NOT NULL   -- 1 when denied or unauthenticated
);
-- The events as JSON, in compressed blocks of events with consecutive ids
-- (see docs.go); id is the block's first event's, n its number of events.
CREATE TABLE event_docs (
	id   INTEGER PRIMARY KEY,
	n    INTEGER NOT NULL,
	data BLOB NOT NULL
);
-- No index by time alone: the events with consecutive ids, whose times
-- event_buckets bounds, are read by id instead.
-- Covers the top callers of a vault in a time range.
CREATE INDEX events_vault ON events (vault, t, principal, denied, caller_name);
CREATE INDEX events_app_id ON events (app_id, t) WHERE app_id IS NOT NULL;
-- The indexes of the keys with many values lead with the bucket: a batch
-- of events adds to the ends of these indexes, not to one page per value.
-- The principal of a caller with an object id is that id: the object id
-- filter goes through events_principal too.
CREATE INDEX events_object ON events (bucket, object, t) WHERE object IS NOT NULL;
CREATE INDEX events_ip ON events (bucket, ip, t) WHERE ip IS NOT NULL;
CREATE INDEX events_principal ON events (bucket, principal, t) WHERE principal IS NOT NULL;
CREATE INDEX events_upn ON events (bucket, upn, t) WHERE upn IS NOT NULL;

-- The time span of each bucket's events.
CREATE TABLE event_buckets (
	bucket INTEGER PRIMARY KEY,
	min_t  INTEGER NOT NULL,
	max_t  INTEGER NOT NULL
);
CREATE INDEX event_buckets_max_t ON event_buckets (max_t);

CREATE TABLE vaults (
	id       TEXT PRIMARY KEY,
	provider TEXT NOT NULL,
	name     TEXT NOT NULL,
	first_t  INTEGER NOT NULL,
	last_t   INTEGER NOT NULL,
	events   INTEGER NOT NULL,
	denials  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
	id            TEXT PRIMARY KEY,
	type          TEXT NOT NULL,
	severity      TEXT NOT NULL,
	vault_id      TEXT NOT NULL,
	start_t       INTEGER NOT NULL,
	end_t         INTEGER NOT NULL,
	status        TEXT NOT NULL,
	version       INTEGER NOT NULL,
	created_t     INTEGER NOT NULL,
	updated_t     INTEGER NOT NULL,
	status_by     TEXT NOT NULL,
	suppressed_by TEXT NOT NULL DEFAULT '',
	doc           BLOB NOT NULL
);
-- Each covers the filters of the alert list, for its counts and pages.
CREATE INDEX alerts_start ON alerts (start_t, id, status, severity, type, end_t, suppressed_by);
CREATE INDEX alerts_status ON alerts (status, start_t, id, severity, type, end_t, suppressed_by);
CREATE INDEX alerts_type ON alerts (type, start_t, id, status, severity, end_t, suppressed_by);

CREATE TABLE alert_history (
	seq       INTEGER PRIMARY KEY,
	alert_id  TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	status    TEXT NOT NULL,
	actor     TEXT NOT NULL,
	comment   TEXT NOT NULL,
	at        INTEGER NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);

-- kind: ip, object_id, upn, app_id, principal (entity filter) or vault.
CREATE TABLE alert_entities (
	alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	kind     TEXT NOT NULL,
	value    TEXT NOT NULL COLLATE NOCASE,
	PRIMARY KEY (alert_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX alert_entities_value ON alert_entities (value, kind, alert_id);

-- The open (active or in progress) and unsuppressed alerts of each vault
-- an alert names, by severity, kept as alerts and statuses change.
CREATE TABLE open_alerts (
	vault    TEXT NOT NULL,
	severity TEXT NOT NULL,
	n        INTEGER NOT NULL,
	PRIMARY KEY (vault, severity)
) WITHOUT ROWID;

CREATE TABLE engine_state (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	data    BLOB NOT NULL,
	saved_t INTEGER NOT NULL
);

CREATE TABLE cursors (
	source TEXT NOT NULL,
	name   TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (source, name)
) WITHOUT ROWID;

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_t     INTEGER NOT NULL,
	disabled      INTEGER NOT NULL
);

CREATE TABLE sessions (
	id_hash   TEXT PRIMARY KEY,
	user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	csrf      TEXT NOT NULL,
	created_t INTEGER NOT NULL,
	expires_t INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_t);

CREATE TABLE api_tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	source     TEXT NOT NULL,
	created_t  INTEGER NOT NULL,
	last_used  INTEGER NOT NULL,
	revoked    INTEGER NOT NULL
);

CREATE TABLE rules (
	id          TEXT PRIMARY KEY,
	version     INTEGER NOT NULL,
	type        TEXT NOT NULL,
	matchers    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	comment     TEXT NOT NULL,
	author      TEXT NOT NULL,
	starts_t    INTEGER NOT NULL,
	ends_t      INTEGER NOT NULL,
	disabled    INTEGER NOT NULL,
	created_t   INTEGER NOT NULL,
	updated_t   INTEGER NOT NULL,
	matched_t   INTEGER NOT NULL,
	matches     INTEGER NOT NULL
);

-- Events counted per vault, hour and principal (ids of names and keys),
-- for the top callers over long ranges.
CREATE TABLE callers (
	vault     INTEGER NOT NULL,
	hour      INTEGER NOT NULL, -- unix nanoseconds of the hour's start
	principal INTEGER NOT NULL,
	events    INTEGER NOT NULL,
	denials   INTEGER NOT NULL,
	last_t    INTEGER NOT NULL,
	name      INTEGER,          -- the greatest caller_name id seen
	PRIMARY KEY (vault, hour, principal)
) WITHOUT ROWID;
CREATE INDEX callers_hour ON callers (hour);

-- Events counted per vault, minute and class, for the activity charts.
CREATE TABLE activity (
	vault_id TEXT NOT NULL,
	minute   INTEGER NOT NULL, -- unix nanoseconds of the minute's start
	class    TEXT NOT NULL,
	events   INTEGER NOT NULL,
	denials  INTEGER NOT NULL,
	PRIMARY KEY (vault_id, minute, class)
) WITHOUT ROWID;
CREATE INDEX activity_minute ON activity (minute);
