CREATE TYPE "public"."usage_batch_status" AS ENUM('pending', 'settled', 'failed');--> statement-breakpoint
CREATE TYPE "public"."usage_outcome" AS ENUM('settled', 'rejected');--> statement-breakpoint
CREATE TABLE "inference_log_outbox" (
	"request_id" text PRIMARY KEY NOT NULL,
	"row" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inference_log_outbox_request_id_hex" CHECK ("inference_log_outbox"."request_id" ~ '^0x[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "usage_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"operator" text NOT NULL,
	"number" bigint NOT NULL,
	"status" "usage_batch_status" DEFAULT 'pending' NOT NULL,
	"item_count" integer NOT NULL,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_batches_operator_hex" CHECK ("usage_batches"."operator" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "usage_batches_number_positive" CHECK ("usage_batches"."number" >= 1),
	CONSTRAINT "usage_batches_item_count_positive" CHECK ("usage_batches"."item_count" >= 1),
	CONSTRAINT "usage_batches_tx_hash_hex" CHECK ("usage_batches"."tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "usage_batches_settled_tx" CHECK ("usage_batches"."status" <> 'settled' OR "usage_batches"."tx_hash" IS NOT NULL)
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"request_id" text PRIMARY KEY NOT NULL,
	"payer" text NOT NULL,
	"model_id" bigint NOT NULL,
	"tokens_in" bigint NOT NULL,
	"tokens_out" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"batch_id" bigint,
	"outcome" "usage_outcome",
	CONSTRAINT "usage_records_request_id_hex" CHECK ("usage_records"."request_id" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "usage_records_payer_hex" CHECK ("usage_records"."payer" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "usage_records_model_id_nonnegative" CHECK ("usage_records"."model_id" >= 0),
	CONSTRAINT "usage_records_tokens_uint32" CHECK ("usage_records"."tokens_in" BETWEEN 0 AND 4294967295 AND "usage_records"."tokens_out" BETWEEN 0 AND 4294967295),
	CONSTRAINT "usage_records_outcome_batched" CHECK ("usage_records"."outcome" IS NULL OR "usage_records"."batch_id" IS NOT NULL)
);
--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_batch_id_usage_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."usage_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inference_log_outbox_created_idx" ON "inference_log_outbox" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_batches_operator_number" ON "usage_batches" USING btree ("operator","number") WHERE "usage_batches"."status" <> 'failed';--> statement-breakpoint
CREATE UNIQUE INDEX "usage_batches_one_pending" ON "usage_batches" USING btree ("operator") WHERE "usage_batches"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "usage_records_unbatched_idx" ON "usage_records" USING btree ("created_at","request_id") WHERE "usage_records"."batch_id" IS NULL;--> statement-breakpoint
CREATE INDEX "usage_records_batch_idx" ON "usage_records" USING btree ("batch_id");