/**
 * Records from a JSON file, `{"services": [ImportedService, ...]}` (records.ts), re-read as soon
 * as it changes: the standalone and benchmark source of slicenet-dns, and the shape a worker
 * writes. The directory is watched, not the file, so a writer that replaces the file by rename
 * (the atomic way) is seen too. A file that cannot be read or parsed leaves the zone as it was.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SlicenetError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { ImportedService, RecordStore } from './records.ts';

export class RecordsFileError extends SlicenetError {
  constructor(path: string, message: string, cause?: unknown) {
    super('DNS_RECORDS_INVALID', `records file ${path}: ${message}`, { cause });
  }
}

/** Checks the outer shape; records.ts checks every endpoint and port. */
export function parseServices(text: string, path: string): ImportedService[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RecordsFileError(path, `is not JSON (${(err as Error).message})`, err);
  }
  const services = (doc as { services?: unknown } | null)?.services;
  if (!Array.isArray(services))
    throw new RecordsFileError(path, 'must be an object with a "services" list: {"services": [...]}');
  for (const [i, s] of services.entries()) {
    const svc = s as Partial<ImportedService> | null;
    if (typeof svc?.namespace !== 'string' || typeof svc.name !== 'string')
      throw new RecordsFileError(path, `services[${i}] needs "namespace" and "name" strings`);
    if (!Array.isArray(svc.ports) || !Array.isArray(svc.endpoints))
      throw new RecordsFileError(path, `services[${i}] needs "ports" and "endpoints" lists (may be empty)`);
  }
  return services as ImportedService[];
}

export interface FileSourceOptions {
  path: string;
  store: RecordStore;
  log: Logger;
  /** Called after every failed read. */
  onError?: (err: Error) => void;
}

export class FileSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading = Promise.resolve();

  constructor(private readonly opts: FileSourceOptions) {}

  /** Loads the file once (throwing if it cannot), then follows its changes until `signal`. */
  async start(signal: AbortSignal): Promise<void> {
    await this.load();
    const name = basename(this.opts.path);
    this.watcher = watch(dirname(this.opts.path), (_event, file) => {
      if (file !== null && file !== name) return;
      // Coalesce the several events one write makes.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.loading = this.loading.then(() => this.reload());
      }, 10);
    });
    signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async reload(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      this.opts.log.error('records not reloaded; serving the previous zone', { err });
      this.opts.onError?.(err as Error);
    }
  }

  private async load(): Promise<void> {
    const { path, store, log } = this.opts;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new RecordsFileError(path, `cannot be read (${(err as Error).message})`, err);
    }
    const problems = store.replace(parseServices(text, path));
    for (const p of problems.slice(0, 20)) log.error('record left out', { problem: p });
    log.info('records loaded', {
      serial: store.zone.serial,
      records: store.zone.records,
      left: problems.length,
    });
  }
}
