import test from 'ava';
import { combine, parseHistogram, quantile } from '../add-time.ts';

const scrape = (counts: number[], sum: number): string =>
  [
    '# HELP slicenet_cni_request_duration_seconds Time the agent took.',
    '# TYPE slicenet_cni_request_duration_seconds histogram',
    ...['0.1', '0.25', '+Inf'].map(
      (le, i) => `slicenet_cni_request_duration_seconds_bucket{le="${le}",command="ADD"} ${counts[i]}`,
    ),
    'slicenet_cni_request_duration_seconds_bucket{le="0.1",command="DEL"} 7',
    `slicenet_cni_request_duration_seconds_sum{command="ADD"} ${sum}`,
    `slicenet_cni_request_duration_seconds_count{command="ADD"} ${counts[2]}`,
  ].join('\n');

test('parses one command and subtracts an earlier scrape', (t) => {
  const before = parseHistogram(scrape([1, 2, 2], 0.3), 'ADD');
  const after = parseHistogram(scrape([3, 10, 12], 2.5), 'ADD');
  const h = combine(after, before, -1);
  t.deepEqual(
    [...h.buckets.entries()],
    [
      [0.1, 2],
      [0.25, 8],
      [Infinity, 10],
    ],
  );
  t.is(h.count, 10);
  t.is(Math.round(h.sum * 10), 22);
});

test('quantiles interpolate within the bucket, as histogram_quantile does', (t) => {
  const h = parseHistogram(scrape([2, 10, 10], 1), 'ADD');
  t.is(quantile(h, 0.1), 0.05);
  t.is(Number(quantile(h, 0.6).toFixed(4)), 0.175);
  t.true(Number.isNaN(quantile(parseHistogram('', 'ADD'), 0.5)));
});

test('a quantile in the +Inf bucket is the highest finite bound', (t) => {
  t.is(quantile(parseHistogram(scrape([0, 1, 4], 9), 'ADD'), 0.99), 0.25);
});
