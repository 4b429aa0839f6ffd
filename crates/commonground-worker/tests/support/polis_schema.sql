-- The part of Polis's PostgreSQL schema that Polis's math worker reads and writes, for tests.
--
-- Source: the compdemocracy/polis repository, server/postgres/migrations/000000_initial.sql
-- (the PostgreSQL 14+ form, whose votes rule sets `modified = excluded.modified` as
-- 000006_update_votes_rule.sql does), plus the later migrations of Polis's release list
-- (server/postgres/migrations/release.txt) that touch these tables:
--   000008_add_comment_priority.sql (also stored as 000007_add_comment_priority.sql):
--       conversations.priority_type, votes.high_priority
--   000015_add_xid_requirements.sql: conversations.xid_required
--   000016_add_orig_id.sql: comments.original_id
--   000018_add_topics_enabled.sql: conversations.topics_enabled
--   000022_add_poll_timestamp_indexes.sql: votes_created_idx, comments_modified_idx (built here
--       with a plain CREATE INDEX, as that migration does on an empty database)
-- Column names, types, defaults, NOT NULLs, unique constraints, indexes, the tid trigger and the
-- votes rule are copied as Polis has them. Trimmed: the tables the worker does not touch, and
-- with them the foreign keys to tables not created here (conversations.owner, org_id and
-- course_id reference users/courses and are left out; comments' FOREIGN KEY (zid, pid) REFERENCES
-- participants is left out, so a test needs no participants or users rows).
--
-- Things that surprise (all as in Polis):
-- * conversations.zid is SERIAL with UNIQUE(zid), not a PRIMARY KEY.
-- * The tid_auto trigger OVERWRITES every inserted comments.tid with MAX(tid) + 1 of its
--   conversation (0 for the first): explicit tids survive only when inserted in order 0, 1, 2, ...
--   It takes a session-level advisory lock in BEFORE INSERT and releases it in AFTER INSERT, so an
--   insert that fails in between (e.g. a duplicate (zid, txt)) leaves the lock held by that
--   session, and other sessions inserting comments into the same conversation then wait until it
--   disconnects.
-- * Inserting into votes also upserts votes_latest_unique (a rule), with modified = votes.created.
-- * votes_latest_unique_zid_tid_idx is created ON votes, not on votes_latest_unique.
-- * math_ticks.math_tick defaults to 0 (the first upsert returns 0), math_main/math_bidtopid/
--   math_ptptstats.math_tick default to -1; math_ticks.zid is nullable.

CREATE OR REPLACE FUNCTION now_as_millis() RETURNS BIGINT AS $$
        DECLARE
            temp TIMESTAMP := now();
        BEGIN
            -- NOTE: milliseconds includes the seconds, so subtracting seconds from milliseconds
            -- SEE: http://www.postgresql.org/docs/8.4/static/functions-datetime.html
            RETURN 1000*FLOOR(EXTRACT(EPOCH FROM temp)) + FLOOR(EXTRACT(MILLISECONDS FROM temp)) - 1000*FLOOR(EXTRACT(SECOND FROM temp));
        END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION to_millis(t TIMESTAMP WITH TIME ZONE) RETURNS BIGINT AS $$
        BEGIN
            RETURN 1000*FLOOR(EXTRACT(EPOCH FROM t)) + FLOOR(EXTRACT(MILLISECONDS FROM t)) - 1000*FLOOR(EXTRACT(SECOND FROM t));
        END;
$$ LANGUAGE plpgsql;


