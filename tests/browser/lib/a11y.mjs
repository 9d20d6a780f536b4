// axe-core (WCAG 2.2 A/AA rules) and a keyboard walk, on one page.
import { AxeBuilder } from '@axe-core/playwright';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * WCAG rules that axe ships switched off as "experimental" but that belong to the tags above:
 * label-content-name-mismatch is WCAG 2.5.3 Label in Name (level A).
 */
export const AXE_EXTRA_RULES = ['label-content-name-mismatch'];

/**
 * Runs axe on the page as loaded; returns { violations: [{ id, impact, help, nodes }], incomplete }
 * (incomplete: rules axe could not decide, for information).
 */
export async function runAxe(page) {
  const rules = Object.fromEntries(AXE_EXTRA_RULES.map((id) => [id, { enabled: true }]));
  // options() first: it replaces the whole options object, withTags() then adds runOnly.
  const results = await new AxeBuilder({ page }).options({ rules }).withTags(AXE_TAGS).analyze();
  const violations = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
  }));
  const incomplete = results.incomplete.map((v) => `${v.id} (${v.nodes.length})`);
  return { violations, incomplete, passes: results.passes.length };
}

/** Marks every visible interactive element with data-kb-id, returns their descriptions. */
function markInteractive() {
  const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const items = [];
  let n = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.matches('summary') && el.parentElement?.localName !== 'details') continue;
    if (el.disabled) continue;
    const style = getComputedStyle(el);
    const visible = el.getClientRects().length > 0 && style.visibility !== 'hidden' && el.checkVisibility({ visibilityProperty: true });
    if (!visible) continue;
    el.setAttribute('data-kb-id', String(n));
    items.push({
      id: n,
      tag: el.localName,
      type: el.getAttribute('type') ?? '',
      name: el.getAttribute('name') ?? '',
      text: (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 50),
      href: el.getAttribute('href') ?? '',
      // Radio buttons of one group are one tab stop: reaching any of them reaches the group.
      group: el.matches('input[type="radio"]') && el.name ? `radio:${el.form?.action ?? ''}:${el.name}` : null,
    });
    n += 1;
  }
  return items;
}

/** What has focus now: its data-kb-id (or a description if it is not one of ours). */
function focused() {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return { id: null, what: 'body' };
  const id = el.getAttribute('data-kb-id');
  const style = getComputedStyle(el);
  const indicator = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return {
    id: id === null ? null : Number(id),
    what: `<${el.localName}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}>`,
    skipLink: el.matches('a.skip-link'),
    isMain: el.matches('main#main'),
    indicator,
    inViewport: (() => {
      const r = el.getBoundingClientRect();
      return r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
    })(),
  };
}

/** The accessible name and role Chromium computed for the element with this data-kb-id. */
async function accessibleName(cdp, id) {
  const { result } = await cdp.send('Runtime.evaluate', { expression: `document.querySelector('[data-kb-id="${id}"]')` });
  const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false });
  await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
  const node = nodes.find((x) => !x.ignored) ?? nodes[0];
  return { name: String(node?.name?.value ?? '').trim(), role: node?.role?.value ?? '' };
}

/**
 * The keyboard check of one page; `load(page)` brings a fresh copy of it into `page`:
 *  1. fresh load, first Tab: focus is on `a.skip-link`, which is then on screen; Enter on it
 *     moves focus to `main#main`;
 *  2. fresh load, Tab through the whole page: every visible interactive element (a[href],
 *     button, input other than hidden, select, textarea, summary, positive tabindex; a radio
 *     group counts once) receives focus, shows a focus indicator, and has a non-empty
 *     accessible name as computed by Chromium's accessibility tree.
 * Returns { ok, problems: [...], reached, total }.
 */
export async function keyboardCheck(page, load) {
  const problems = [];

  await load(page);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(focused);
  if (!first.skipLink) problems.push(`first Tab reached ${first.what}, not a.skip-link`);
  else {
    if (!first.inViewport) problems.push('the skip link is not on screen when focused');
    await page.keyboard.press('Enter');
    const after = await page.evaluate(focused);
    if (!after.isMain) problems.push(`Enter on the skip link left focus on ${after.what}, not main#main`);
  }

  await load(page);
  const items = await page.evaluate(markInteractive);
  const reached = new Set();
  const order = [];
  const limit = items.length * 2 + 10;
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(focused);
    if (now.id === null) {
      if (order.length > 0 && now.what === 'body') break; // left the end of the page
      if (now.what !== 'body') problems.push(`Tab reached ${now.what}, which is not a visible interactive element`);
      continue;
    }
    if (reached.has(now.id) && now.id === order[0]) break; // wrapped around
    if (!now.indicator) problems.push(`no visible focus indicator on ${describe(items[now.id])}`);
    reached.add(now.id);
    order.push(now.id);
  }
  const groupsReached = new Set(items.filter((it) => reached.has(it.id) && it.group).map((it) => it.group));
  for (const it of items) {
    if (reached.has(it.id) || (it.group && groupsReached.has(it.group))) continue;
    problems.push(`never reached by Tab: ${describe(it)}`);
  }

  const cdp = await page.context().newCDPSession(page);
  try {
    for (const it of items) {
      const { name, role } = await accessibleName(cdp, it.id);
      it.accessibleName = name;
      it.role = role;
      if (!name) problems.push(`no accessible name: ${describe(it)} (role ${role || 'none'})`);
    }
  } finally {
    await cdp.detach();
  }
  const stops = new Set(items.map((it) => it.group ?? it.id));
  const stopsReached = new Set(items.filter((it) => reached.has(it.id) || (it.group && groupsReached.has(it.group))).map((it) => it.group ?? it.id));
  return { ok: problems.length === 0, problems: [...new Set(problems)], reached: stopsReached.size, total: stops.size };
}

function describe(it) {
  if (!it) return '(unknown element)';
  const bits = [`<${it.tag}${it.type ? ` type=${it.type}` : ''}${it.name ? ` name=${it.name}` : ''}>`];
  if (it.href) bits.push(`href=${it.href}`);
  if (it.text) bits.push(JSON.stringify(it.text));
  return bits.join(' ');
}
