import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../../core/atomic-file.ts';
import { SeamError } from '../../core/errors.ts';
import { isCheckpoint, type Checkpoint, type CheckpointStore, type StoredCheckpoint } from './store.ts';

/**
 * Checkpoints of embedded mode in one local state file (JSON: key → checkpoint). Every save replaces the
 * file atomically (`writeFileAtomically`: temp file, fsync, rename, fsync the folder), so a crash leaves
 * either the old file or the new one, never a torn one. Saves are serialized.
 */
export class FileCheckpointStore implements CheckpointStore {
  private state: Record<string, StoredCheckpoint> | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  private async read(): Promise<Record<string, StoredCheckpoint>> {
    if (this.state !== undefined) return this.state;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return (this.state = {});
      throw new SeamError('SEAM_ERR_CHECKPOINT_LOAD', `cannot read checkpoint file ${this.path}: ${(e as Error).message}`, { cause: e, details: { path: this.path } });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new SeamError('SEAM_ERR_CHECKPOINT_LOAD', `checkpoint file ${this.path} is not valid JSON; move it away to start over`, { cause: e, details: { path: this.path } });
    }
    const out: Record<string, StoredCheckpoint> = {};
    if (parsed !== null && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) if (isCheckpoint(v)) out[k] = v;
    }
    return (this.state = out);
  }

  async load(key: string): Promise<StoredCheckpoint | undefined> {
    return (await this.read())[key];
  }

  save(key: string, cp: Checkpoint): Promise<void> {
    const run = this.chain.then(async () => {
      const state = { ...(await this.read()), [key]: cp };
      await this.writeAtomically(JSON.stringify(state));
      this.state = state;
    });
    // Keep the chain alive after a failure; the caller still sees its own error.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeAtomically(text: string): Promise<void> {
    try {
      await writeFileAtomically(this.path, text);
    } catch (e) {
      throw new SeamError('SEAM_ERR_CHECKPOINT_SAVE', `cannot save checkpoint file ${this.path}: ${(e as Error).message}`, { cause: e, details: { path: this.path } });
    }
  }

  async close(): Promise<void> {
    await this.chain;
  }
}
