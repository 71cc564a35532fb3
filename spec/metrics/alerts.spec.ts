import { Subject, map, take, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, dropOnFull } from '../../src/index.js';
import type { QueueAlert } from '../../src/metrics/alerts.js';
import { CREDITS } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

describe('QueueMetrics.alerts', () => {
  it('raises the depth alert at the first evaluation over 80% of capacity and clears it at the first one under', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      const source = hot('  1500ms (abcdefghi)');
      const demand = hot('  3200ms 9', CREDITS);
      const alertsSub = '   ^ 5500ms !';
      const expected = '    2000ms r 1999ms c';
      // 9 of 10 queued from 1.5 s: evaluated at 2 s (0.9 > 0.8); drained at 3.2 s: evaluated at 4 s.
      source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
      expectObservable(metrics.alerts(), alertsSub).toBe(expected, {
        r: { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 2000 },
        c: { kind: 'depth', state: 'cleared', value: 0, threshold: 0.8, at: 4000 },
      });
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('does not raise the depth alert at exactly the ratio', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      const source = hot('  100ms (abcdefgh)');
      source.pipe(dropOnFull({ capacity: 10, demand: new Demand(), metrics, scheduler: ts })).subscribe();
      expectObservable(metrics.alerts(), '^ 3000ms !').toBe('');
    });
  });

  it('raises and clears the drop-rate alert per interval, and holds it through an idle interval', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      // k is kept, x is dropped early: 1/3 dropped in (0, 1s], 1/2 in (1s, 2s], 0 in (2s, 3s], none end in (3s, 4s],
      // 1/1 in (4s, 5s].
      const source = hot('  100ms k 199ms x 199ms k 699ms k 199ms x 1299ms k 1999ms x');
      const alertsSub = '   ^ 5500ms !';
      const expected = '    1000ms r 1999ms c 1999ms R';
      let dropping = false;
      source
        .pipe(
          tap((v) => (dropping = v === 'x')),
          dropOnFull({ capacity: 5, earlyDrop: () => (dropping ? 1 : 0), metrics, scheduler: ts }),
        )
        .subscribe();
      expectObservable(metrics.alerts(), alertsSub).toBe(expected, {
        r: { kind: 'dropRate', state: 'raised', value: 1 / 3, threshold: 0.01, at: 1000 },
        c: { kind: 'dropRate', state: 'cleared', value: 0, threshold: 0.01, at: 3000 },
        R: { kind: 'dropRate', state: 'raised', value: 1, threshold: 0.01, at: 5000 },
      });
    });
  });

  it('raises and clears the queue-time alert on the p99 of the last interval, with custom thresholds', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      // a waits 700 ms (dequeued at 800), b 850 (at 1050), c 50 (at 1150), d 50 (at 1650). Evaluated every 250 ms:
      // 750 sees nothing dequeued yet but a queued for 650 so far: 650 > 500, raised; 1000 sees {700} and b queued
      // for 800; 1250 sees {850, 50}; 1500 sees nothing dequeued and nothing queued: an idle interval reads 0, cleared.
      const source = hot('  100ms a 99ms b 899ms c 499ms d');
      const demand = hot('  800ms 1 249ms 1 99ms 1 499ms 1', CREDITS);
      const alertsSub = '   ^ 1900ms !';
      const expected = '    750ms r 749ms c';
      source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
      expectObservable(metrics.alerts({ queueTimeP99: 500, interval: 250 }), alertsSub).toBe(expected, {
        r: { kind: 'queueTime', state: 'raised', value: 650, threshold: 500, at: 750 },
        c: { kind: 'queueTime', state: 'cleared', value: 0, threshold: 500, at: 1500 },
      });
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('raises the queue-time alert for a stalled consumer from the age of the oldest queued value', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      // a is queued at 0 and nobody asks for it: nothing is dequeued, but at 6 s it has waited 6000 > 5000 (at 5 s
      // exactly 5000, not over). The credit at 6.5 s delivers it (wait 6500: still raised at 7 s); b at 7.5 s passes
      // at once (the credit of 2 is not used up): the interval (7 s, 8 s] sees {0} and nothing queued: cleared.
      const source = hot('  a 7499ms b');
      const demand = hot('  6500ms 2', CREDITS);
      source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
      expectObservable(metrics.alerts(), '^ 8500ms !').toBe('6000ms r 1999ms c', {
        r: { kind: 'queueTime', state: 'raised', value: 6000, threshold: 5000, at: 6000 },
        c: { kind: 'queueTime', state: 'cleared', value: 0, threshold: 5000, at: 8000 },
      });
    });
  });

  it('emits several transitions of one evaluation in the order depth, dropRate, queueTime', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      // capacity 2, no credit until 600: a, b queue, c is dropped; at 600 one credit: a leaves after 500 ms.
      // Evaluation at 1000: depth 1/2 > 0.4, dropRate 1/2 > 0.1, p99 {500} > 100.
      const source = hot('  100ms abc');
      const demand = hot('  600ms 1', CREDITS);
      source.pipe(dropOnFull({ capacity: 2, demand, metrics, scheduler: ts })).subscribe();
      const kinds = metrics
        .alerts({ depthRatio: 0.4, dropRate: 0.1, queueTimeP99: 100 })
        .pipe(map((a: QueueAlert) => `${a.kind}:${a.state}`));
      expectObservable(kinds, '^ 1500ms !').toBe('1000ms (dqt)', {
        d: 'depth:raised',
        q: 'dropRate:raised',
        t: 'queueTime:raised',
      });
    });
  });

  it('gives each subscription its own timer and windows', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      const source = hot('  100ms x 1999ms k');
      source.pipe(dropOnFull({ capacity: 1, earlyDrop: 1, metrics, scheduler: ts })).subscribe();
      const kinds = (alerts = metrics.alerts()) => alerts.pipe(map((a) => `${a.state}@${a.at}`));
      // the first sees x dropped in (0, 1 s], an idle (1 s, 2 s], which reads 0, and k dropped in (2 s, 3 s]; the
      // second, subscribed at 1.5 s, sees only k, in (1.5 s, 2.5 s].
      expectObservable(kinds(), '^ 3000ms !').toBe('1000ms a 999ms c 999ms r', {
        a: 'raised@1000',
        c: 'cleared@2000',
        r: 'raised@3000',
      });
      expectObservable(kinds(), '1500ms ^ 1500ms !').toBe('2500ms b', { b: 'raised@2500' });
    });
  });

  it('stops evaluating when the subscriber unsubscribes from inside next', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      hot('100ms x')
        .pipe(dropOnFull({ capacity: 1, earlyDrop: 1, metrics, scheduler: ts }))
        .subscribe();
      expectObservable(
        metrics.alerts().pipe(
          take(1),
          map((a) => a.state),
        ),
      ).toBe('1000ms (r|)', { r: 'raised' });
    });
    expect(ts.actions).toHaveLength(0);
  });

  it('schedules nothing until subscribed and cancels its timer on unsubscribe', () => {
    const ts = testScheduler();
    const metrics = new QueueMetrics({ scheduler: ts });
    const alerts = metrics.alerts();
    expect(ts.actions).toHaveLength(0);
    const seen: QueueAlert[] = [];
    const subscription = alerts.subscribe((a) => seen.push(a));
    expect(ts.actions).toHaveLength(1);
    ts.maxFrames = 3500;
    ts.flush(); // evaluations at 1000, 2000, 3000
    expect(ts.actions).toHaveLength(1);
    expect(seen).toEqual([]);
    subscription.unsubscribe();
    expect(ts.actions).toHaveLength(0);
  });

  it('evaluates on the metrics scheduler and emits nothing while all is well', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      cold('-a-b-c-|')
        .pipe(dropOnFull({ capacity: 1, metrics, scheduler: ts }))
        .subscribe();
      expectObservable(metrics.alerts({ interval: 1 }), '^ 20ms !').toBe('');
    });
  });

  describe('with for (hysteresis, like a Prometheus alerting rule)', () => {
    it('raises only once the condition has held at every evaluation for `for` ms, and clears at once', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const metrics = new QueueMetrics({ scheduler: ts });
        const source = hot('  1500ms (abcdefghi)');
        const demand = hot('  6200ms 9', CREDITS);
        // 9 of 10 queued from 1.5 s to 6.2 s. Evaluations every second: 2 s first sees it (pending since 2 s), 3 s and
        // 4 s have held it 1 s and 2 s, 5 s has held it 3 s = for: raised. 7 s sees depth 0: cleared at once.
        const expected = '    5000ms r 1999ms c';
        source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
        expectObservable(metrics.alerts({ for: 3000 }), '^ 8500ms !').toBe(expected, {
          r: { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 5000 },
          c: { kind: 'depth', state: 'cleared', value: 0, threshold: 0.8, at: 7000 },
        });
      });
    });

    it('never raises a flap shorter than `for`, and makes the next one wait the whole `for` again', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const metrics = new QueueMetrics({ scheduler: ts });
        // full from 1.5 s to 3.2 s (seen at 2 s and 3 s: held 1 s < 3 s), empty at 4 s; full again from 4.5 s: pending
        // since 5 s, not since 2 s, so raised at 8 s (at 5 s it would be raised if the first flap still counted).
        const source = hot('  1500ms (abcdefghi) 2991ms (abcdefghi)');
        const demand = hot('  3200ms 9', CREDITS);
        source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
        expectObservable(metrics.alerts({ for: 3000 }), '^ 9500ms !').toBe('8000ms r', {
          r: { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 8000 },
        });
      });
    });

    it('raises at the next evaluation when `for` is shorter than the interval', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const metrics = new QueueMetrics({ scheduler: ts });
        const source = hot('  100ms (abcdefghi)');
        source.pipe(dropOnFull({ capacity: 10, demand: new Demand(), metrics, scheduler: ts })).subscribe();
        const states = metrics.alerts({ interval: 250, for: 1 }).pipe(map((a) => `${a.state}@${a.at}`));
        expectObservable(states, '^ 1000ms !').toBe('500ms r', { r: 'raised@500' });
      });
    });

    it('evaluates as rarely as every 60 s: a stalled consumer is raised after `for` of queue time', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const metrics = new QueueMetrics({ scheduler: ts });
        // a waits from 0 with no credit. Evaluated at 60 s (age 60 s > 5 s: pending), 120 s, 180 s: held 120 s = for.
        // The credit at 200 s lets it go: the interval (180 s, 240 s] sees its 200 s wait: still holds. (240 s, 300 s]
        // dequeues nothing and holds nothing: cleared at 300 s.
        const source = hot('  a');
        const demand = hot('  200s 1', CREDITS);
        source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: ts })).subscribe();
        const alerts = metrics.alerts({ interval: 60_000, for: 120_000 });
        expectObservable(alerts, '^ 330s !').toBe('180s r 119999ms c', {
          r: { kind: 'queueTime', state: 'raised', value: 180_000, threshold: 5000, at: 180_000 },
          c: { kind: 'queueTime', state: 'cleared', value: 0, threshold: 5000, at: 300_000 },
        });
      });
    });

    it('judges each alert on its own: one raised after `for` while another flaps', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const metrics = new QueueMetrics({ scheduler: ts });
        // x is dropped (earlyDrop), k is kept. dropRate holds in (0, 1 s] only; depth holds from 0.5 s on.
        const source = hot('  100ms x 399ms (abcdefghi)');
        let dropping = true;
        source
          .pipe(
            tap((v) => (dropping = v === 'x')),
            dropOnFull({
              capacity: 10,
              demand: new Demand(),
              earlyDrop: () => (dropping ? 1 : 0),
              metrics,
              scheduler: ts,
            }),
          )
          .subscribe();
        const kinds = metrics.alerts({ for: 2000 }).pipe(map((a) => `${a.kind}:${a.state}@${a.at}`));
        expectObservable(kinds, '^ 4500ms !').toBe('3000ms d', { d: 'depth:raised@3000' });
      });
    });

    it('leaves no action on the scheduler after unsubscribing, pending or raised', () => {
      const ts = testScheduler();
      const metrics = new QueueMetrics({ scheduler: ts });
      const source = new Subject<number>();
      source.pipe(dropOnFull({ capacity: 1, demand: new Demand(), metrics, scheduler: ts })).subscribe();
      source.next(1); // depth 1 of 1 from 0, and its age: depth and queueTime hold at every evaluation
      const seen: string[] = [];
      const record = (a: QueueAlert): number => seen.push(`${a.kind}:${a.state}@${a.at}`);
      const pending = metrics.alerts({ interval: 60_000, for: 600_000 }).subscribe(record);
      const raised = metrics.alerts({ interval: 60_000, for: 60_000 }).subscribe(record);
      ts.maxFrames = 150_000;
      ts.flush(); // evaluations at 60 s and 120 s: the second subscription is raised at 120 s, the first still pending
      expect(seen).toEqual(['depth:raised@120000', 'queueTime:raised@120000']);
      expect(ts.actions).toHaveLength(2);
      pending.unsubscribe();
      expect(ts.actions).toHaveLength(1);
      raised.unsubscribe();
      expect(ts.actions).toHaveLength(0);
    });

    it('reads time through a clock that never goes backwards: a scheduler stepping back stands still', () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        // the metrics' scheduler reads 2 s less from 2.5 s on (a wall clock corrected backwards)
        const stepped = {
          now: () => ts.now() - (ts.now() >= 2500 ? 2000 : 0),
          schedule: ts.schedule.bind(ts),
        } as unknown as typeof ts;
        const metrics = new QueueMetrics({ scheduler: stepped });
        const source = hot('  1500ms (abcdefghi)');
        source.pipe(dropOnFull({ capacity: 10, demand: new Demand(), metrics, scheduler: ts })).subscribe();
        // readings 2000 (pending since 2000), 3000 -> 1000: stands still at 2000, 4000 -> 2000: 3000,
        // 5000 -> 3000: 4000, held 2000 = for: raised, with at = 4000. Raw readings would raise only at 6 s.
        expectObservable(metrics.alerts({ for: 2000 }), '^ 6500ms !').toBe('5000ms r', {
          r: { kind: 'depth', state: 'raised', value: 0.9, threshold: 0.8, at: 4000 },
        });
      });
    });
  });

  it('rejects invalid thresholds at the call', () => {
    const metrics = new QueueMetrics();
    expect(() => metrics.alerts({ depthRatio: 1.2 })).toThrow(
      new RangeError('QueueMetrics.alerts: depthRatio must be a number between 0 and 1, got 1.2'),
    );
    expect(() => metrics.alerts({ dropRate: -0.1 })).toThrow(
      new RangeError('QueueMetrics.alerts: dropRate must be a number between 0 and 1, got -0.1'),
    );
    expect(() => metrics.alerts({ queueTimeP99: -1 })).toThrow(
      new RangeError('QueueMetrics.alerts: queueTimeP99 must be a finite number >= 0, got -1'),
    );
    expect(() => metrics.alerts({ queueTimeP99: NaN })).toThrow(RangeError);
    expect(() => metrics.alerts({ interval: 0 })).toThrow(RangeError);
    expect(() => metrics.alerts({ interval: 60_001 })).toThrow(
      new RangeError('QueueMetrics.alerts: interval must be a number in (0, 60000], got 60001'),
    );
    expect(() => metrics.alerts({ interval: Infinity })).toThrow(RangeError);
    expect(() => metrics.alerts({ interval: NaN })).toThrow(RangeError);
    expect(() => metrics.alerts({ interval: '1s' as never })).toThrow(
      new TypeError('QueueMetrics.alerts: interval must be a number in (0, 60000], got "1s"'),
    );
    expect(() => metrics.alerts({ for: -1 })).toThrow(
      new RangeError('QueueMetrics.alerts: for must be a finite number >= 0, got -1'),
    );
    expect(() => metrics.alerts({ for: Infinity })).toThrow(RangeError);
    expect(() => metrics.alerts({ for: NaN })).toThrow(RangeError);
    expect(() => metrics.alerts({ for: '5m' as never })).toThrow(
      new TypeError('QueueMetrics.alerts: for must be a finite number >= 0, got "5m"'),
    );
    // the bounds themselves are accepted
    expect(() => metrics.alerts({ interval: 60_000, for: 0 })).not.toThrow();
    expect(() => metrics.alerts({ dropRate: '1%' as never })).toThrow(
      new TypeError('QueueMetrics.alerts: dropRate must be a number between 0 and 1, got "1%"'),
    );
    expect(() => metrics.alerts({ p99: 1 } as never)).toThrow(TypeError);
    expect(() => metrics.alerts(null as never)).toThrow(TypeError);
  });

  it('lets an alert stream be shared with a Subject like any Observable', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const metrics = new QueueMetrics({ scheduler: ts });
      hot('100ms x')
        .pipe(dropOnFull({ capacity: 1, earlyDrop: 1, metrics, scheduler: ts }))
        .subscribe();
      const relay = new Subject<string>();
      const subscription = metrics
        .alerts()
        .pipe(map((a) => a.kind))
        .subscribe(relay);
      ts.schedule(() => subscription.unsubscribe(), 1500);
      expectObservable(relay).toBe('1000ms d', { d: 'dropRate' });
    });
  });
});
