// graphql-js, imported so that this part shares one copy with Pothos and yoga. graphql 16 ships
// CommonJS (`main`) and ESM (`module`) builds without an exports map: Node gives packages the
// CommonJS one, while Vite (vitest) would give our sources the ESM one, and two copies refuse each
// other's schemas and errors ("Cannot use GraphQLSchema … from another module or realm"). Naming the
// file picks the same build everywhere. Type-only imports may use 'graphql' directly.
export { GraphQLError, Kind, print, validate } from 'graphql/index.js';
