/** The config: flags over variables over defaults, and one row per refusal, naming the setting. */
import test from 'ava';
import { envOf, flagOf, loadConfig, usage } from '../config.ts';

test('config: defaults', (t) => {
  const c = loadConfig([], {});
  t.like(c, {
    port: 9443,
    probePort: 8081,
    clientConfig: 'service',
    manageWebhooks: true,
    tlsSecret: 'slicenet-webhook-tls',
  });
  t.is(c.maxBodyBytes, 3 * 1024 * 1024);
});

test('config: a flag wins over its variable, in both flag spellings', (t) => {
  const env = { SLICENET_PORT: '1000', SLICENET_URL_HOST: '10.0.0.1', SLICENET_CLIENT_CONFIG: 'url' };
  t.like(loadConfig(['--port', '2000'], env), { port: 2000, urlHost: '10.0.0.1', clientConfig: 'url' });
  t.like(loadConfig(['--port=3000', '--manage-webhooks=false'], env), { port: 3000, manageWebhooks: false });
});

test('config: names map to flags and variables', (t) => {
  t.is(flagOf('tlsCertFile'), '--tls-cert-file');
  t.is(envOf('tlsCertFile'), 'SLICENET_TLS_CERT_FILE');
  t.regex(usage(), /--hub-namespace\s+SLICENET_HUB_NAMESPACE/);
});

// prettier-ignore
const bad: [string, string[], Record<string, string>, string][] = [
  ['port not a number', ['--port', 'abc'], {}, '--port / SLICENET_PORT: "abc" is not an integer from 0 to 65535'],
  ['port out of range (env)', [], { SLICENET_PORT: '70000' }, '--port / SLICENET_PORT: "70000" is not an integer from 0 to 65535'],
  ['unknown client config', ['--client-config', 'ingress'], {}, '--client-config / SLICENET_CLIENT_CONFIG: "ingress" is not one of service, url'],
  ['url without host', ['--client-config', 'url'], {}, '--url-host / SLICENET_URL_HOST: required with --client-config url (the address the API server dials)'],
  ['cert without key', ['--tls-cert-file', '/c'], {}, '--tls-key-file / SLICENET_TLS_KEY_FILE: give the certificate and key together'],
  ['key without cert', ['--tls-key-file', '/k'], {}, '--tls-cert-file / SLICENET_TLS_CERT_FILE: give the certificate and key together'],
  ['CA alone', ['--tls-ca-file', '/ca'], {}, '--tls-ca-file / SLICENET_TLS_CA_FILE: only used with --tls-cert-file and --tls-key-file'],
  ['bad bool', ['--manage-webhooks', 'yes'], {}, '--manage-webhooks / SLICENET_MANAGE_WEBHOOKS: "yes" is not true or false'],
  ['renew before validity', ['--renew-before-days', '400'], {}, '--renew-before-days / SLICENET_RENEW_BEFORE_DAYS: must be less than --cert-validity-days / SLICENET_CERT_VALIDITY_DAYS (365)'],
  ['bad namespace', ['--namespace', 'Slicenet'], {}, '--namespace / SLICENET_NAMESPACE: "Slicenet" is not a DNS-1123 name'],
];

for (const [title, argv, env, message] of bad) {
  test(`config: ${title}`, (t) => {
    t.throws(() => loadConfig(argv, env), { message, instanceOf: Error });
  });
}

test('config: an unknown flag is refused', (t) => {
  t.throws(() => loadConfig(['--prot', '1'], {}), {
    message: /^flags: Unknown option '--prot'.*; see --help$/,
  });
});
