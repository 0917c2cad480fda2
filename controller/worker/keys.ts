/**
 * The static X25519 key pair of a slice's gateways in this cluster (SPEC §2): made here, kept
 * in a Secret in this cluster, and only the public half ever leaves (in WorkerSlice status).
 * Created with create-if-absent, so two workers racing (a leadership hand-over) keep one pair:
 * the loser gets 409 and reads the winner's.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import nacl from 'tweetnacl';
import { isConflict, isNotFound } from '../../lib/kube/client.ts';

export function gatewayKeySecretName(slice: string): string {
  return `slicenet-gateway-${slice}`;
}

export interface KeyPair {
  /** base64, 32 bytes. */
  publicKey: string;
  privateKey: string;
}

export function generateKeyPair(): KeyPair {
  const kp = nacl.box.keyPair();
  return {
    publicKey: Buffer.from(kp.publicKey).toString('base64'),
    privateKey: Buffer.from(kp.secretKey).toString('base64'),
  };
}

export class GatewayKeys {
  private readonly api: CoreV1Api;
  /** Public keys by slice: the Secret does not change once made. */
  private readonly cache = new Map<string, string>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The slice's public key, making the pair on first use. */
  async publicKey(slice: string): Promise<string> {
    const cached = this.cache.get(slice);
    if (cached) return cached;
    const name = gatewayKeySecretName(slice);
    let secret = await this.read(name);
    if (!secret) {
      const kp = generateKeyPair();
      const body: V1Secret = {
        metadata: {
          name,
          namespace: this.namespace,
          labels: { 'app.kubernetes.io/managed-by': 'slicenet-worker', 'slicenet.dev/slice': slice },
        },
        type: 'Opaque',
        // Secret data is base64 of the raw bytes: the 32-byte keys themselves.
        data: { privateKey: kp.privateKey, publicKey: kp.publicKey },
      };
      try {
        secret = await this.api.createNamespacedSecret({ namespace: this.namespace, body });
      } catch (err) {
        if (!isConflict(err)) throw err;
        secret = await this.read(name);
      }
    }
    const pub = secret?.data?.publicKey ?? '';
    if (!/^[A-Za-z0-9+/]{43}=$/.test(pub))
      throw new Error(`secret ${this.namespace}/${name} holds no valid publicKey`);
    this.cache.set(slice, pub);
    return pub;
  }

  /** Deletes the slice's key pair; already gone is fine. */
  async remove(slice: string): Promise<void> {
    this.cache.delete(slice);
    try {
      await this.api.deleteNamespacedSecret({ name: gatewayKeySecretName(slice), namespace: this.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.api.readNamespacedSecret({ name, namespace: this.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
