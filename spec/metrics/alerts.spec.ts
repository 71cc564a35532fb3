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
    expect(() => metrics.alerts({ interval: 5000 })).toThrow(
      new RangeError('QueueMetrics.alerts: interval must be a number in (0, 1000], got 5000'),
    );
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
