/**
 * The data path behind the Tunnel contract (tunnel.ts): slice-gateway/gateway/'s startGateway.
 */
import { startGateway } from '../gateway/gateway.ts';
import type { StartTunnel } from './tunnel.ts';

export const startTunnel: StartTunnel = async (opts) => {
  const { onEvent, ...rest } = opts;
  return startGateway({
    ...rest,
    ...(onEvent
      ? {
          onEvent: (e) =>
            onEvent({
              type: e.type,
              cluster: e.cluster,
              ...('endpoint' in e ? { endpoint: e.endpoint } : {}),
            }),
        }
      : {}),
  });
};
