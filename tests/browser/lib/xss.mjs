// Opening pages in Chromium with traps that notice any script a payload managed to run.

/**
 * Runs in every frame before the page's own markup (Playwright injects it through the DevTools
 * protocol, so our CSP does not block it). Replaces the dialog functions with recorders and
 * listens for CSP violations.
 */
function installTraps() {
  const calls = [];
  const violations = [];
  Object.defineProperty(window, '__hearthTrap', { value: { calls, violations }, enumerable: false });
  for (const name of ['alert', 'confirm', 'prompt', 'print', 'open']) {
    const recorder = function (...args) {
      calls.push({ call: name, argument: String(args[0]).slice(0, 120) });
      return name === 'confirm' ? false : null;
    };
    try {
      Object.defineProperty(window, name, { value: recorder, writable: true, configurable: true });
    } catch {
      window[name] = recorder;
    }
  }
  document.addEventListener(
    'securitypolicyviolation',
    (e) => violations.push({ directive: e.effectiveDirective || e.violatedDirective, blocked: String(e.blockedURI).slice(0, 120) }),
    true,
  );
}

/**
 * Finds markup that could run script, anywhere in the document: elements that load or run
 * code, event-handler attributes, and script-capable URLs. None may exist: Hearth's own
 * templates have none, and whatever members write is sanitized or escaped.
 */
