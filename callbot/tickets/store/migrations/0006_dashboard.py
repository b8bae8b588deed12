"""The supervisor dashboard (issue 6): accounts, sessions, replay log, internal notes,
full-text search over transcripts and slots, and indexes for the list filters.

Numbered after its issue rather than "next free" because several branches add migrations at
once; the runner sorts by number and applies whatever is missing, so gaps are harmless.

Search is kept current by triggers, so the call path (``append_turn``, ``set_slot``) needs no
change and no second write from Python. The text is indexed with Vietnamese diacritics
folded (``quận`` and ``quan`` both find "Quận 3"), because supervisors type both.
- SQLite: an FTS5 table, one row per ticket (rowid = ticket id). unicode61 with
  ``remove_diacritics 2`` folds every tone mark but not ``đ`` (a letter of its own in
  Unicode), so the triggers fold ``đ``/``Đ`` themselves.
- PostgreSQL: a ``tsvector`` column (``simple`` configuration: no stemming, no stop words,
  right for Vietnamese syllables) over ``callbot_fold(text)``, an IMMUTABLE ``translate()``
  with every Latin letter with diacritics, because ``unaccent`` is an extension the callbot's
  role may not be allowed to create. GIN-indexed.
"""

import unicodedata


def _diacritic_letters() -> tuple[str, str]:
    """Every precomposed Latin letter with diacritics, and its bare lower-case letter."""
    source, target = [], []
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base.isascii() and base.isalpha() and base != char:
            source.append(char)
            target.append(base.lower())
    source += ["đ", "Đ"]
    target += ["d", "d"]
    return "".join(source), "".join(target)


_FOLD_FROM, _FOLD_TO = _diacritic_letters()

