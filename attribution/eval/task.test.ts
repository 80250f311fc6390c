import { describe, expect, it } from 'vitest';
import { EvalTaskError, generateEvalTask, TASK_LABELS } from './task.ts';

describe('generateEvalTask', () => {
  const task = generateEvalTask({ seed: 5 });

  it('is a pure function of its seed', () => {
    expect(generateEvalTask({ seed: 5 })).toEqual(task);
    expect(generateEvalTask({ seed: 6 }).rows.map((r) => r.row)).not.toEqual(task.rows.map((r) => r.row));
  });

  it('has the documented shape: 290 rows, 20% flipped on shared villages only, 50 queries', () => {
    expect(task.rows).toHaveLength(25 * 10 + 5 * 8);
    expect(task.rows.filter((r) => r.flipped)).toHaveLength(58);
    for (const r of task.rows) {
      const e = task.entities[r.entity]!;
      expect(r.row.text).toContain(e.name);
      expect(TASK_LABELS).toContain(r.row.label);
      expect(r.row.label === e.label).toBe(!r.flipped);
      if (e.plantedBy !== undefined) {
        expect(r.flipped).toBe(false);
        expect(r.contributor).toBe(e.plantedBy);
      }
    }
    expect(task.queries).toHaveLength(50);
    expect(task.queries.filter((q) => q.plantedBy !== undefined)).toHaveLength(10);
  });

  it('rows are in canonical (contribution, row) order with contiguous row indexes', () => {
    task.rows.forEach((r, i) => {
      expect(r.index).toBe(i);
      expect(r.contributionId).toBe(BigInt(r.contributor + 1));
      if (i > 0 && task.rows[i - 1]!.contributionId === r.contributionId) expect(r.rowIndex).toBe(task.rows[i - 1]!.rowIndex + 1);
    });
  });

  it('queries paraphrase: no query text is a training row, and each names its village with its true label', () => {
    const texts = new Set(task.rows.map((r) => r.row.text));
    for (const q of task.queries) {
      const e = task.entities[q.entity]!;
      expect(texts.has(q.row.text)).toBe(false);
      expect(q.row.text).toContain(e.name);
      expect(q.row.label).toBe(e.label);
    }
  });

  it('shared villages are written by two or three contributors, names never prefix one another', () => {
    task.entities.forEach((e, i) => {
      const writers = new Set(task.rows.filter((r) => r.entity === i).map((r) => r.contributor));
      expect(writers.size).toBe(e.plantedBy === undefined ? Math.min(writers.size, 3) : 1);
      if (e.plantedBy === undefined) expect(writers.size).toBeGreaterThanOrEqual(2);
      for (const other of task.entities) if (other !== e) expect(other.name.startsWith(e.name)).toBe(false);
    });
  });

  it('refuses bad options with the value', () => {
    expect(() => generateEvalTask({ seed: -1 })).toThrow(EvalTaskError);
    expect(() => generateEvalTask({ seed: 1, queries: 5 })).toThrow(/at least 35/);
    expect(() => generateEvalTask({ seed: 1, rowsPerEntity: 99 })).toThrow(/rowsPerEntity must be an integer in \[1, 12\], got 99/);
  });
});
