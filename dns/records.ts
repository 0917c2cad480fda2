/**
 * The `slice.local` zone, built from imported services: pure data, no I/O. The worker fills
 * `ImportedService`s from ServiceImports and their EndpointSlices; `buildZone` turns them into a
 * frozen name → records table that `RecordStore` swaps in whole, so a query sees either the old
 * zone or the new one, never half of each, and answers follow endpoint readiness as soon as the
 * worker hands a new list over.
 *
 * Names (zone `slice.local`, service `web` in namespace `shop`):
 *   web.shop.svc.slice.local                 A    every ready endpoint's slice address, all clusters
 *   <host>.<cluster>.web.shop.svc.slice.local A    one ready endpoint (host: its hostname, else its
 *                                                  address with dashes, as CoreDNS does)
 *   _<port>._<proto>.web.shop.svc.slice.local SRV  per named port: one record per ready endpoint,
 *                                                  target its host name, port the endpoint's own
 *   slice.local                              SOA  serial = the zone's generation
 * Every name between those and the apex (svc.slice.local, shop.svc.slice.local,
 * <cluster>.web..., _tcp.web...) exists empty: NOERROR with no data (RFC 8020), not NXDOMAIN.
 * An imported service with no ready endpoint still exists: NOERROR, no data.
 */
import type { Answer as WireRecord, RecordType, SoaAnswer, SrvData } from 'dns-packet';

/** One port of a service or an endpoint (ServiceImport spec.ports, EndpointSlice ports). */
export interface SlicePort {
  /** A DNS label; only named ports get SRV records. */
  name?: string;
  /** Default TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

/** One backend of an imported service, on the slice. */
export interface SliceEndpoint {
  /** Its slice (slice0) IPv4 address. */
  ip: string;
  /** The member cluster it runs in (a DNS label). */
  cluster: string;
  /** The pod's hostname (a DNS label); absent: its address with dashes. */
  hostname?: string;
  /** Only ready endpoints are answered. */
  ready: boolean;
  /** Its own port numbers by name (EndpointSlice ports); absent: the service's ports. */
  ports?: SlicePort[];
}

/**
 * What the zone needs of one ServiceImport: its name, the ports of its spec, and the endpoints
 * of every exporting cluster. `type` is kept for the record: on a slice there is no virtual IP,
 * so both types answer with the endpoints' addresses.
 */
export interface ImportedService {
  namespace: string;
  name: string;
  type?: 'ClusterSetIP' | 'Headless';
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

export interface ZoneOptions {
  /** The zone's apex, default `slice.local`. */
  zone?: string;
  /** TTL of every record and of negative answers (SOA minimum), seconds. */
  ttl?: number;
  /** The SOA serial; `RecordStore` counts it up. */
  serial?: number;
}

export type LookupRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface LookupResult {
  rcode: LookupRcode;
  answers: WireRecord[];
  /** The SOA on negative answers (for negative caching). */
  authorities: WireRecord[];
  /** A records of SRV targets. */
  additionals: WireRecord[];
}

export const DEFAULT_ZONE = 'slice.local';
export const DEFAULT_TTL = 2;

interface Node {
  a: string[];
  srv: SrvData[];
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const REFUSED: LookupResult = Object.freeze({
  rcode: 'REFUSED',
  answers: [],
  authorities: [],
  additionals: [],
});

/** A built zone: immutable, answers lookups. */
export class Zone {
  readonly records: number;

  constructor(
    readonly apex: string,
    readonly ttl: number,
    readonly serial: number,
    private readonly nodes: ReadonlyMap<string, Node>,
  ) {
    let n = 1;
    for (const node of nodes.values()) n += node.a.length + node.srv.length;
    this.records = n;
  }

  /**
   * Answers `type` for `name` (any case, with or without the final dot). Owner names of the
   * answers are `name` as asked, so a 0x20-randomised question gets its own spelling back.
   */
  lookup(name: string, type: RecordType | 'ANY'): LookupResult {
    const asked = name.endsWith('.') ? name.slice(0, -1) : name;
    const key = asked.toLowerCase();
    if (key !== this.apex && !key.endsWith(`.${this.apex}`)) return REFUSED;
    const node = this.nodes.get(key);
    if (!node) return { rcode: 'NXDOMAIN', answers: [], authorities: [this.soa()], additionals: [] };
    const answers: WireRecord[] = [];
    const additionals: WireRecord[] = [];
    const any = type === 'ANY';
    if (any || type === 'A')
      for (const ip of node.a) answers.push({ name: asked, type: 'A', ttl: this.ttl, data: ip });
    if (any || type === 'SRV') {
      for (const srv of node.srv) {
        answers.push({ name: asked, type: 'SRV', ttl: this.ttl, data: srv });
        for (const ip of this.nodes.get(srv.target)?.a ?? [])
          additionals.push({ name: srv.target, type: 'A', ttl: this.ttl, data: ip });
      }
    }
    if ((any || type === 'SOA') && key === this.apex) answers.push({ ...this.soa(), name: asked });
    return { rcode: 'NOERROR', answers, authorities: answers.length ? [] : [this.soa()], additionals };
  }

