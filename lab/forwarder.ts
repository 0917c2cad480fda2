/**
 * Makes an apiserver that lives in a control-plane network namespace reachable on the root
 * namespace's loopback, without any route or link in the root namespace.
 *
 * A socket belongs to the network namespace it was created in. The lab creates the listening
 * socket on 127.0.0.1 in the root namespace and hands it, as fd 3, to this program, which it
 * starts inside the control-plane namespace: accepted connections are root-namespace sockets,
 * and the sockets this program opens to the apiserver are control-plane sockets. Bytes are
 * piped unchanged (TLS passes through end to end).
 *
 * Run as: nsenter --net=/run/netns/<cp> -- node --import tsx lab/forwarder.ts <host> <port>
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export function forward(listenFd: number, host: string, port: number): void {
  const server = createServer((client: Socket) => {
    const upstream = createConnection({ host, port });
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.listen({ fd: listenFd });
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, port] = process.argv.slice(2);
  if (!host || !port || !/^\d+$/.test(port)) {
    process.stderr.write('usage: forwarder.ts <host> <port> (listening socket on fd 3)\n');
    process.exit(2);
  }
  forward(3, host, Number(port));
}
