/**
 * What the WAN saw: tcpdump in a namespace writing a pcap, parsed here into IPv4/UDP facts;
 * and re-injection of captured Ethernet frames, byte for byte, through an AF_PACKET socket
 * (python3: Node has none), so a replay arrives exactly as the original did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { run, toolEnv } from '../../../../lib/exec.ts';

export interface Packet {
  frame: Buffer;
  etherType: number;
  /** IPv4 only: */
  ipLength?: number;
  fragment?: boolean;
  protocol?: number;
  src?: string;
  dst?: string;
  /** UDP only: */
  sport?: number;
  dport?: number;
  payload?: Buffer;
}

export class Capture {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly file: string,
  ) {}

  /** Starts tcpdump on `iface` in `ns`, writing `file`; resolves once it is listening. */
  static async start(ns: string, iface: string, file: string, filter: string[] = []): Promise<Capture> {
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'tcpdump',
        '-i',
        iface,
        '-n',
        '-U',
        // Else libpcap hands packets over in blocks up to a second late, and those still in the
        // ring when tcpdump is stopped are never written.
        '--immediate-mode',
        '-B',
        '16384',
        '-s',
        '0',
        '-w',
        file,
        ...filter,
      ],
      {
        env: toolEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
      proc.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (!err.includes('listening on')) return;
        clearTimeout(timer);
        resolve();
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited with ${code}: ${err}`));
      });
    });
    return new Capture(proc, file);
  }

  /** Stops tcpdump (SIGINT, by PID) and returns every packet it wrote. */
  async stop(): Promise<Packet[]> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGINT');
      const kill = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
    return parsePcap(readFileSync(this.file));
  }
}

/** Parses a classic pcap file of Ethernet frames (what tcpdump -w writes). */
export function parsePcap(buf: Buffer): Packet[] {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error('not a pcap file');
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)}, not Ethernet`);
  const out: Packet[] = [];
  for (let at = 24; at + 16 <= buf.length;) {
    const len = u32(at + 8);
    const frame = buf.subarray(at + 16, at + 16 + len);
    at += 16 + len;
    out.push(parseFrame(frame));
  }
  return out;
}

function parseFrame(frame: Buffer): Packet {
  const etherType = frame.readUInt16BE(12);
  const p: Packet = { frame, etherType };
  if (etherType !== 0x0800 || frame.length < 34) return p;
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 15) * 4;
  const flags = ip.readUInt16BE(6);
  p.ipLength = ip.readUInt16BE(2);
  p.fragment = (flags & 0x2000) !== 0 || (flags & 0x1fff) !== 0;
  p.protocol = ip[9]!;
  p.src = [...ip.subarray(12, 16)].join('.');
  p.dst = [...ip.subarray(16, 20)].join('.');
  if (p.protocol === 17 && !p.fragment) {
    p.sport = ip.readUInt16BE(ihl);
    p.dport = ip.readUInt16BE(ihl + 2);
    p.payload = ip.subarray(ihl + 8, p.ipLength);
  }
  return p;
}

const INJECT = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    line = line.strip()
    if line:
        s.send(bytes.fromhex(line))
`;

/**
 * Sends `frames` out of `iface` in `ns` (they leave that link towards its peer), as captured
 * but for the UDP checksum, set to 0 ("none", legal in IPv4): a capture between veths holds
 * frames whose checksum the sender left to an offload that never ran.
 */
export async function inject(ns: string, iface: string, frames: Buffer[]): Promise<void> {
  const fixed = frames.map((f) => {
    const c = Buffer.from(f);
    if (c.readUInt16BE(12) === 0x0800 && c[23] === 17) c.writeUInt16BE(0, 14 + (c[14]! & 15) * 4 + 6);
    return c.toString('hex');
  });
  await run(['python3', '-c', INJECT, iface], { netns: ns, input: fixed.join('\n') + '\n' });
}
