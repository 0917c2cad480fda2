import test from 'ava';
import { loadConfig } from '../config.ts';

test('defaults', (t) => {
  const c = loadConfig([], {});
  t.like(c, {
    host: '0.0.0.0',
    port: 53,
    zone: 'slice.local',
    ttl: 2,
    source: 'none',
    recordsFile: '',
    kubeconfig: '',
    probePort: 8086,
    tcpMaxConnections: 256,
    tcpIdleSeconds: 10,
    workers: 1,
  });
  const auto = loadConfig(['--workers', 'auto'], {}).workers;
  t.true(auto >= 1 && auto <= 4);
});

test('flags win over SLICENET_DNS_* variables', (t) => {
  const c = loadConfig(['--port', '5353', '--zone=Mesh.Example.'], {
    SLICENET_DNS_PORT: '53',
    SLICENET_DNS_TTL: '7',
    SLICENET_DNS_WORKERS: '3',
  });
  t.like(c, { port: 5353, zone: 'mesh.example', ttl: 7, workers: 3 });
});

test('the records source follows from the flags and the environment', (t) => {
  t.is(loadConfig(['--records-file', '/r.json'], {}).source, 'file');
  t.is(loadConfig(['--kubeconfig', '/k'], {}).source, 'kube');
  t.is(loadConfig([], { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).source, 'kube');
  t.is(loadConfig([], { SLICENET_DNS_KUBECONFIG: '/k' }).source, 'kube');
  t.is(loadConfig(['--source', 'none'], { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).source, 'none');
});

const bad: [string, string[], RegExp][] = [
  [
    'unknown source',
    ['--source', 'etcd'],
    /--source \(SLICENET_DNS_SOURCE\) must be one of kube, file, none/,
  ],
  ['file source without a file', ['--source', 'file'], /--records-file .* is needed with --source file/],
  [
    'a file and a kubeconfig',
    ['--records-file', '/r', '--kubeconfig', '/k'],
    /--records-file .* and --kubeconfig exclude each other/,
  ],
  [
    'a kubeconfig without kube',
    ['--source', 'none', '--kubeconfig', '/k'],
    /--kubeconfig .* only with --source kube/,
  ],
  ['port out of range', ['--port', '70000'], /--port \(SLICENET_DNS_PORT\) must be a port/],
  ['port not a number', ['--port', 'dns'], /not "dns"/],
  ['host not an address', ['--host', 'localhost'], /--host \(SLICENET_DNS_HOST\) must be an IP address/],
  ['zone with a bad label', ['--zone', 'slice_local'], /--zone \(SLICENET_DNS_ZONE\) must be a domain name/],
  ['negative TTL', ['--ttl=-1'], /--ttl \(SLICENET_DNS_TTL\) must be seconds/],
  ['no workers', ['--workers', '0'], /--workers \(SLICENET_DNS_WORKERS\) must be "auto" or a count/],
  ['probe port', ['--probe-port', '1.5'], /--probe-port/],
  ['idle seconds', ['--tcp-idle-seconds', '0'], /--tcp-idle-seconds/],
];
for (const [what, argv, message] of bad) {
  test(`refused: ${what}`, (t) => {
    t.throws(() => loadConfig(argv, {}), { message });
  });
}

test('an unknown flag is refused', (t) => {
  t.throws(() => loadConfig(['--prot', '53'], {}), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
});
