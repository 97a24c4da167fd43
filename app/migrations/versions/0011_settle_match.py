"""settle match: a verifying message in one round trip on PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 07:30:00.000000

The function `reverse_otp_settle_match` (app/store/inbound_sql.py) verifies the challenge a
message's codes name, stores the message and charges its sender's budget in one statement
run in autocommit, exactly as the full decision (app/usecases/inbound.py) would for a message
that verifies a challenge, and returns the challenge's id and creation time. A message whose
codes it tested without settling it stays stored as received with its reservation, for the
full decision to finish; a message it could not test (sender cooling off, no failure left)
it leaves untouched. It returns its own columns, not the table's row type, so the table does
not depend on it. Its conditions are those of `verify_first` (app/store/statements.py) and of
the sender budget (app/limits/rules.py); tests/test_rules_agree.py drives it against both.
SQLite needs no
function: its writers are serial, and the same gates are one UPDATE there.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# States the function returns (app/store/inbound_sql.py reads them):
#   settled    the message verified a challenge: stored as matched, charged as the full
#              decision leaves a verification (a reservation, given back when it was free);
#   undecided  its codes were tested under a reservation and settled nothing: the message is
#              stored as received, the reservation kept; the full decision finishes it (and a
#              redelivery of a message still received finishes it, once);
#   declined   nothing was tested and nothing written (the sender is cooling off or has no
#              failure left): the full decision runs as before;
#   duplicate  the message was stored and decided before.
# The reservation of a tested code is never taken back: a concurrent message of the same
# sender is tested only under a count that holds every code tested before it.
FUNCTION = """
CREATE OR REPLACE FUNCTION reverse_otp_settle_match(
    p_provider text, p_message_id text, p_sender text, p_recipient text, p_text text,
    p_raw json, p_now timestamptz, p_number text, p_hashes text[], p_phone text, p_channel text,
    p_method text, p_counter text, p_block text, p_reset timestamptz, p_limit integer,
    p_spends boolean, p_default_app text, p_default_callback boolean
) RETURNS TABLE (state text, challenge_id text, created_at timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_row challenges;
    v_candidate challenges;
    v_count integer;
    v_inbound integer;
    v_outcome text;
    v_hash text;
BEGIN
    BEGIN
        -- Stored first: a redelivery is recognised before anything is charged or tested.
        INSERT INTO inbound_messages (
            provider, message_id, sender, recipient, text, outcome, challenge_id,
            received_at, raw
        )
        VALUES (
            p_provider, p_message_id, p_sender, p_recipient, p_text, 'received', NULL,
            p_now, p_raw
        )
        ON CONFLICT (provider, message_id) DO NOTHING
        RETURNING id INTO v_inbound;
        IF v_inbound IS NULL THEN
            SELECT m.outcome INTO v_outcome FROM inbound_messages AS m
            WHERE m.provider = p_provider AND m.message_id = p_message_id;
            RETURN QUERY SELECT
                CASE WHEN v_outcome = 'received' THEN 'undecided' ELSE 'duplicate' END,
                NULL::text, NULL::timestamptz;
            RETURN;
        END IF;
        IF p_limit IS NOT NULL THEN
            -- A sender cooling off: the full decision answers sender_blocked.
            IF EXISTS (
                SELECT 1 FROM limit_counters
                WHERE key = p_block AND reset_at > p_now AND count > 0
            ) THEN
                RAISE EXCEPTION USING ERRCODE = 'R0001';
            END IF;
            -- The reservation (Limits.sender_attempt): the row stays locked until the
            -- commit, so concurrent messages of this sender are tested one after another.
            INSERT INTO limit_counters AS lc (key, count, reset_at)
            VALUES (p_counter, 1, p_reset)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN lc.reset_at <= p_now THEN 1 ELSE lc.count + 1 END,
                reset_at = CASE WHEN lc.reset_at <= p_now THEN p_reset ELSE lc.reset_at END
            RETURNING lc.count INTO v_count;
            IF v_count > p_limit THEN
                RAISE EXCEPTION USING ERRCODE = 'R0001';  -- the full decision starts a cool-off
            END IF;
        END IF;
    EXCEPTION WHEN SQLSTATE 'R0001' THEN
        -- Nothing was tested: the message and the reservation are undone.
        RETURN QUERY SELECT 'declined'::text, NULL::text, NULL::timestamptz;
        RETURN;
    END;
    -- From here the message's codes are tested, and the reservation stays whatever comes.
    -- verify_first: the first hash in the message's order naming a challenge this sender
    -- may verify, locked: FOR UPDATE checks the conditions again on the row's latest version,
    -- so the UPDATE below needs only its key. One equality
    -- lookup per hash: both columns of the pending-code index are then its condition
    -- whatever the table's statistics say (`code_hash = ANY (...)` left the hash out of the
    -- index condition on a table never analysed, and every pending challenge of the
    -- number was read).
    FOREACH v_hash IN ARRAY p_hashes LOOP
        SELECT f.* INTO v_candidate FROM challenges AS f
        WHERE f.number = p_number AND f.code_hash = v_hash
            AND f.status = 'pending' AND f.expires_at > p_now
            AND (f.phone IS NULL OR f.phone = p_phone)
            AND strpos(',' || f.channels || ',', ',' || p_channel || ',') > 0
        FOR UPDATE;
        EXIT WHEN v_candidate.id IS NOT NULL;
    END LOOP;
    -- No callback may be due: the outbox row is built in Python, by the full decision.
    IF v_candidate.id IS NOT NULL AND v_candidate.callback_url IS NULL
        AND (CASE WHEN COALESCE(v_candidate.app_id, p_default_app) = p_default_app
            THEN NOT p_default_callback
            ELSE NOT EXISTS (
                SELECT 1 FROM apps
                WHERE apps.id = v_candidate.app_id AND apps.callback_url IS NOT NULL
            )
        END)
    THEN
        UPDATE challenges AS ch SET
            status = 'verified', verified_phone = p_phone, verified_at = p_now,
            ended_at = p_now, method = p_method, channel = p_channel
        WHERE ch.id = v_candidate.id
        RETURNING ch.* INTO v_row;
    END IF;
    IF v_row.id IS NULL THEN
        RETURN QUERY SELECT 'undecided'::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    -- The refund of a free message (app/domain/budget.py spends).
    IF p_limit IS NOT NULL AND NOT p_spends THEN
        UPDATE limit_counters SET count = count - 1 WHERE key = p_counter;
    END IF;
    UPDATE inbound_messages SET outcome = 'matched', challenge_id = v_row.id
    WHERE id = v_inbound;
    RETURN QUERY SELECT 'settled'::text, v_row.id::text, v_row.created_at;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reverse_otp_settle_match")
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reverse_otp_settle_match")