CREATE TABLE conversations(
    zid SERIAL,
    topic VARCHAR(1000), -- default as time in the presentation layer
    description VARCHAR(50000),
    link_url VARCHAR(9999), -- a url to some other page
    parent_url VARCHAR(9999), -- url of this embedded conversation's parent frame
    upvotes INTEGER NOT NULL DEFAULT 1, -- upvotes for the conversation as a whole
    participant_count INTEGER DEFAULT 0,
    is_anon BOOLEAN DEFAULT TRUE,
    is_active BOOLEAN DEFAULT FALSE,
    is_draft BOOLEAN DEFAULT FALSE, -- TODO check default
    is_public BOOLEAN DEFAULT TRUE,
    is_data_open BOOLEAN DEFAULT FALSE, -- anyone can export a data dump
    profanity_filter BOOLEAN DEFAULT TRUE,
    spam_filter BOOLEAN DEFAULT TRUE,
    strict_moderation BOOLEAN DEFAULT FALSE,
    prioritize_seed BOOLEAN DEFAULT FALSE,
    vis_type INTEGER NOT NULL DEFAULT 0, -- for now, vis=1 is on, vis=0 is off
    write_type INTEGER NOT NULL DEFAULT 1, -- for now, 1 shows comment form, 0 hides the comment form
    help_type INTEGER NOT NULL DEFAULT 1, -- 0 for disabled, 1 for enabled
    write_hint_type INTEGER NOT NULL DEFAULT 1, -- 1 for under comment form, 0 for off
    style_btn VARCHAR(500),
    socialbtn_type INTEGER NOT NULL DEFAULT 0, -- 0 for none, 1 for all,
    subscribe_type INTEGER NOT NULL DEFAULT 1, -- 0 for none, 1 for email,
    branding_type INTEGER NOT NULL DEFAULT 1, -- 0 for polis branding, 1 for none,
    bgcolor VARCHAR(20),
    help_bgcolor VARCHAR(20),
    help_color VARCHAR(20),
    email_domain VARCHAR(200), -- space separated domain names, "microsoft.com google.com"
    use_xid_whitelist BOOLEAN DEFAULT FALSE, -- check xid whitelist

    -- Trimmed (reference users/courses): owner INTEGER REFERENCES users(uid),
    -- org_id INTEGER REFERENCES users(uid), course_id INTEGER REFERENCES courses(course_id)

    context VARCHAR(1000), -- for things like a semester of a class, etc
    owner_sees_participation_stats BOOLEAN DEFAULT FALSE,

    auth_needed_to_vote BOOLEAN, -- if null, server will default to FALSE
    auth_needed_to_write BOOLEAN, -- if null, server will default to TRUE
    auth_opt_fb BOOLEAN, -- if null, server will default to TRUE
    auth_opt_tw BOOLEAN, -- if null, server will default to TRUE
    auth_opt_allow_3rdparty BOOLEAN, -- if null, server will default to TRUE

    modified BIGINT DEFAULT now_as_millis(),
    created BIGINT DEFAULT now_as_millis(),
    UNIQUE(zid)
);

-- 000008_add_comment_priority.sql
ALTER TABLE conversations
  ADD priority_type BOOLEAN NOT NULL
    DEFAULT (false);
-- 000015_add_xid_requirements.sql
ALTER TABLE conversations
ADD COLUMN xid_required BOOLEAN NOT NULL DEFAULT false;
-- 000018_add_topics_enabled.sql
ALTER TABLE conversations
ADD COLUMN topics_enabled BOOLEAN NOT NULL DEFAULT false;


CREATE TABLE comments(
    tid INTEGER NOT NULL, -- populated by trigger tid_auto
    zid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    created BIGINT DEFAULT now_as_millis(),
    modified BIGINT DEFAULT now_as_millis(),
    txt VARCHAR(1000) NOT NULL, -- TODO ensure not empty
    velocity REAL NOT NULL DEFAULT 1,
    mod INTEGER NOT NULL DEFAULT 0,-- {-1,0,1} where -1 is reject, 0 is no action, and 1 is accept
    lang VARCHAR(10), -- 'en', 'en-US', etc
    lang_confidence REAL, -- float between 0 and 1 indicating confidence in language detection
    active BOOLEAN NOT NULL DEFAULT TRUE, -- will be false if the comment should not be shown.
    is_meta BOOLEAN NOT NULL DEFAULT FALSE,
    tweet_id BIGINT, -- Used when this comment is an imported tweet, else null.
    quote_src_url VARCHAR(1000), -- URL for a page where the (presumably) famous person's quote can be found
    anon BOOLEAN NOT NULL DEFAULT false, -- if true, the author of the comment will not be shown.
    is_seed BOOLEAN NOT NULL DEFAULT false,
    UNIQUE(zid, txt),
    UNIQUE(zid, tid)
    -- Trimmed: FOREIGN KEY (zid, pid) REFERENCES participants (zid, pid)
);
CREATE INDEX comments_zid_idx ON comments USING btree (zid);

