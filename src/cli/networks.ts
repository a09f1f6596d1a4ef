/**
 * `seam networks import-aws-ranges FILE [--out COPY]`: checks an ip-ranges.json the operator downloaded (Seam
 * downloads nothing), says what it holds and how old it is, and writes the compact gzipped copy that
 * `native.awsIpRangesFile` reads and a ConfigMap holds (ADR 0049).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isSeamError } from '../core/errors.ts';
import { awsRangesAgeDays, awsRangesStaleWarning, buildAwsRanges, readAwsIpRangesFile, type AwsIpRangesFile, type AwsRanges } from '../detect/native/aws-ranges.ts';

interface Out {
  write(s: string): unknown;
}

/** Kubernetes keeps a ConfigMap's data under 1 MiB. */
const CONFIGMAP_BYTES = 1024 * 1024;

export interface ImportAwsRangesOptions {
  out?: string;
  /** Now, for the age (tests). */
  nowMs?: number;
}

/** One line: what the file holds. */
export function awsRangesSummary(t: AwsRanges, nowMs = Date.now()): string {
  const days = awsRangesAgeDays(t, nowMs);
  return `aws ranges: file=${t.file} createDate=${t.createDate} age_days=${days} syncToken=${t.syncToken} ipv4_prefixes=${t.prefixes4} ipv6_prefixes=${t.prefixes6} disjoint_ranges=${t.starts4.length + t.attr6.length} regions=${t.regions.length} services=${t.services.length}`;
}

/**
 * The copy: the documented fields only, the prefixes as given (nested ones included, so it reads like the
 * original), minified and gzipped.
 */
function compactCopy(doc: AwsIpRangesFile): Buffer {
  return gzipSync(JSON.stringify(doc), { level: 9 });
}

export async function importAwsRangesCommand(file: string, o: ImportAwsRangesOptions = {}, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const now = o.nowMs ?? Date.now();
  let t: AwsRanges;
  let source: AwsIpRangesFile;
  try {
    source = readAwsIpRangesFile(file);
    t = buildAwsRanges(file, source);
  } catch (e) {
    if (isSeamError(e)) {
      err.write(`seam: ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  out.write(`${awsRangesSummary(t, now)}\n`);
  const stale = awsRangesStaleWarning(t, now);
  if (stale !== undefined) err.write(`seam: warning: ${stale}\n`);
  if (o.out === undefined) {
    out.write(`use it as it is: native.awsIpRangesFile: ${file} in seam.yml (or SEAM_AWS_IP_RANGES); --out FILE writes a gzipped copy small enough for a ConfigMap\n`);
    return 0;
  }
  const doc = {
    syncToken: t.syncToken,
    createDate: t.createDate,
    prefixes: source.prefixes.map((p) => ({ ip_prefix: p.ip_prefix, region: p.region, service: p.service, ...(p.network_border_group === undefined ? {} : { network_border_group: p.network_border_group }) })),
    ipv6_prefixes: source.ipv6_prefixes.map((p) => ({ ipv6_prefix: p.ipv6_prefix, region: p.region, service: p.service, ...(p.network_border_group === undefined ? {} : { network_border_group: p.network_border_group }) })),
  };
  const bytes = compactCopy(doc);
  try {
    mkdirSync(dirname(o.out), { recursive: true });
    const tmp = `${o.out}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, o.out);
  } catch (e) {
    err.write(`seam: cannot write ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  out.write(`wrote ${o.out} (${bytes.length} bytes, gzipped): set native.awsIpRangesFile: ${o.out} in seam.yml (or SEAM_AWS_IP_RANGES)\n`);
  if (bytes.length >= CONFIGMAP_BYTES) err.write(`seam: warning: ${o.out} is ${bytes.length} bytes, over a ConfigMap's 1 MiB: mount it from a volume or bake it into the image instead\n`);
  return 0;
}
