-- payout_batch_events is an audit log: rows are only ever appended. Refuse every other change at the
-- database itself, so that no code path (or hand-typed SQL) can rewrite the history of a payout batch.
CREATE FUNCTION "payout_batch_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'payout_batch_events is append-only: % refused', TG_OP
		USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "payout_batch_events_no_update_delete"
	BEFORE UPDATE OR DELETE ON "payout_batch_events"
	FOR EACH ROW EXECUTE FUNCTION "payout_batch_events_append_only"();--> statement-breakpoint
CREATE TRIGGER "payout_batch_events_no_truncate"
	BEFORE TRUNCATE ON "payout_batch_events"
	FOR EACH STATEMENT EXECUTE FUNCTION "payout_batch_events_append_only"();
