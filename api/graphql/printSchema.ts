// Prints the schema in SDL, for api/graphql/schema.graphql (a test keeps that file current):
//   npx tsx api/graphql/printSchema.ts > api/graphql/schema.graphql
import { printSchema } from 'graphql/index.js';
import { buildSchema } from './schema.ts';

export const schemaSdl = (): string => `${printSchema(buildSchema())}\n`;

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(schemaSdl());
