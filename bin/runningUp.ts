// Finding the `tributary up` that runs for a data dir: the verbs that need its stores talk to it over
// HTTP on the port it wrote to up.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runningChain } from './chainSession.ts';

/** The port of the `tributary up` running for this data dir, if one is. */
export function runningUpPort(dataDir: string): number | undefined {
  const running = runningChain(dataDir);
  if (running?.source !== 'up') return undefined;
  try {
    const { port } = JSON.parse(readFileSync(join(dataDir, 'up.json'), 'utf8')) as { port?: unknown };
    return typeof port === 'number' ? port : undefined;
  } catch {
    return undefined;
  }
}
