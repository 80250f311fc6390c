// Attribution on a schedule (`tributary up`, `tributary attribute --watch`): every interval, if an epoch has
// ended since the newest posted batch, attribute it (one batch covers every epoch since the previous
// one). Before the first tick, batches a crash left half-way are moved forward. Waiting is normal: the
// previous batch still in its dispute window, or the indexer behind, are logged and retried on the next
// tick; anything else is logged as an error and also retried, since the chain or a store may come back.
import { getEpochClock, getSettlementState, TributaryError } from '../../contracts/index.ts';
import { attributeEpoch, type AttributeEpochContext, type AttributeEpochOptions, type AttributeEpochResult } from './attributeEpoch.ts';

export interface EpochScheduleLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface EpochScheduleOptions extends Omit<AttributeEpochOptions, 'epoch'> {
  intervalMs: number;
  log: EpochScheduleLogger;
  /** Called with each batch the schedule posts. */
  onEpoch?: (r: AttributeEpochResult) => void;
}

export interface EpochSchedule {
  /** Attributes the newest ended epoch if it is due; answers what it posted, if anything. Ticks never overlap. */
  tick(): Promise<AttributeEpochResult | undefined>;
  stop(): Promise<void>;
}

/** The newest ended epoch that no batch covers yet, or undefined. */
export async function dueEpoch(ctx: Pick<AttributeEpochContext, 'chain'>): Promise<bigint | undefined> {
  const [clock, state] = await Promise.all([getEpochClock(ctx.chain), getSettlementState(ctx.chain)]);
  const ended = clock.currentEpoch - 1n;
  return ended > state.lastPostedEpoch ? ended : undefined;
}

export function startEpochSchedule(ctx: AttributeEpochContext, opts: EpochScheduleOptions): EpochSchedule {
  let running: Promise<AttributeEpochResult | undefined> | undefined;
  let stopped = false;
  let resumed = false;
  let lastWait = '';

  async function once(): Promise<AttributeEpochResult | undefined> {
    if (!resumed) {
      for (const r of await ctx.driver.resume()) opts.log.info('payout batch resumed after a restart', { epoch: r.epoch.toString(), status: r.status });
      resumed = true;
    }
    const epoch = await dueEpoch(ctx);
    if (epoch === undefined) return undefined;
    const r = await attributeEpoch(ctx, { ...opts, epoch });
    lastWait = '';
    opts.log.info(`attribution: epoch ${r.epoch} posted`, {
      fromEpoch: r.fromEpoch.toString(),
      inferences: r.inferences,
      attributed: r.attributed,
      paid: r.total.toString(),
      rolledOver: r.rolledOver.toString(),
      accounts: r.amounts.length,
      flagged: r.flags.length,
      root: r.root,
      seconds: Number(r.seconds.toFixed(1)),
    });
    opts.onEpoch?.(r);
    return r;
  }

  function tick(): Promise<AttributeEpochResult | undefined> {
    running ??= once()
      .catch((e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof TributaryError && e.retryable) {
          // Said once per reason, not every interval.
          if (message !== lastWait) opts.log.info(`attribution waits: ${message.split('\n')[0]}`);
          lastWait = message;
        } else opts.log.error('attribution failed; retrying on the next tick', { error: message });
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, opts.intervalMs);
  timer.unref();

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
