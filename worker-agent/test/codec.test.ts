/**
 * The plugin's hand-written protobuf codec against protobufjs (what the agent's server
 * uses, through proto-loader), both ways, for every message the plugin sends or reads:
 * a field added to agent.proto and not to codec.ts fails here.
 */
import test from 'ava';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import {
  ATTACHMENT,
  ATTACH_REQUEST,
  ATTACH_RESULT,
  GC_REQUEST,
  ROUTE,
  decode,
  encode,
  type Schema,
} from '../cni/codec.ts';

const PROTO = fileURLToPath(new URL('../proto/agent.proto', import.meta.url));
const def = loadSync(PROTO, { keepCase: false, longs: Number, defaults: true, arrays: true });
// The descriptor proto-loader keeps for each message type: its fields, by name and number.
const type = (name: string) =>
  (def[`slicenet.agent.v1.${name}`] as unknown as { type: { field: { name: string; number: number }[] } })
    .type;
const service = def['slicenet.agent.v1.Agent'] as Record<
  string,
  {
    requestSerialize(v: object): Buffer;
    responseDeserialize(b: Buffer): object;
    responseSerialize(v: object): Buffer;
    requestDeserialize(b: Buffer): object;
  }
>;

const request = {
  containerId: 'c0ffee01',
  netns: '/var/run/netns/ünïcode',
  ifname: 'slice0',
  slice: 'payments',
  networkName: 'slicenet-payments',
  podNamespace: 'shop',
  podName: 'web-0',
  podUid: '1234',
  cniVersion: '1.1.0',
};
const result = {
  ifname: 'slice0',
  mac: '02:00:00:00:00:05',
  address: '10.90.64.5/16',
  routes: [
    { dst: '10.90.0.0/16', gw: '' },
    { dst: '0.0.0.0/0', gw: '10.90.0.1' },
  ],
  mtu: 4_000_000_000,
  hostIfname: 'vs5',
  hostMac: '02:00:00:00:01:05',
};
const gc = {
  networkName: 'n',
  slice: 's',
  valid: [
    { containerId: 'a', ifname: 'slice0' },
    { containerId: 'b', ifname: 'x' },
  ],
};

test('codec: AttachRequest as the server decodes it', (t) => {
  t.deepEqual(service.Add!.requestDeserialize(encode(ATTACH_REQUEST, request)), request);
  t.deepEqual(decode(ATTACH_REQUEST, service.Add!.requestSerialize(request)), request);
});

test('codec: AttachResult as the server encodes it', (t) => {
  t.deepEqual(decode(ATTACH_RESULT, service.Add!.responseSerialize(result)), result);
  t.deepEqual(service.Add!.responseDeserialize(encode(ATTACH_RESULT, result)), result);
});

test('codec: GcRequest and empty messages', (t) => {
  t.deepEqual(service.Gc!.requestDeserialize(encode(GC_REQUEST, gc)), gc);
  t.deepEqual(decode(GC_REQUEST, service.Gc!.requestSerialize(gc)), gc);
  const empty = {
    containerId: '',
    netns: '',
    ifname: '',
    slice: '',
    networkName: '',
    podNamespace: '',
    podName: '',
    podUid: '',
    cniVersion: '',
  };
  t.deepEqual(decode(ATTACH_REQUEST, Buffer.alloc(0)), empty);
  t.is(encode(ATTACH_REQUEST, empty).length, 0);
});

test('codec: every field of agent.proto is in the schemas, with its number', (t) => {
  const pairs: [string, Schema][] = [
    ['AttachRequest', ATTACH_REQUEST],
    ['AttachResult', ATTACH_RESULT],
    ['Route', ROUTE],
    ['Attachment', ATTACHMENT],
    ['GcRequest', GC_REQUEST],
  ];
  const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  for (const [name, schema] of pairs) {
    const proto = type(name).field.map((f) => [camel(f.name), f.number]);
    t.deepEqual(
      proto,
      schema.map((f) => [f.name, f.no]),
      name,
    );
  }
});

test('codec: unknown fields are skipped, truncation is an error', (t) => {
  const withExtra = Buffer.concat([
    encode(ROUTE, { dst: 'a' }),
    Buffer.from([0x50, 0x96, 0x01, 0x5d, 1, 2, 3, 4]),
  ]);
  t.deepEqual(decode(ROUTE, withExtra), { dst: 'a', gw: '' });
  t.throws(() => decode(ROUTE, Buffer.from([0x0a, 0x05, 0x61])), { message: /truncated/ });
});
