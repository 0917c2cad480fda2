/**
 * `npm run bench:gateway` (after slice-gateway/bench/setup.sh): Slicenet's gateway, both
 * ciphers, against OpenVPN as KubeSlice runs it, OpenVPN with AES-256-GCM, kernel VXLAN and a
 * bare veth, pod to pod across one WAN link — see the Benchmark section of
 * slice-gateway/README.md. Needs root. The last stdout line is the JSON summary.
 */
import { join } from 'node:path';
import { runBench } from '../../lib/bench.ts';
import { readConfig } from './config.ts';
import { runGatewayBench } from './runner.ts';

runBench('gateway', () => runGatewayBench(readConfig(), join(import.meta.dirname, '..', '..')));
