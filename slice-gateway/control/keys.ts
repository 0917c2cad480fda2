/**
 * The gateway's static key pair, read from the Secret the worker made in this cluster
 * (controller/worker/keys.ts). The private key is held in this process only: it goes to the
 * data path and nowhere else; what is published is the public key derived from it, checked
 * against the one in the Secret so a damaged Secret is caught here, not by failing handshakes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { gatewayKeySecretName } from '../../controller/worker/keys.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { SlicenetError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { keyPairFromPrivate } from '../protocol/index.ts';

export interface GatewayKey {
  privateKey: Buffer;
  /** base64 */
  publicKey: string;
}

export class GatewayKeyError extends SlicenetError {
  constructor(secret: string, message: string) {
    super(
      'GATEWAY_KEY_INVALID',
      `secret ${secret}: ${message}; delete it and the worker makes a new pair (peers then reconnect with the new key)`,
    );
  }
}

/** Reads the key pair, waiting (every second) until the worker has made the Secret. */
export async function loadGatewayKey(
  kc: KubeConfig,
  namespace: string,
  slice: string,
  signal: AbortSignal,
  log: Logger,
): Promise<GatewayKey> {
  const api = kc.makeApiClient(CoreV1Api);
  const name = gatewayKeySecretName(slice);
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      const secret = await api.readNamespacedSecret({ name, namespace });
      return parseKey(`${namespace}/${name}`, secret.data ?? {});
    } catch (err) {
      if (err instanceof GatewayKeyError) throw err;
      if (attempt === 0)
        log.info('waiting for the gateway key secret', { secret: name, notFound: isNotFound(err) });
      await sleep(1000, undefined, { signal });
    }
  }
}

export function parseKey(secret: string, data: Record<string, string>): GatewayKey {
  const priv = Buffer.from(data.privateKey ?? '', 'base64');
  if (priv.length !== 32) throw new GatewayKeyError(secret, 'privateKey must hold 32 bytes');
  const publicKey = keyPairFromPrivate(priv).publicKey.toString('base64');
  if (data.publicKey !== undefined && Buffer.from(data.publicKey, 'base64').toString('base64') !== publicKey)
    throw new GatewayKeyError(secret, 'publicKey does not belong to privateKey');
  return { privateKey: priv, publicKey };
}