SQLITE = """
CREATE TABLE dashboard_users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    login               TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,            -- administrator / supervisor / oversight / agency
    agency              TEXT,                     -- agency officers only
    password_hash       TEXT NOT NULL,            -- argon2id
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
-- opens no session. Logout and "users disable" end rows here, which the cookie cannot undo.
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES dashboard_users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);

-- Failed sign-ins, for the per-account-and-address rate limit.
CREATE TABLE dashboard_login_failures (
    login TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX dashboard_login_failures_by_key ON dashboard_login_failures (login, ip, at);

-- Append-only: who listened to which call's recording, when (shown to oversight).
CREATE TABLE recording_replays (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    login     TEXT NOT NULL,
    role      TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    call_id   TEXT
);
CREATE INDEX recording_replays_by_ticket ON recording_replays (ticket_id, id);
CREATE INDEX recording_replays_by_login ON recording_replays (login, id);

-- Internal notes: kept apart from ticket_events so they never reach Open311 status_notes.
CREATE TABLE ticket_notes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    text      TEXT NOT NULL
);
CREATE INDEX ticket_notes_by_ticket ON ticket_notes (ticket_id, id);

-- List filters, each ending in the list order so a filtered page is an index range scan.
-- tickets_open_by_sla covers the overview's open-tickets-by-age query (no table reads).
CREATE INDEX tickets_service_code ON tickets (service_code, requested_datetime DESC, id DESC);
CREATE INDEX tickets_admin_unit ON tickets (admin_unit, requested_datetime DESC, id DESC);
CREATE INDEX tickets_handed_back ON tickets (requested_datetime DESC, id DESC)
    WHERE end_reason = 'handed_back';
CREATE INDEX tickets_incomplete ON tickets (requested_datetime DESC, id DESC)
    WHERE complete = 0;
CREATE INDEX tickets_open_by_sla ON tickets (expected_datetime, requested_datetime)
    WHERE status NOT IN ('resolved', 'closed', 'rejected');

CREATE VIRTUAL TABLE ticket_search USING fts5 (
    transcript, slots, tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO ticket_search (rowid, transcript, slots)
SELECT tickets.id,
       replace(replace(COALESCE(
           (SELECT group_concat(text, ' ') FROM turns WHERE turns.call_id = tickets.call_id),
           ''), 'đ', 'd'), 'Đ', 'D'),
       replace(replace(COALESCE(
           (SELECT group_concat(value, ' ') FROM ticket_slots
            WHERE ticket_slots.ticket_id = tickets.id),
           ''), 'đ', 'd'), 'Đ', 'D')
FROM tickets;

CREATE TRIGGER ticket_search_new_ticket AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, transcript, slots) VALUES (NEW.id, '', '');
END;

CREATE TRIGGER ticket_search_new_turn AFTER INSERT ON turns BEGIN
    UPDATE ticket_search
    SET transcript = transcript || ' ' || replace(replace(NEW.text, 'đ', 'd'), 'Đ', 'D')
    WHERE rowid = (SELECT id FROM tickets WHERE call_id = NEW.call_id);
END;

CREATE TRIGGER ticket_search_slot_inserted AFTER INSERT ON ticket_slots BEGIN
    UPDATE ticket_search
    SET slots = replace(replace(
        (SELECT group_concat(value, ' ') FROM ticket_slots WHERE ticket_id = NEW.ticket_id),
        'đ', 'd'), 'Đ', 'D')
    WHERE rowid = NEW.ticket_id;
END;

CREATE TRIGGER ticket_search_slot_updated AFTER UPDATE ON ticket_slots BEGIN
    UPDATE ticket_search
    SET slots = replace(replace(
        (SELECT group_concat(value, ' ') FROM ticket_slots WHERE ticket_id = NEW.ticket_id),
        'đ', 'd'), 'Đ', 'D')
    WHERE rowid = NEW.ticket_id;
END;
-- Retention (purge_personal_data) blanks turn texts and deletes personal slots: the index
-- must forget them too, or search would still find a purged caller by name or number.
CREATE TRIGGER ticket_search_turn_changed AFTER UPDATE OF text ON turns BEGIN
    UPDATE ticket_search
    SET transcript = replace(replace(COALESCE(
        (SELECT group_concat(text, ' ') FROM turns WHERE call_id = NEW.call_id), ''),
        'đ', 'd'), 'Đ', 'D')
    WHERE rowid = (SELECT id FROM tickets WHERE call_id = NEW.call_id);
END;

CREATE TRIGGER ticket_search_slot_deleted AFTER DELETE ON ticket_slots BEGIN
    UPDATE ticket_search
    SET slots = replace(replace(COALESCE(
        (SELECT group_concat(value, ' ') FROM ticket_slots WHERE ticket_id = OLD.ticket_id),
        ''), 'đ', 'd'), 'Đ', 'D')
    WHERE rowid = OLD.ticket_id;
END;
"""

