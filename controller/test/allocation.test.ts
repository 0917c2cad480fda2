import test from 'ava';
import { allocateVni, assignBlocks, blocks, splitCount, VNI_MIN } from '../hub/allocate.ts';

test('maxClusters rounds up to a power of two for the split', (t) => {
  for (const [m, n] of [
    [2, 2],
    [3, 4],
    [16, 16],
    [17, 32],
    [64, 64],
  ] as const)
    t.is(splitCount(m), n, `maxClusters ${m}`);
});

test('blocks split the subnet into equal, ordered blocks', (t) => {
  t.deepEqual(blocks('10.90.0.0/16', 4), [
    '10.90.0.0/18',
    '10.90.64.0/18',
    '10.90.128.0/18',
    '10.90.192.0/18',
  ]);
  t.deepEqual(blocks('192.168.0.0/22', 3).at(-1), '192.168.3.0/24');
  t.is(blocks('10.0.0.0/8', 64).length, 64);
});

test('new members get the lowest free blocks in name order, whatever the list order', (t) => {
  const a = assignBlocks('10.90.0.0/16', 4, ['c2', 'c1'], []);
  const b = assignBlocks('10.90.0.0/16', 4, ['c1', 'c2'], []);
  t.deepEqual(a, b);
  t.deepEqual(a.assignments, [
    { name: 'c1', subnet: '10.90.0.0/18' },
    { name: 'c2', subnet: '10.90.64.0/18' },
  ]);
});

test('a member keeps its block; a block is reused only after its cluster left', (t) => {
  const prev = [
    { name: 'c1', subnet: '10.90.0.0/18' },
    { name: 'c2', subnet: '10.90.64.0/18' },
  ];
  // c0 sorts first, but must not take c1's block.
  const joined = assignBlocks('10.90.0.0/16', 4, ['c2', 'c1', 'c0'], prev);
  t.deepEqual(joined.assignments, [{ name: 'c0', subnet: '10.90.128.0/18' }, ...prev]);
  const left = assignBlocks('10.90.0.0/16', 4, ['c2', 'c3'], prev);
  t.deepEqual(left.assignments, [
    { name: 'c2', subnet: '10.90.64.0/18' },
    { name: 'c3', subnet: '10.90.0.0/18' },
  ]);
});

test('records that are stale or duplicated are not trusted', (t) => {
  const prev = [
    { name: 'c1', subnet: '10.91.0.0/18' }, // not a block of this subnet
    { name: 'c2', subnet: '10.90.64.0/18' },
    { name: 'c3', subnet: '10.90.64.0/18' }, // claims c2's block
  ];
  const r = assignBlocks('10.90.0.0/16', 4, ['c1', 'c2', 'c3'], prev);
  const subnets = r.assignments.map((a) => a.subnet);
  t.is(new Set(subnets).size, 3);
  t.is(r.assignments.find((a) => a.name === 'c2')!.subnet, '10.90.64.0/18');
});

test('members beyond the blocks are reported unplaced', (t) => {
  const r = assignBlocks('10.90.0.0/16', 2, ['a', 'b', 'c'], []);
  t.is(r.assignments.length, 2);
  t.deepEqual(r.unplaced, ['c']);
});

test('a VNI is kept unless another slice holds it; otherwise the lowest free one', (t) => {
  t.is(allocateVni(undefined, new Set()), VNI_MIN);
  t.is(allocateVni(undefined, new Set([VNI_MIN, VNI_MIN + 1])), VNI_MIN + 2);
  t.is(allocateVni(5000, new Set([VNI_MIN])), 5000);
  t.is(allocateVni(5000, new Set([5000])), VNI_MIN);
  t.is(allocateVni(12, new Set()), VNI_MIN);
});