  private soa(): SoaAnswer {
    return {
      name: this.apex,
      type: 'SOA',
      ttl: this.ttl,
      data: {
        mname: `ns.dns.${this.apex}`,
        rname: `hostmaster.${this.apex}`,
        serial: this.serial,
        refresh: 60,
        retry: 10,
        expire: 300,
        minimum: this.ttl,
      },
    };
  }
}

export interface BuiltZone {
  zone: Zone;
  /** What was left out and why, one line each, naming the service and field. */
  problems: string[];
}

/** Builds the zone; invalid services, endpoints and ports are left out and reported. */
export function buildZone(services: readonly ImportedService[], opts: ZoneOptions = {}): BuiltZone {
  const apex = (opts.zone ?? DEFAULT_ZONE).toLowerCase().replace(/\.$/, '');
  const problems: string[] = [];
  const nodes = new Map<string, Node>();
  const node = (name: string): Node => {
    let n = nodes.get(name);
    if (!n) nodes.set(name, (n = { a: [], srv: [] }));
    return n;
  };
  // Every ancestor of a name with data exists, up to the apex.
  const withParents = (name: string): Node => {
    for (let p = name; p.length > apex.length; p = p.slice(p.indexOf('.') + 1)) node(p);
    return node(name);
  };
  node(apex);
  node(`svc.${apex}`);
  for (const svc of services) {
    const id = `service ${svc.namespace}/${svc.name}`;
    if (!LABEL.test(svc.namespace) || !LABEL.test(svc.name)) {
      problems.push(`${id}: namespace and name must be DNS labels (lowercase letters, digits, '-')`);
      continue;
    }
    const base = `${svc.name}.${svc.namespace}.svc.${apex}`;
    const service = withParents(base);
    for (const [i, ep] of svc.endpoints.entries()) {
      const where = `${id} endpoints[${i}]`;
      const bad = endpointProblem(ep);
      if (bad) {
        problems.push(`${where}: ${bad}`);
        continue;
      }
      if (!ep.ready) continue;
      const host = `${ep.hostname ?? ep.ip.replace(/\./g, '-')}.${ep.cluster}.${base}`;
      pushUnique(service.a, ep.ip);
      pushUnique(withParents(host).a, ep.ip);
      for (const port of ep.ports ?? svc.ports) {
        if (port.name === undefined) continue;
        const bad = portProblem(port);
        if (bad) {
          problems.push(`${where} port ${port.name}: ${bad}`);
          continue;
        }
        const proto = (port.protocol ?? 'TCP').toLowerCase();
        const srv = withParents(`_${port.name}._${proto}.${base}`).srv;
        if (!srv.some((s) => s.target === host && s.port === port.port))
          srv.push({ priority: 0, weight: 0, port: port.port, target: host });
      }
    }
  }
  for (const n of nodes.values()) {
    n.a.sort(compareIp);
    // Equal shares for every target, as CoreDNS gives them.
    for (const s of n.srv) s.weight = Math.floor(100 / n.srv.length);
    n.srv.sort((x, y) => (x.target < y.target ? -1 : x.target > y.target ? 1 : x.port - y.port));
  }
  const zone = new Zone(apex, opts.ttl ?? DEFAULT_TTL, (opts.serial ?? 1) >>> 0, nodes);
  return { zone, problems };
}

function endpointProblem(ep: SliceEndpoint): string | undefined {
  if (typeof ep.ip !== 'string' || !IPV4.test(ep.ip)) return `ip "${String(ep.ip)}" is not an IPv4 address`;
  if (typeof ep.cluster !== 'string' || !LABEL.test(ep.cluster))
    return `cluster "${String(ep.cluster)}" must be a DNS label`;
  if (ep.hostname !== undefined && (typeof ep.hostname !== 'string' || !LABEL.test(ep.hostname)))
    return `hostname "${String(ep.hostname)}" must be a DNS label`;
  if (typeof ep.ready !== 'boolean') return 'ready must be true or false';
  return undefined;
}

function portProblem(p: SlicePort): string | undefined {
  if (typeof p.name !== 'string' || !LABEL.test(p.name)) return 'name must be a DNS label';
  if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol))
    return `protocol "${String(p.protocol)}" must be TCP, UDP or SCTP`;
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) return 'port must be 1 to 65535';
  return undefined;
}

function pushUnique(list: string[], ip: string): void {
  if (!list.includes(ip)) list.push(ip);
}

function compareIp(x: string, y: string): number {
  const a = x.split('.').map(Number);
  const b = y.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The zone being served. `replace` builds the new zone off to the side and swaps the one
 * reference: a query in flight keeps the zone it started with.
 */
export class RecordStore {
  private current: Zone;
  private generation = 0;

  constructor(private readonly opts: Omit<ZoneOptions, 'serial'> = {}) {
    this.current = buildZone([], { ...opts, serial: this.generation }).zone;
  }

  get zone(): Zone {
    return this.current;
  }

  /** Builds and swaps in the zone of `services`; returns what was left out. */
  replace(services: readonly ImportedService[]): string[] {
    const built = buildZone(services, { ...this.opts, serial: ++this.generation });
    this.current = built.zone;
    return built.problems;
  }
}