function scanDom() {
  const found = [];
  // Our one script (static/zone.js, in the head, from our origin) and nothing else.
  const risky = 'script:not(head > script[src="/static/zone.js"]:not([integrity]):not([type])), iframe, frame, frameset, object, embed, applet, base, meta[http-equiv], link:not([rel="stylesheet"][href="/static/hearth.css"]):not(head > link[rel="alternate"][type="application/atom+xml"][href$="/feed.atom"]), portal, svg, math, template, style';
  for (const el of document.querySelectorAll(risky)) {
    found.push(`<${el.localName}> element`);
  }
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'xlink:href', 'background', 'poster', 'lowsrc', 'dynsrc', 'ping', 'srcset'];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${name}= on <${el.localName}>`);
      else if (name === 'style') found.push(`style= on <${el.localName}>`);
      else if (urlAttrs.includes(name) && /^\s*(javascript|vbscript|data|livescript|mocha):/i.test(attr.value.replace(/[\u0000-\u0020]/g, ''))) {
        found.push(`${name}="${attr.value.slice(0, 60)}" on <${el.localName}>`);
      }
    }
  }
  return found;
}

/** `promise`, or a rejection after `ms` milliseconds. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createTrapper({ origin, settleMs }) {
  /** Prepares a page (once): traps, and listeners that record into `page.__hearth`. */
  async function prepare(page) {
    await page.addInitScript(installTraps);
    page.__hearth = null;
    page.on('dialog', (dialog) => {
      page.__hearth?.dialogs.push({ type: dialog.type(), message: dialog.message().slice(0, 120) });
      dialog.dismiss().catch(() => {});
    });
    page.on('pageerror', (error) => page.__hearth?.errors.push(String(error.message).slice(0, 200)));
    page.on('request', (req) => {
      const record = page.__hearth;
      if (!record) return;
      if (isAllowed(req, record)) return;
      record.requests.push({ type: req.resourceType(), method: req.method(), url: req.url().slice(0, 160), frame: req.frame() === page.mainFrame() ? 'main' : 'sub' });
    });
    page.on('requestfailed', (req) => {
      const record = page.__hearth;
      if (!record) return;
      const hit = record.requests.find((r) => r.url === req.url().slice(0, 160) && !r.outcome);
      if (hit) hit.outcome = req.failure()?.errorText;
    });
  }

  /**
   * The request rule: while a page is open, the browser may fetch exactly
   *  1. the document we navigated to (main frame, resource type `document`, the URL we asked for,
   *     or a same-origin redirect of it during that navigation), and
   *  2. same-origin GETs under /static/ of type stylesheet, image or font (our theme's assets),
   *     and our one script, /static/zone.js.
   * Every other request is a failure, whether or not CSP then blocks it: a request of any type
   * to another origin, and any same-origin xhr, fetch, websocket, eventsource, script, image,
   * media, font, ping, subframe document or later navigation. Such a request can only come from
   * a member's markup or script getting through.
   */
  function isAllowed(req, record) {
    const url = new URL(req.url());
    const sameOrigin = url.origin === origin;
    if (req.resourceType() === 'document' && req.isNavigationRequest() && req.frame() === req.frame().page().mainFrame() && !record.navigated) {
      // The navigation we started, or a same-origin redirect of it (`navigated` is set once it has loaded).
      let first = req;
      while (first.redirectedFrom()) first = first.redirectedFrom();
      if (first.url() === record.target && sameOrigin) return true;
    }
    if (sameOrigin && req.method() === 'GET' && url.pathname === '/static/zone.js' && !url.search && req.resourceType() === 'script') return true;
    return sameOrigin && req.method() === 'GET' && url.pathname.startsWith('/static/') && ['stylesheet', 'image', 'font'].includes(req.resourceType());
  }

  /**
   * Opens `url` in `page`, waits for load plus `settleMs`, and returns what the traps saw:
   * { url, status, calls, dialogs, errors, requests, violations, dom }. `inject`, for the
   * canary only, runs in the page after load. `expect`: { posts: n } li.post elements shown,
   * { text: [selector, text] } that element's text starts with `text` (whitespace collapsed),
   * { value: [selector, value] } that form field's value is exactly `value`.
   */
  async function visit(page, url, { expectStatus = 200, inject = null, expect = {} } = {}) {
    const record = { url, target: new URL(url, origin).href, status: null, calls: [], dialogs: [], errors: [], requests: [], violations: [], dom: [], navigated: false, problems: [] };
    page.__hearth = record;
    try {
      await within(inspect(page, record, { inject, expect }), 60000, 'opening and inspecting the page');
    } catch (error) {
      record.problems.push(`could not open: ${String(error.message).split('\n')[0]}`);
      record.stuck = true; // the caller replaces this tab
    } finally {
      page.__hearth = null;
    }
    if (record.status !== expectStatus) record.problems.push(`status ${record.status}, expected ${expectStatus}`);
    record.executions = record.calls.length + record.dialogs.length + record.errors.length;
    record.ok = record.executions === 0 && record.requests.length === 0 && record.dom.length === 0 && record.problems.length === 0;
    return record;
  }

  async function inspect(page, record, { inject, expect }) {
    const response = await page.goto(record.target, { waitUntil: 'load', timeout: 30000 });
    record.status = response?.status() ?? null;
    record.navigated = true;
    if (inject) await page.evaluate(inject);
    await page.waitForTimeout(settleMs);
    if (page.frames().length > 1) record.problems.push(`${page.frames().length - 1} frame(s) in the page`);
    for (const frame of page.frames()) {
      // A frame that CSP refused to load may never give Playwright a context: don't wait long.
      const read = frame.evaluate(() => (window.__hearthTrap ? { calls: window.__hearthTrap.calls, violations: window.__hearthTrap.violations } : null));
      const trap = await within(read, 10000, 'reading the traps').catch((e) => {
        if (frame === page.mainFrame()) throw e;
        return null;
      });
      if (trap) {
        record.calls.push(...trap.calls);
        record.violations.push(...trap.violations);
      }
    }
    record.dom = await within(page.evaluate(scanDom), 15000, 'scanning the DOM');
    // What the page shows, read in one go (no auto-waiting: the page has loaded).
    const shown = await within(page.evaluate(({ text, value }) => ({
      posts: document.querySelectorAll('li.post').length,
      text: text ? document.querySelector(text)?.textContent ?? null : null,
      value: value ? document.querySelector(value)?.value ?? null : null,
    }), { text: expect.text?.[0], value: expect.value?.[0] }), 15000, 'reading the page');
    if (expect.posts !== undefined && shown.posts !== expect.posts) {
      record.problems.push(`${shown.posts} posts shown, expected ${expect.posts}`);
    }
    if (expect.value && shown.value !== expect.value[1]) {
      // A form field holds exactly what was sent (so nothing broke out of it).
      record.problems.push(`${expect.value[0]} holds ${JSON.stringify(shown.value?.slice(0, 80) ?? null)}, not the text sent, ${JSON.stringify(expect.value[1].slice(0, 80))}`);
    }
    if (expect.text) {
      // Shown as literal text: the element's text starts with what was sent (spaces collapsed).
      const squash = (x) => x.replace(/\s+/g, ' ').trim();
      const sent = squash(expect.text[1]);
      if (shown.text === null || !squash(shown.text).startsWith(sent)) {
        record.problems.push(`${expect.text[0]} shows ${JSON.stringify(shown.text === null ? null : squash(shown.text).slice(0, 80))}, not the text sent, ${JSON.stringify(sent.slice(0, 80))}`);
      }
    }
    if (page.url() !== record.target) record.problems.push(`page moved to ${page.url()}`);
  }

  return { prepare, visit };
}

/** Explains a failed visit in a few lines. */
export function describeVisit(r) {
  const lines = [];
  for (const c of r.calls) lines.push(`${c.call}(${JSON.stringify(c.argument)}) was called`);
  for (const d of r.dialogs) lines.push(`a ${d.type} dialog opened: ${JSON.stringify(d.message)}`);
  for (const e of r.errors) lines.push(`script ran and threw: ${e}`);
  for (const q of r.requests) lines.push(`unexpected request: ${q.type} ${q.method} ${q.url} (${q.frame} frame${q.outcome ? `, ${q.outcome}` : ''})`);
  for (const d of r.dom) lines.push(`markup that must not survive sanitizing or escaping: ${d}`);
  lines.push(...r.problems);
  return lines;
}
