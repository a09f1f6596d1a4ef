/**
 * Headless Chromium (Debian's `chromium` package) driven through the DevTools protocol over a pipe
 * (`--remote-debugging-pipe`: NUL-terminated JSON on fds 3 and 4), so no websocket client or npm browser
 * package is needed. Renders a local page, collects console errors, uncaught exceptions, log errors and any
 * request that leaves the file (a self-contained page makes none), evaluates an expression, and screenshots
 * the full page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser binary: SEAM_CHROMIUM, else Debian's chromium; undefined when none is installed. */
export function findChromium(): string | undefined {
  const env = process.env.SEAM_CHROMIUM;
  if (env !== undefined && env !== '') return existsSync(env) ? env : undefined;
  return CANDIDATES.find((c) => existsSync(c));
}

export const CHROMIUM_MISSING =
  'headless Chromium not found: install Debian\'s package (`apt-get install chromium`, as .ci/run does) or point SEAM_CHROMIUM at a Chrome/Chromium binary';

export interface RenderResult<T> {
  /** console.error/assert calls, uncaught exceptions and browser log errors (failed loads, CSP…). */
  errors: string[];
  /** Requests to anything but the page itself and data: URLs. */
  externalRequests: string[];
  /** What the expression evaluated to in the loaded page. */
  value: T;
  /** Full-page size in CSS pixels. */
  width: number;
  height: number;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

class Cdp {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private buf = '';
  readonly listeners: ((method: string, params: Record<string, unknown>, sessionId?: string) => void)[] = [];

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, i)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
        this.buf = this.buf.slice(i + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(msg.error.message));
          else p?.resolve(msg.result ?? {});
        } else if (msg.method) for (const l of this.listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`chromium: ${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/**
 * Loads `file` in headless Chromium at `width` CSS pixels, evaluates `expression` (returned by value), and
 * writes a full-page PNG to `png`.
 */
export async function renderPage<T>(file: string, png: string, expression: string, opts: { width?: number; timeoutMs?: number; firstScreenPng?: string; firstScreenHeight?: number } = {}): Promise<RenderResult<T>> {
  const bin = findChromium();
  if (bin === undefined) throw new Error(CHROMIUM_MISSING);
  const width = opts.width ?? 1440;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const profile = mkdtempSync(join(tmpdir(), 'seam-chromium-'));
  const args = ['--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--hide-scrollbars', '--font-render-hinting=none', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'];
  // Chromium refuses to run as root with its sandbox on.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const cdp = new Cdp(child.stdio[3] as Writable, child.stdio[4] as Readable);
  child.on('exit', (code) => cdp.failAll(new Error(`chromium exited (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`)));
  const errors: string[] = [];
  const externalRequests: string[] = [];
  const pageUrl = pathToFileURL(file).href;
  let loaded: () => void = () => {};
  const load = new Promise<void>((r) => (loaded = r));
  cdp.listeners.push((method, params) => {
    if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
      errors.push(`console.${String(params.type)}: ${JSON.stringify((params.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description))}`);
    } else if (method === 'Runtime.exceptionThrown') {
      const d = params.exceptionDetails as { text: string; exception?: { description?: string } };
      errors.push(`exception: ${d.exception?.description ?? d.text}`);
    } else if (method === 'Log.entryAdded') {
      const e = params.entry as { level: string; text: string; url?: string };
      if (e.level === 'error') errors.push(`log: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    } else if (method === 'Network.requestWillBeSent') {
      const url = (params.request as { url: string }).url;
      if (url !== pageUrl && !url.startsWith('data:') && url !== 'about:blank') externalRequests.push(url);
    } else if (method === 'Page.loadEventFired') loaded();
  });
  try {
    return await withTimeout(
      (async () => {
        const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
        const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
        for (const m of ['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable']) await cdp.send(m, {}, sessionId);
        await cdp.send('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
        await cdp.send('Page.navigate', { url: pageUrl }, sessionId);
        await load;
        const ev = (await cdp.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: { text: string } };
        if (ev.exceptionDetails) throw new Error(`chromium: evaluating the check failed: ${ev.exceptionDetails.text}`);
        const m = (await cdp.send('Page.getLayoutMetrics', {}, sessionId)) as { cssContentSize: { width: number; height: number } };
        const w = Math.ceil(m.cssContentSize.width);
        const h = Math.ceil(m.cssContentSize.height);
        const shot = (await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: w, height: h, scale: 1 } }, sessionId)) as { data: string };
        writeFileSync(png, Buffer.from(shot.data, 'base64'));
        if (opts.firstScreenPng !== undefined) {
          // What a person sees without scrolling: the part that has to read at a glance.
          const top = (await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: w, height: Math.min(h, opts.firstScreenHeight ?? 1000), scale: 1 } }, sessionId)) as { data: string };
          writeFileSync(opts.firstScreenPng, Buffer.from(top.data, 'base64'));
        }
        return { errors, externalRequests, value: ev.result.value, width: w, height: h };
      })(),
      timeoutMs,
      `rendering ${file}`,
    );
  } finally {
    await cdp.send('Browser.close').catch(() => {});
    if (child.exitCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(profile, { recursive: true, force: true });
  }
}