POSTGRES = f"""
CREATE TABLE dashboard_users (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    login               text NOT NULL UNIQUE,
    role                text NOT NULL,
    agency              text,
    password_hash       text NOT NULL,
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL
);

CREATE TABLE dashboard_sessions (
    token_hash text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES dashboard_users (id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz
);
CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);

CREATE TABLE dashboard_login_failures (
    login text NOT NULL,
    ip    text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX dashboard_login_failures_by_key ON dashboard_login_failures (login, ip, at);

CREATE TABLE recording_replays (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    login     text NOT NULL,
    role      text NOT NULL,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    call_id   text
);
CREATE INDEX recording_replays_by_ticket ON recording_replays (ticket_id, id);
CREATE INDEX recording_replays_by_login ON recording_replays (login, id);

CREATE TABLE ticket_notes (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    text      text NOT NULL
);
CREATE INDEX ticket_notes_by_ticket ON ticket_notes (ticket_id, id);

CREATE INDEX tickets_service_code ON tickets (service_code, requested_datetime DESC, id DESC);
CREATE INDEX tickets_admin_unit ON tickets (admin_unit, requested_datetime DESC, id DESC);
CREATE INDEX tickets_handed_back ON tickets (requested_datetime DESC, id DESC)
    WHERE end_reason = 'handed_back';
CREATE INDEX tickets_incomplete ON tickets (requested_datetime DESC, id DESC)
    WHERE NOT complete;
CREATE INDEX tickets_open_by_sla ON tickets (expected_datetime, requested_datetime)
    WHERE status NOT IN ('resolved', 'closed', 'rejected');

-- Lower-cases and strips diacritics in one translate(): correct whatever the database's
-- collation (lower() alone leaves 'Ậ' as it is under the C locale).
CREATE FUNCTION callbot_fold(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $fold$ SELECT lower(translate(input, '{_FOLD_FROM}', '{_FOLD_TO}')) $fold$;

CREATE TABLE ticket_search (
    ticket_id  bigint PRIMARY KEY REFERENCES tickets (id),
    transcript text NOT NULL DEFAULT '',
    slots      text NOT NULL DEFAULT '',
    document   tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', callbot_fold(transcript || ' ' || slots))) STORED
);
CREATE INDEX ticket_search_document ON ticket_search USING gin (document);

INSERT INTO ticket_search (ticket_id, transcript, slots)
SELECT tickets.id,
       COALESCE((SELECT string_agg(text, ' ' ORDER BY seq) FROM turns
                 WHERE turns.call_id = tickets.call_id), ''),
       COALESCE((SELECT string_agg(value, ' ' ORDER BY name) FROM ticket_slots
                 WHERE ticket_slots.ticket_id = tickets.id), '')
FROM tickets;

CREATE FUNCTION ticket_search_new_ticket() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO ticket_search (ticket_id) VALUES (NEW.id);
    RETURN NULL;
END
$body$;
CREATE TRIGGER ticket_search_new_ticket AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_search_new_ticket();

CREATE FUNCTION ticket_search_new_turn() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE ticket_search SET transcript = transcript || ' ' || NEW.text
    WHERE ticket_id = (SELECT id FROM tickets WHERE call_id = NEW.call_id);
    RETURN NULL;
END
$body$;
CREATE TRIGGER ticket_search_new_turn AFTER INSERT ON turns
    FOR EACH ROW EXECUTE FUNCTION ticket_search_new_turn();

CREATE FUNCTION ticket_search_slot_set() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE ticket_search
    SET slots = (SELECT string_agg(value, ' ' ORDER BY name) FROM ticket_slots
                 WHERE ticket_id = NEW.ticket_id)
    WHERE ticket_id = NEW.ticket_id;
    RETURN NULL;
END
$body$;
CREATE TRIGGER ticket_search_slot_set AFTER INSERT OR UPDATE ON ticket_slots
    FOR EACH ROW EXECUTE FUNCTION ticket_search_slot_set();
-- Retention blanks turn texts and deletes personal slots: rebuild from what is left.
CREATE FUNCTION ticket_search_rebuild() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    changed_ticket bigint;
BEGIN
    IF TG_TABLE_NAME = 'turns' THEN
        SELECT id INTO changed_ticket FROM tickets WHERE call_id = NEW.call_id;
    ELSE
        changed_ticket := OLD.ticket_id;
    END IF;
    UPDATE ticket_search
    SET transcript = COALESCE((SELECT string_agg(turns.text, ' ' ORDER BY seq) FROM turns
                               JOIN tickets ON tickets.call_id = turns.call_id
                               WHERE tickets.id = changed_ticket), ''),
        slots = COALESCE((SELECT string_agg(value, ' ' ORDER BY name) FROM ticket_slots
                          WHERE ticket_id = changed_ticket), '')
    WHERE ticket_id = changed_ticket;
    RETURN NULL;
END
$body$;
CREATE TRIGGER ticket_search_turn_changed AFTER UPDATE OF text ON turns
    FOR EACH ROW EXECUTE FUNCTION ticket_search_rebuild();
CREATE TRIGGER ticket_search_slot_deleted AFTER DELETE ON ticket_slots
    FOR EACH ROW EXECUTE FUNCTION ticket_search_rebuild();
"""
