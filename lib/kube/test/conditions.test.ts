import test from 'ava';
import {
  ConditionError,
  findCondition,
  isConditionTrue,
  setCondition,
  setConditions,
  type Condition,
  type ConditionUpdate,
} from '../conditions.ts';

const T0 = '2026-01-01T00:00:00Z';
const NOW = new Date('2026-01-02T03:04:05.678Z');
const NOW_S = '2026-01-02T03:04:05Z';

const ready = (c: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status: 'True',
  reason: 'AllClustersConnected',
  message: '2 of 2 clusters connected',
  observedGeneration: 3,
  lastTransitionTime: T0,
  ...c,
});
const progressing: Condition = {
  type: 'Progressing',
  status: 'False',
  reason: 'Converged',
  message: '',
  observedGeneration: 3,
  lastTransitionTime: T0,
};

interface Row {
  name: string;
  before: Condition[] | undefined;
  update: ConditionUpdate;
  generation: number | undefined;
  after: Condition[];
  changed: boolean;
}

const rows: Row[] = [
  {
    name: 'a new type is appended with the time of now',
    before: [progressing],
    update: {
      type: 'Ready',
      status: 'True',
      reason: 'AllClustersConnected',
      message: '2 of 2 clusters connected',
    },
    generation: 3,
    after: [progressing, ready({ lastTransitionTime: NOW_S })],
    changed: true,
  },
  {
    name: 'no conditions yet',
    before: undefined,
    update: { type: 'Ready', status: 'Unknown', reason: 'Pending', message: 'waiting' },
    generation: 1,
    after: [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'Pending',
        message: 'waiting',
        observedGeneration: 1,
        lastTransitionTime: NOW_S,
      },
    ],
    changed: true,
  },
  {
    name: 'nothing differs: unchanged',
    before: [ready(), progressing],
    update: {
      type: 'Ready',
      status: 'True',
      reason: 'AllClustersConnected',
      message: '2 of 2 clusters connected',
    },
    generation: 3,
    after: [ready(), progressing],
    changed: false,
  },
  {
    name: 'a new message on the same status keeps the transition time',
    before: [ready()],
    update: {
      type: 'Ready',
      status: 'True',
      reason: 'AllClustersConnected',
      message: '3 of 3 clusters connected',
    },
    generation: 3,
    after: [ready({ message: '3 of 3 clusters connected' })],
    changed: true,
  },
  {
    name: 'a new reason on the same status keeps the transition time',
    before: [ready()],
    update: { type: 'Ready', status: 'True', reason: 'Connected', message: '2 of 2 clusters connected' },
    generation: 3,
    after: [ready({ reason: 'Connected' })],
    changed: true,
  },
  {
    name: 'a new generation alone is a change, not a transition',
    before: [ready()],
    update: {
      type: 'Ready',
      status: 'True',
      reason: 'AllClustersConnected',
      message: '2 of 2 clusters connected',
    },
    generation: 4,
    after: [ready({ observedGeneration: 4 })],
    changed: true,
  },
  {
    name: 'a status flip moves the transition time, in place',
    before: [progressing, ready()],
    update: { type: 'Ready', status: 'False', reason: 'GatewayDown', message: 'east: no gateway' },
    generation: 3,
    after: [
      progressing,
      ready({
        status: 'False',
        reason: 'GatewayDown',
        message: 'east: no gateway',
        lastTransitionTime: NOW_S,
      }),
    ],
    changed: true,
  },
  {
    name: 'without a generation the field is left out',
    before: [],
    update: { type: 'Healthy', status: 'True', reason: 'HeartbeatFresh', message: '' },
    generation: undefined,
    after: [
      { type: 'Healthy', status: 'True', reason: 'HeartbeatFresh', message: '', lastTransitionTime: NOW_S },
    ],
    changed: true,
  },
];

for (const row of rows) {
  test(`setCondition: ${row.name}`, (t) => {
    const frozen = row.before ? structuredClone(row.before) : undefined;
    const r = setCondition(row.before, row.update, row.generation, NOW);
    t.deepEqual(r.conditions, row.after);
    t.is(r.changed, row.changed);
    t.deepEqual(row.before, frozen, 'the input is not modified');
  });
}

for (const reason of ['', 'has space', '1Leading', 'trailing:', 'dash-ed']) {
  test(`setCondition refuses reason "${reason}"`, (t) => {
    t.throws(() => setCondition([], { type: 'Ready', status: 'True', reason, message: '' }, 1, NOW), {
      instanceOf: ConditionError,
    });
  });
}

test('setConditions applies several and reports any change', (t) => {
  const same = setConditions([ready(), progressing], [{ ...ready(), type: 'Ready' }], 3, NOW);
  t.false(same.changed);
  const r = setConditions(
    [ready(), progressing],
    [
      { type: 'Ready', status: 'True', reason: 'AllClustersConnected', message: '2 of 2 clusters connected' },
      { type: 'Degraded', status: 'False', reason: 'AllGatewaysUp', message: '' },
    ],
    3,
    NOW,
  );
  t.true(r.changed);
  t.is(r.conditions.length, 3);
  t.true(isConditionTrue(r.conditions, 'Ready'));
  t.false(isConditionTrue(r.conditions, 'Degraded'));
  t.false(isConditionTrue(r.conditions, 'Missing'));
  t.is(findCondition(r.conditions, 'Degraded')?.lastTransitionTime, NOW_S);
});
