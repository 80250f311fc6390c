ALTER TABLE "api_keys" ADD COLUMN "grant_digest" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_grant_digest_unique" UNIQUE("grant_digest");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_grant_digest_hex" CHECK ("api_keys"."grant_digest" ~ '^0x[0-9a-f]{64}$');