// Depth, breadth and complexity limits (QUERY_LIMITS), checked once per operation before anything
// executes, with the variables of the request (a connection's cost follows its `first`/`last`).
// Checked at execution rather than validation because yoga caches validation per document text,
// and the same document with a larger `$first` costs more.
import { createComplexityRule } from '@pothos/plugin-complexity';
import { GraphQLError, validate } from './graphqljs.ts';
import type { Plugin } from 'graphql-yoga';
import { QUERY_LIMITS } from './builder.ts';
import { QUERY_TOO_COMPLEX } from './errors.ts';

export interface QueryLimits {
  complexity: number;
  depth: number;
  breadth: number;
}

/** Measures an operation: depth (a root field is 1), breadth (fields selected) and complexity. */
export interface QueryCost {
  complexity: number;
  depth: number;
  breadth: number;
}

function tooComplex(what: string, actual: number, max: number, hint: string, cost: QueryCost, limits: QueryLimits): GraphQLError {
  return new GraphQLError(`Query ${what} is ${actual}, above the maximum of ${max}: ${hint}`, {
    // A request error, not a field error: nothing ran, so GraphQL over HTTP wants a 4xx status
    // (yoga applies extensions.http and leaves it out of the response).
    extensions: { code: QUERY_TOO_COMPLEX, cost, limits: { ...limits }, http: { status: 400 } },
  });
}

/** The yoga plugin that refuses an operation over `limits` with QUERY_TOO_COMPLEX errors. */
export function useQueryLimits(limits: QueryLimits = QUERY_LIMITS): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const rule = createComplexityRule({
        context: args.contextValue as object,
        variableValues: (args.variableValues ?? {}) as Record<string, unknown>,
        operationName: args.operationName ?? undefined,
        validate: (cost, report) => {
          if (cost.depth > limits.depth) report(tooComplex('depth', cost.depth, limits.depth, 'nest fewer fields', cost, limits));
          if (cost.breadth > limits.breadth) report(tooComplex('breadth', cost.breadth, limits.breadth, 'select fewer fields', cost, limits));
          if (cost.complexity > limits.complexity) {
            report(tooComplex('complexity', cost.complexity, limits.complexity, 'ask for smaller pages (first/last) or fewer nested lists', cost, limits));
          }
        },
      });
      // Only the limits' own errors: invalid variables are left to execution, which reports them
      // as GraphQL over HTTP asks (the rule skips measuring an operation whose variables are invalid).
      const errors = validate(args.schema, args.document, [rule]).filter((e) => e.extensions.code === QUERY_TOO_COMPLEX);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
