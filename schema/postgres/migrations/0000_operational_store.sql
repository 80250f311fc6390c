CREATE TYPE "public"."api_key_role" AS ENUM('public', 'contributor', 'auditor', 'operator');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('queued', 'running', 'done', 'failed');--> statement-breakpoint
CREATE TYPE "public"."payout_batch_status" AS ENUM('pending', 'signed', 'posted', 'confirmed', 'revoked', 'failed');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"role" "api_key_role" NOT NULL,
	"payer_address" text,
	"label" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_key_hash_hex" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "api_keys_payer_address_hex" CHECK ("api_keys"."payer_address" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" "job_status" DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payout_batch_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "payout_batch_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_id" bigint NOT NULL,
	"from_status" "payout_batch_status",
	"to_status" "payout_batch_status" NOT NULL,
	"actor" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payout_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "payout_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"epoch" bigint NOT NULL,
	"nonce" bigint NOT NULL,
	"status" "payout_batch_status" DEFAULT 'pending' NOT NULL,
	"root" text NOT NULL,
	"total" numeric(78, 0) NOT NULL,
	"score_file_hash" text NOT NULL,
	"signer_set_version" bigint NOT NULL,
	"signatures" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tx_hash" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payout_batches_epoch_nonce" UNIQUE("epoch","nonce"),
	CONSTRAINT "payout_batches_epoch_nonce_nonnegative" CHECK ("payout_batches"."epoch" >= 0 AND "payout_batches"."nonce" >= 0),
	CONSTRAINT "payout_batches_root_hex" CHECK ("payout_batches"."root" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "payout_batches_score_file_hash_hex" CHECK ("payout_batches"."score_file_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "payout_batches_tx_hash_hex" CHECK ("payout_batches"."tx_hash" ~ '^0x[0-9a-f]{64}$'),
	CONSTRAINT "payout_batches_total_uint256" CHECK ("payout_batches"."total" >= 0 AND "payout_batches"."total" <= 115792089237316195423570985008687907853269984665640564039457584007913129639935)
);
--> statement-breakpoint
ALTER TABLE "payout_batch_events" ADD CONSTRAINT "payout_batch_events_batch_id_payout_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payout_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_prefix_idx" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "jobs_queue_idx" ON "jobs" USING btree ("status","kind","run_after");--> statement-breakpoint
CREATE INDEX "payout_batch_events_batch_idx" ON "payout_batch_events" USING btree ("batch_id","id");--> statement-breakpoint
CREATE INDEX "payout_batches_status_idx" ON "payout_batches" USING btree ("status");