-- 000016_add_orig_id.sql
ALTER TABLE comments
ADD COLUMN original_id UUID NULL;

CREATE OR REPLACE FUNCTION tid_auto()
    RETURNS trigger AS $$
DECLARE
    _magic_id constant int := 873791984; -- This is a magic key used for locking conversation row-sets within the comments table.
    _conversation_id int;
BEGIN
    _conversation_id = NEW.zid;

    -- Obtain an advisory lock on the comments table, limited to this conversation
    PERFORM pg_advisory_lock(_magic_id, _conversation_id);

    SELECT  COALESCE(MAX(tid) + 1, 0) -- Start with comment id of 0
    INTO    NEW.tid
    FROM    comments
    WHERE   zid = NEW.zid;

    RETURN NEW;
END;
$$ LANGUAGE plpgsql STRICT;

CREATE TRIGGER tid_auto
    BEFORE INSERT ON comments
    FOR EACH ROW -- WHEN (NEW.tid = 0 || NEW.tid = null)
    EXECUTE PROCEDURE tid_auto();

CREATE OR REPLACE FUNCTION tid_auto_unlock()
    RETURNS trigger AS $$
DECLARE
    _magic_id constant int := 873791984;
    _conversation_id int;
BEGIN
    _conversation_id = NEW.zid;

    -- Release the lock.
    PERFORM pg_advisory_unlock(_magic_id, _conversation_id);

    RETURN NEW;
END;
$$ LANGUAGE plpgsql STRICT;

CREATE TRIGGER tid_auto_unlock
    AFTER INSERT ON comments
    FOR EACH ROW
    EXECUTE PROCEDURE tid_auto_unlock();


CREATE FUNCTION get_visible_comments(the_zid INTEGER) RETURNS TABLE (tid INTEGER, mod INTEGER, strict_moderation BOOLEAN) AS $$
    select comments.tid, comments.mod, conversations.strict_moderation from comments left join conversations on comments.zid = conversations.zid where active = true and mod >= (CASE WHEN strict_moderation=TRUE then 1 else 0 END) and comments.zid = the_zid;
$$ LANGUAGE SQL;


CREATE TABLE worker_tasks (
  created BIGINT DEFAULT now_as_millis(),
  math_env VARCHAR(999) NOT NULL,
  attempts SMALLINT NOT NULL DEFAULT 0,
  task_data JSONB NOT NULL,
  task_type VARCHAR(99),
  task_bucket BIGINT, -- the zid of a convo, or the rid of a report.
  finished_time BIGINT -- null by default. A non-null value here also serves as the 'done' flag.
);


CREATE TABLE math_ticks (
    zid INTEGER REFERENCES conversations(zid),
    math_tick BIGINT NOT NULL DEFAULT 0,
    caching_tick BIGINT NOT NULL DEFAULT 0, -- set this to MAX(caching_tick) + 1. When the server is populating the cache it can use this to find new items.
    math_env VARCHAR(999) NOT NULL,
    modified BIGINT NOT NULL DEFAULT now_as_millis(),
    UNIQUE (zid, math_env)
);

CREATE TABLE math_main (
  zid INTEGER NOT NULL REFERENCES conversations(zid),
  math_env VARCHAR(999) NOT NULL,
  data jsonb NOT NULL,
  last_vote_timestamp BIGINT NOT NULL,
  caching_tick BIGINT NOT NULL DEFAULT 0,
  math_tick BIGINT NOT NULL DEFAULT -1, -- this will get its value from math_ticks
  modified BIGINT DEFAULT now_as_millis(),
  UNIQUE(zid, math_env)
);
CREATE INDEX main_main_idx ON math_main USING btree (zid);

