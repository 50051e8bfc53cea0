-- Times are UTC unix nanoseconds; 0 is the zero time.

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	t           INTEGER NOT NULL,
	vault_id    TEXT NOT NULL,
	vault_name  TEXT NOT NULL,
	provider    TEXT NOT NULL,
	operation   TEXT NOT NULL,
	class       TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	object_kind TEXT,
	object_name TEXT,
	ip          TEXT COLLATE NOCASE,
	principal   TEXT COLLATE NOCASE,
	caller_name TEXT,
	object_id   TEXT COLLATE NOCASE,
	upn         TEXT COLLATE NOCASE,
	app_id      TEXT COLLATE NOCASE,
	doc         BLOB NOT NULL
);
CREATE INDEX events_t ON events (t);
CREATE INDEX events_vault ON events (vault_id, t);
CREATE INDEX events_object ON events (object_name, t) WHERE object_name IS NOT NULL;
CREATE INDEX events_ip ON events (ip, t) WHERE ip IS NOT NULL;
-- The principal of a caller with an object id is that id: the object id
-- filter goes through this index too.
CREATE INDEX events_principal ON events (principal, t) WHERE principal IS NOT NULL;
CREATE INDEX events_upn ON events (upn, t) WHERE upn IS NOT NULL;
CREATE INDEX events_app_id ON events (app_id, t) WHERE app_id IS NOT NULL;

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
CREATE INDEX alerts_start ON alerts (start_t, id);
CREATE INDEX alerts_status ON alerts (status, start_t, id);
CREATE INDEX alerts_type ON alerts (type, start_t, id);

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
