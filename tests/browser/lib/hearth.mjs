// Starting a throw-away Hearth server and talking to it like a browser's forms do.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts `hearth serve` on a free loopback port over a fresh data dir, with administrator `ada`. */
export async function startHearth(bin, { adminName = 'ada', adminPassword }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-browser-'));
  const passwordFile = join(dataDir, 'admin-password');
  writeFileSync(passwordFile, `${adminPassword}\n`, { mode: 0o600 });
  const created = spawnSync(bin, ['admin', 'create', adminName, '--data-dir', dataDir, '--password-file', passwordFile], {
    encoding: 'utf8',
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  if (created.error || created.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`hearth admin create failed (${created.error ?? `exit ${created.status}`}): ${created.stderr}`);
  }
  // The checks post thousands of payloads from a few accounts, and the seed's fixture texts
  // again and again: no posting limits, and a repeated text is a new reply.
  const noLimits = Object.fromEntries([
    ...['PER_MINUTE', 'PER_DAY', 'NEW_ACCOUNT_PER_MINUTE', 'NEW_ACCOUNT_PER_DAY'].map((l) => [`HEARTH_POSTING_LIMITS__${l}`, '0']),
    ['HEARTH_SAME_REPLY_MINUTES', '0'],
    // Each page is loaded several times a minute (both schemes, the keyboard walk).
    ['HEARTH_SEARCH__PER_MINUTE', '100000'],
    ['HEARTH_SEARCH__VISITOR_PER_MINUTE', '100000'],
  ]);
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn', ...noLimits },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-20000); });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hearth serve printed no URL within 30 s; stderr:\n${stderr}`)), 30000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^Hearth is running at (http:\/\/127\.0\.0\.1:\d+)\/$/m);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`hearth serve exited (${code ?? signal}) before it was ready; stderr:\n${stderr}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  child.removeAllListeners('exit');
  // Whatever happens to this process, the server goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, dataDir, child, stop, stderr: () => stderr };
}

const HIDDEN = /<input\b[^>]*\btype="hidden"[^>]*>/g;
const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;/g, '/').replace(/&amp;/g, '&');

/** The hidden inputs (name → value) of the form whose action is `action` in `html`. */
export function hiddenFields(html, action) {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form with action ${action} on the page`);
  const end = html.indexOf('</form>', start);
  const form = html.slice(start, end);
  const fields = {};
  for (const input of form.match(HIDDEN) ?? []) {
    const name = input.match(/\bname="([^"]*)"/)?.[1];
    const value = input.match(/\bvalue="([^"]*)"/)?.[1] ?? '';
    if (name) fields[name] = decode(value);
  }
  return fields;
}

/**
 * GETs `formPage`, reads the hidden fields of the form posting to `action`, and POSTs them with
 * `fields`, form-urlencoded, without following redirects. Returns { status, location, body }.
 */
export async function submitForm(request, formPage, action, fields) {
  const page = await request.get(formPage, { maxRedirects: 0 });
  if (page.status() !== 200) throw new Error(`GET ${formPage} answered ${page.status()}`);
  const hidden = hiddenFields(await page.text(), action);
  return postForm(request, action, { ...hidden, ...fields });
}

export async function postForm(request, action, fields) {
  const res = await request.post(action, { form: fields, maxRedirects: 0 });
  const status = res.status();
  return { status, location: res.headers()['location'] ?? null, body: status === 303 ? '' : await res.text() };
}

/** Throws unless the answer is a 303 (Post/Redirect/Get); returns where it points. */
export function expectRedirect(answer, what) {
  if (answer.status !== 303) {
    const error = answer.body.match(/<div class="error-summary"[\s\S]*?<\/div>/)?.[0]?.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    throw new Error(`${what}: expected 303, got ${answer.status}${error ? `: ${error}` : ''}`);
  }
  return answer.location;
}