CREATE TABLE math_profile (
  zid INTEGER NOT NULL REFERENCES conversations(zid),
  math_env VARCHAR(999) NOT NULL,
  data jsonb NOT NULL,
  modified BIGINT DEFAULT now_as_millis(),
  UNIQUE(zid, math_env)
);
CREATE INDEX main_profile_idx ON math_profile USING btree (zid);

CREATE TABLE math_ptptstats (
  zid INTEGER NOT NULL REFERENCES conversations(zid),
  math_env VARCHAR(999) NOT NULL,
  math_tick BIGINT NOT NULL DEFAULT -1, -- this will get its value from math_ticks
  data jsonb NOT NULL,
  modified BIGINT DEFAULT now_as_millis(),
  UNIQUE(zid, math_env)
);
CREATE INDEX math_ptptstats_idx ON math_ptptstats USING btree (zid);

CREATE TABLE math_bidtopid (
  zid INTEGER NOT NULL REFERENCES conversations(zid),
  math_env VARCHAR(999) NOT NULL,
  math_tick BIGINT NOT NULL DEFAULT -1, -- this will get its value from math_ticks
  data jsonb NOT NULL,
  modified BIGINT DEFAULT now_as_millis(),
  UNIQUE(zid, math_env)
);
CREATE INDEX math_bidtopid_idx ON math_bidtopid USING btree (zid);

CREATE TABLE math_exportstatus (
  zid INTEGER NOT NULL REFERENCES conversations(zid),
  math_env VARCHAR(999) NOT NULL,
  filename VARCHAR(9999) NOT NULL,
  data jsonb NOT NULL,
  modified BIGINT DEFAULT now_as_millis(),
  UNIQUE(zid, math_env)
);
CREATE INDEX math_exportstatus_idx ON math_exportstatus USING btree (zid);


-- not enforcing uniqueness, save complete history
CREATE TABLE votes(
    zid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,

    vote SMALLINT,

    -- Divide by 32767 before using! (and multiply by 32767 before storing). Applications should
    -- refer to this as "weight" after converting to a float in the range [-1, 1].
    -- -1.0 for "Don't show", 1.0 for "Show a lot", 0.0 is default.
    weight_x_32767 SMALLINT DEFAULT 0,

    created BIGINT DEFAULT now_as_millis()
);
CREATE INDEX votes_zid_pid_idx ON votes USING btree (zid, pid);

-- 000008_add_comment_priority.sql
ALTER TABLE votes
  ADD high_priority BOOLEAN NOT NULL
    DEFAULT (false);

CREATE TABLE votes_latest_unique (
    zid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,

    vote SMALLINT,

    weight_x_32767 SMALLINT DEFAULT 0,

    modified BIGINT DEFAULT now_as_millis(),
    UNIQUE (zid, pid, tid)
);
-- (sic: on votes, as in Polis)
CREATE INDEX votes_latest_unique_zid_tid_idx ON votes USING btree (zid, tid);

-- As 000006_update_votes_rule.sql defines it (works on PostgreSQL 14+).
CREATE RULE on_vote_insert_update_unique_table AS
    ON INSERT TO votes
    DO ALSO
        INSERT INTO votes_latest_unique (zid, pid, tid, vote, weight_x_32767, modified)
        values (NEW.zid, NEW.pid, NEW.tid, NEW.vote, NEW.weight_x_32767, NEW.created)
            ON CONFLICT (zid, pid, tid) DO UPDATE SET vote = excluded.vote, modified = excluded.modified;

-- 000022_add_poll_timestamp_indexes.sql (the math pollers' watermark queries)
CREATE INDEX votes_created_idx ON public.votes USING btree (created);
CREATE INDEX comments_modified_idx ON public.comments USING btree (modified);
