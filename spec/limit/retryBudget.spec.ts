import { defer, of } from 'rxjs';
import type { SchedulerAction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { retryAfter, retryBudget } from '../../src/index.js';
import type { RetryBudget } from '../../src/index.js';
import { Clock } from '../contract/registry.js';

const busy = { status: 503, headers: new Headers() };

/** `n` withdrawals in a row; how many succeeded. */
function withdraw(budget: RetryBudget, n: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (budget.tryWithdraw()) granted++;
  return granted;
}

describe('retryBudget', () => {
  it('allows ratio x the calls of the last ttl, then refuses; balance tells how many are left', () => {
    const clock = new Clock();
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, ttl: 1000, scheduler: clock });
    expect(budget.balance).toBe(0);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.balance).toBe(5);
    expect(withdraw(budget, 8)).toBe(5);
    expect(budget.balance).toBe(0);
    clock.advance(500);
    for (let i = 0; i < 2; i++) budget.deposit(); // 12 calls: 6 retries in all
    expect(withdraw(budget, 3)).toBe(1);
  });

  it('forgets calls after ttl at the latest, and counts retries for ttl at least (it never allows more)', () => {
    const clock = new Clock();
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, ttl: 1000, scheduler: clock });
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(withdraw(budget, 4)).toBe(4);
    clock.advance(999);
    for (let i = 0; i < 4; i++) budget.deposit(); // 8 calls in 1 s at most, 4 retries still counted
    expect(withdraw(budget, 10)).toBe(4);
    clock.advance(1001); // the first 4 calls are gone by now
    expect(budget.balance).toBeLessThanOrEqual(4);
  });

  it('allows minPerSecond retries in any second without calls, never saved up', () => {
    const clock = new Clock();
    const budget = retryBudget({ ratio: 0, minPerSecond: 3, scheduler: clock });
    expect(withdraw(budget, 5)).toBe(3);
    clock.advance(999);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(101); // 1.1 s: the three are out of the last second
    expect(withdraw(budget, 5)).toBe(3);
    clock.advance(60_000); // a quiet minute saves nothing up
    expect(withdraw(budget, 10)).toBe(3);
  });

  it('the two allowances add up: ratio x calls plus minPerSecond, each spent in its own window', () => {
    const clock = new Clock();
    const budget = retryBudget({ ratio: 0.2, minPerSecond: 10, ttl: 10_000, scheduler: clock });
    for (let i = 0; i < 100; i++) budget.deposit();
    // 0.2 x 100 from the ratio part, 10 more from the per-second part (API.md: "under ratio of the calls plus
    // minPerSecond")
    expect(budget.balance).toBe(30);
    expect(withdraw(budget, 40)).toBe(30);
    expect(budget.balance).toBe(0);
    clock.advance(1100); // the per-second part is free again; the 20 charged to the ratio part still count
    expect(budget.balance).toBe(10);
    expect(withdraw(budget, 40)).toBe(10);
  });

  it('a wall clock stepping back neither refills nor empties it', () => {
    let offset = 0;
    const clock = new Clock();
    const stepping = { now: () => clock.now() + offset, schedule: clock.schedule.bind(clock) };
    const budget = retryBudget({ ratio: 0, minPerSecond: 2, scheduler: stepping });
    expect(withdraw(budget, 3)).toBe(2);
    offset = -3_600_000; // an hour back
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1100);
    expect(withdraw(budget, 3)).toBe(2);
  });

  it('is shared by every retryAfter given it', () => {
    const clock = new Clock();
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, scheduler: clock });
    let sent = 0;
    const request = defer(() => {
      sent++;
      return of(busy);
    });
    const guard = retryAfter({ maxAttempts: 10, defaultDelay: 10, jitter: 0, budget, scheduler: clock });
    const ends: string[] = [];
    for (let i = 0; i < 4; i++) request.pipe(guard).subscribe({ error: (e: Error) => ends.push(e.message) });
    clock.advance(1000);
    // 4 calls earn 2 retries between them: 6 requests, not 40
    expect(sent).toBe(6);
    expect(ends).toHaveLength(4);
    expect(ends.filter((m) => m.includes('the retry budget is spent'))).toHaveLength(4);
  });

  it('validates its options at the call', () => {
    expect(() => retryBudget({ ratio: -1 })).toThrow(
      new RangeError('retryBudget: ratio must be a finite number >= 0, got -1'),
    );
    expect(() => retryBudget({ ttl: 0 })).toThrow(
      new RangeError('retryBudget: ttl must be a positive finite number, got 0'),
    );
    expect(() => retryBudget({ minPerSecond: '1' } as never)).toThrow(TypeError);
    expect(() => retryBudget({ tokens: 1 } as never)).toThrow(/retryBudget: unknown option "tokens"/);
    expect(() => retryAfter({ budget: {} as never })).toThrow(
      new TypeError('retryAfter: budget must be a RetryBudget (from retryBudget()), got an object'),
    );
  });
});

/**
 * The retry storm (issue 21): 100 calls per second for 60 s against a downstream answering 503 to everything, each
 * through `retryAfter({ maxAttempts: 10 })` (100 ms between attempts). Counted: requests the downstream sees in each
 * second.
 */
function storm(budget: RetryBudget | undefined, clock: Clock): number[] {
  const perSecond: number[] = new Array(62).fill(0);
  const request = defer(() => {
    perSecond[Math.floor(clock.now() / 1000)]!++;
    return of(busy);
  });
  const guard = retryAfter({ maxAttempts: 10, defaultDelay: 100, jitter: 0, scheduler: clock, budget });
  let calls = 0;
  clock.schedule(function (this: SchedulerAction<unknown>) {
    request.pipe(guard).subscribe({ error: () => undefined });
    if (++calls < 6000) this.schedule(undefined, 10); // one call every 10 ms
  });
  clock.advance(62_000);
  return perSecond;
}

describe('the retry storm', () => {
  it('without a budget the downstream sees 10x the calls; with one at most (1 + ratio) x calls + minPerSecond', () => {
    const without = storm(undefined, new Clock());
    const clock = new Clock();
    const withBudget = storm(retryBudget({ ratio: 0.2, minPerSecond: 10, scheduler: clock }), clock);
    const steady = (counts: number[]): number[] => counts.slice(2, 60);
    // without: from the second second on, each second carries 100 new calls and 9 retries of each of 100 earlier ones
    expect(steady(without).every((n) => n === 1000)).toBe(true);
    // with: every second, the first included, within 100 + 0.2 x 100 + 10
    expect(Math.max(...withBudget)).toBeLessThanOrEqual(130);
    expect(Math.min(...steady(withBudget))).toBeGreaterThanOrEqual(100);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    // both allowances are spent: well above 100 + 0.2 x 100 (the ratio part alone), below the bound
    expect(mean(steady(withBudget))).toBeGreaterThan(120);
    console.log(
      `retry storm, 100 calls/s answered 503, maxAttempts 10: downstream requests per second ` +
        `without a budget mean ${mean(steady(without))} (max ${Math.max(...without)}); ` +
        `with retryBudget({ ratio: 0.2, minPerSecond: 10 }) mean ${mean(steady(withBudget)).toFixed(1)} ` +
        `(max ${Math.max(...withBudget)}, first second ${withBudget[0]})`,
    );
  });
});
