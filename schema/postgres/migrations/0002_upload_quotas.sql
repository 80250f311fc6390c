CREATE TABLE "upload_quotas" (
	"address" text NOT NULL,
	"day" date NOT NULL,
	"bytes" bigint NOT NULL,
	"uploads" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "upload_quotas_address_day_pk" PRIMARY KEY("address","day"),
	CONSTRAINT "upload_quotas_address_hex" CHECK ("upload_quotas"."address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "upload_quotas_nonnegative" CHECK ("upload_quotas"."bytes" >= 0 AND "upload_quotas"."uploads" >= 0)
);
