// Hearth's real-browser checks (issue #3), in Debian's Chromium driven by playwright-core.
//
// Starts target/debug/hearth (or $HEARTH_BIN) on a free loopback port over a fresh data dir,
// fills it through its own forms (HTTP, with the forms' hidden csrf_token/submission_key and
// cookies), then checks in headless Chromium. Each check counts once in the closing tally. The
// checks, numbered in the order they run:
//
// 0. Forms (2 checks): Chromium itself signs in through the sign-in form and, signed in,
//    replies through a thread's reply form; each must answer 303 and land where it should.
// 1. Accessibility (one check per page and colour scheme): axe-core with the rules tagged
//    wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa, plus label-content-name-mismatch (WCAG 2.5.3,
//    level A, which axe ships switched off as experimental), must report 0 violations, in the
//    light and the dark colour scheme, on realistic content: home, board (with ground rules), a
//    thread of 24 posts (lists, links, quotes, tables, code, an edited and a deleted post;
//    page 1 as a visitor, page 2 signed in with the reply form), new thread, edit post, delete
//    post, settings, sign in, a refused sign-in (401), register, register refused with errors
//    (422 with error summary), a profile with a markdown bio, the admin pages, and a 404 page.
//    The refused forms are sent from the page in Chromium (its minlength checks switched off).
// 2. Keyboard (one check per page, same pages): the first Tab of a freshly loaded page lands on
//    a.skip-link, which is then on screen, and Enter on it moves focus to main#main; tabbing
//    through the page reaches every visible interactive element (a[href], button, input but
//    hidden ones, select, textarea, summary, positive tabindex; one stop per radio group), each
//    shows a focus indicator, and each has a non-empty accessible name as Chromium's
//    accessibility tree computes it.
// 3. Choices and fields on a phone (2 checks per colour scheme): on "Report a post" each reason's
//    radio is inside its own label, each label box at least 44×44 px and none overlapping; a
//    text or password field marked aria-invalid shows the danger border.
// 4. Moderation on a phone (390×844, touch; 2 checks): one tap on Review shows the queue, someone
//    at risk first, fitting the screen; a reason chosen (none is preselected) and a tap on Hide
//    hide a post, which leaves the queue and is in the log.
// 5. The header (one check per member, size and colour scheme): one row at 390 and 1280 px, no
//    sideways scrolling, the menu holding Settings, Sign out and Messages, axe clean with it open.
// 6. Issue 14: on a phone the group page's first thread is above the fold (visitor, member,
//    facilitator), and no request Chromium makes on the main pages leaves the site.
// 7. Notifications on a phone (390×844, touch; per colour scheme): the bell is a 44×44 px target
//    named with its count, the notification list is axe clean and fits the screen, and tapping a
//    notification opens the first answer.
// 8. The reader's zone (1 check): a visitor whose browser is in Toronto gets the hearth_zone
//    cookie from static/zone.js, the sign-up form's zone set to America/Toronto, and their
//    next pages say "Toronto time" (a thread row's time in its title too).
// 9. XSS (one check per page opened): every line of ../shared/security/xss-payloads.txt
//    (relative to the repository root, or $HEARTH_XSS_CORPUS; read in place, never copied) is
//    posted as a post body, 199 to a thread; an even sample of 60 lines holding < > " ' & or `
//    becomes thread titles, and 30 more (at most 64 characters) display names, each with a
//    payload as pronouns and bio, of members who each reply once. Forms that refuse a payload
//    are listed, not dropped silently. Then every page of every payload thread, every page of
//    the payload board, the home page, each payload member's profile and settings page (signed
//    in as them, so the name is in the header too) and the edit form of each payload holding a
//    raw-text tag (textarea, title, xmp, plaintext, noscript, noembed, noframes) are opened,
//    three tabs at a time, with traps set before any markup runs. A page passes when, after
//    load plus a short settle ($HEARTH_XSS_SETTLE_MS, 150 ms):
//      - alert, confirm, prompt, print and window.open were never called (they are replaced by
//        recorders in every frame), no dialog opened, and no page error was thrown (Hearth
//        ships no script, so any script error is script that ran);
//      - THE REQUEST RULE: the browser requested nothing but the document we navigated to (or
//        a same-origin redirect of it) and same-origin GETs under /static/ of type stylesheet,
//        image or font. Any other request fails the page, even one CSP then blocked: anything
//        to another origin, and any same-origin xhr, fetch, websocket, eventsource, script,
//        image, media, font, ping, frame or later navigation;
//      - the DOM holds no script-capable or injected markup: script, iframe, object, embed,
//        base, meta http-equiv, link (but our stylesheet and, in the head, our Atom feeds' links),
//        svg, math, style elements and the
//        like, on*= or style= attributes, javascript:/vbscript:/data: URLs; and no frames;
//      - the page answered 200 and shows what was posted: 20 posts a page (fewer on the last),
//        titles and display names as literal text, form fields holding exactly what was sent.
//    CSP `securitypolicyviolation` events are counted and reported, but are not failures by
//    themselves: CSP blocking something is our defence working. Without the corpus file the
//    XSS check is reported as skipped, not passed. HEARTH_XSS_BYPASS_CSP=1 opens the pages with
//    CSP off, to test escaping and the sanitizer alone.
// 10. Issue 16: on a phone (light and dark) the community health dashboard names the first post
//    waiting longest above the fold, and the unanswered lane's first Reply button is there too;
//    both pages are in the axe and keyboard checks above.
// Canaries prove the detectors work on every run: the test itself runs script in a page (the
// traps must notice) and adds an unlabelled field, an unnamed button and an untabbable link
// (axe and the keyboard walk must notice).
//
// Ends with the line `N passed, M failed` (`, K skipped` added when something was skipped) and
// exits non-zero if anything failed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { startHearth } from './lib/hearth.mjs';
import { PASSWORD, newAgent, signIn, seedRealistic, seedPayloads, postIds } from './lib/seed.mjs';
import { createTrapper, describeVisit } from './lib/xss.mjs';
import { AXE_TAGS, AXE_EXTRA_RULES, runAxe, keyboardCheck } from './lib/a11y.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const BIN = process.env.HEARTH_BIN ?? join(REPO, 'target/debug/hearth');
const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
const CORPUS = process.env.HEARTH_XSS_CORPUS ?? resolve(REPO, '../shared/security/xss-payloads.txt');
const SETTLE_MS = Number(process.env.HEARTH_XSS_SETTLE_MS ?? 150);
const WORKERS = Number(process.env.HEARTH_BROWSER_TABS ?? 3);
const BYPASS_CSP = process.env.HEARTH_XSS_BYPASS_CSP === '1';
// A folder for the community health pages' screenshots (phone and desktop, light and dark), if set.
const SCREENSHOTS = process.env.HEARTH_SCREENSHOTS;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const started = Date.now();
const tally = { passed: 0, failed: 0, skipped: 0 };
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function check(kind, name, ok, details = []) {
  if (ok) tally.passed += 1;
  else tally.failed += 1;
  if (!ok || kind !== 'xss') console.log(`${ok ? 'PASS' : 'FAIL'} ${kind.padEnd(10)} ${name}`);
  if (!ok) for (const line of details.slice(0, 25)) console.log(`       ${line}`);
  if (!ok && details.length > 25) console.log(`       … and ${details.length - 25} more`);
}

function finish() {
  const skipped = tally.skipped ? `, ${tally.skipped} skipped` : '';
  console.log(`\nbrowser checks took ${seconds(started)}`);
  console.log(`${tally.passed} passed, ${tally.failed} failed${skipped}`);
  process.exitCode = tally.failed > 0 ? 1 : 0;
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.log(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium)`);
    check('setup', 'chromium present', false);
    return;
  }
  if (!existsSync(BIN)) {
    console.log(`Hearth binary not found at ${BIN}: build it with \`cargo build -p hearth\` or set HEARTH_BIN`);
    check('setup', 'hearth binary present', false);
    return;
  }
  let payloads = null;
  if (existsSync(CORPUS)) {
    payloads = readFileSync(CORPUS, 'utf8').split('\n');
    if (payloads.at(-1) === '') payloads.pop();
  }

  const hearth = await startHearth(BIN, { adminPassword: PASSWORD });
  const stopOnSignal = (signal) => {
    hearth.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  let browser;
  try {
    console.log(`Hearth at ${hearth.url} (${BIN})`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    console.log(`Chromium ${browser.version()} at ${CHROMIUM}`);
    const admin = await newAgent(hearth.url);
    await signIn(admin, 'ada');

    let phase = Date.now();
    const realistic = await seedRealistic(hearth.url, admin);
    console.log(`seeded realistic content in ${seconds(phase)}`);

    phase = Date.now();
    await formChecks(browser, hearth.url, realistic);
    await accessibilityChecks(browser, hearth.url, admin, realistic);
    console.log(`accessibility and keyboard checks took ${seconds(phase)}`);
    // Before the phone moderation check, which hides a reported post.
    await choiceChecks(browser, hearth.url, realistic);
    await phoneModeration(browser, hearth.url, admin);
    await headerChecks(browser, hearth.url, admin, realistic);
    await phoneGroupPage(browser, hearth.url, admin, realistic);
    await phoneHealth(browser, hearth.url, admin);
    await nothingLeavesTheSite(browser, hearth.url, admin, realistic);
    await phoneNotifications(browser, hearth.url, realistic);
    await zoneChecks(browser, hearth.url);

    if (payloads === null) {
      console.log(`\nxss corpus not found at ${CORPUS}: browser XSS check skipped`);
      tally.skipped += 1;
    } else {
      await xssChecks(browser, hearth.url, admin, payloads);
    }
  } catch (error) {
    console.log(`\nFAIL setup: ${error.stack ?? error}`);
    const log = hearth.stderr().trim();
    if (log) console.log(`hearth's log (last lines):\n${log.split('\n').slice(-20).join('\n')}`);
    tally.failed += 1;
  } finally {
    await browser?.close().catch(() => {});
    await hearth.stop();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Forms sent by Chromium itself (not by our HTTP helper): signing in through the sign-in form,
 * and replying through a thread's reply form while signed in. Both must answer 303 and land.
 */
async function formChecks(browser, baseURL, realistic) {
  console.log('\n== forms sent by Chromium');
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const posts = [];
  page.on('request', async (request) => {
    if (request.method() === 'POST') posts.push({ url: new URL(request.url()).pathname, origin: (await request.allHeaders()).origin });
  });
  const send = async (button) => {
    const redirects = [];
    const onResponse = (r) => { if (r.request().method() === 'POST') redirects.push(r.status()); };
    page.on('response', onResponse);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(button)]);
    page.off('response', onResponse);
    return { first: redirects[0], final: response.status() };
  };
  const explain = (answer, path) => {
    const sent = posts.filter((p) => p.url === path).at(-1);
    const lines = [`POST ${path} answered ${answer.first}, then the page shows ${answer.final}; Chromium sent Origin: ${sent?.origin ?? '(none)'}`];
    if (answer.first === 403 && sent?.origin === 'null') {
      lines.push('Chromium serializes Origin as "null" because the page\'s Referrer-Policy is no-referrer, and Hearth refuses');
      lines.push('a foreign Origin; with Referrer-Policy: same-origin it sends the real origin (tried by hand).');
    }
    return lines;
  };
  try {
    await page.goto('/signin?next=/b/pet-loss');
    await page.fill('#username', 'cal');
    await page.fill('#password', PASSWORD);
    const signedIn = await send('main form button[type="submit"]');
    const landed = new URL(page.url()).pathname;
    check('form', 'sign in through the sign-in form', signedIn.first === 303 && signedIn.final === 200 && landed === '/b/pet-loss', [...explain(signedIn, '/signin'), `landed on ${landed}`]);

    const member = await browser.newContext({ baseURL, storageState: await realistic.members.cal.storageState() });
    const replyPage = await member.newPage();
    replyPage.on('request', async (request) => {
      if (request.method() === 'POST') posts.push({ url: new URL(request.url()).pathname, origin: (await request.allHeaders()).origin });
    });
    await replyPage.goto(`${realistic.thread}?page=2`);
    const text = 'Thinking of you today, sent from a real browser.';
    await replyPage.fill('section.reply textarea[name="body"]', text);
    const action = await replyPage.getAttribute('section.reply form', 'action');
    const redirects = [];
    replyPage.on('response', (r) => { if (r.request().method() === 'POST') redirects.push(r.status()); });
    const [response] = await Promise.all([replyPage.waitForNavigation({ waitUntil: 'load' }), replyPage.click('section.reply button[type="submit"]')]);
    const shown = (await replyPage.locator('.post-body', { hasText: text }).count()) > 0;
    const answer = { first: redirects[0], final: response.status() };
    check('form', 'reply through the reply form, signed in', answer.first === 303 && shown, [...explain(answer, action), shown ? 'the reply is shown' : 'the reply is not shown']);
    await member.close();
  } catch (error) {
    check('form', 'forms sent by Chromium', false, [String(error.message).split('\n')[0]]);
  } finally {
    await context.close();
  }
}

/**
 * The header (issue 14): one row at 390×844 and at 1280×900, for a member and a moderator;
 * the menu (a <details>) opens without script and holds Settings and Sign out; axe is clean
 * with it open, in light and dark.
 */
async function headerChecks(browser, baseURL, admin, realistic) {
  console.log('\n== the header');
  for (const [who, state] of [['bea', await realistic.members.bea.storageState()], ['ada', await admin.storageState()]]) {
    for (const [width, height] of [[390, 844], [1280, 900]]) {
      for (const colorScheme of ['light', 'dark']) {
        const context = await browser.newContext({ baseURL, colorScheme, viewport: { width, height }, storageState: state });
        const page = await context.newPage();
        const name = `${who} ${width}×${height} ${colorScheme}`;
        try {
          await page.goto('/');
          const header = await page.locator('header.site-header').boundingBox();
          const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
          await page.click('.site-menu summary');
          const menu = await page.evaluate(() => [...document.querySelectorAll('.site-menu .menu-list a, .site-menu .menu-list button')]
            .filter((e) => e.getBoundingClientRect().height > 0).map((e) => e.textContent.trim()));
          const { violations } = await runAxe(page);
          const problems = [];
          if (header.height > 64) problems.push(`header is ${header.height} px tall`);
          if (!fits) problems.push('the page scrolls sideways');
          for (const needed of ['Settings', 'Sign out', 'Messages']) if (!menu.includes(needed)) problems.push(`menu lacks ${needed}: ${menu.join(', ')}`);
          problems.push(...violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' ')})`));
          check('header', `${name}: one row, the menu holds the rest, axe clean with it open`, problems.length === 0, problems);
        } catch (error) {
          check('header', name, false, [String(error.message).split('\n')[0]]);
        } finally {
          await context.close();
        }
      }
    }
  }
}

/**
 * The form system on a phone (390×844): on "Report a post" each reason's radio is inside its
 * own label (so the text beside it is the one it belongs to), each label box is at least 44 px
 * tall and wide, and no two overlap; a text or password field marked aria-invalid shows the
 * danger border (a specificity bug once hid it), in light and dark.
 */
async function choiceChecks(browser, baseURL, realistic) {
  console.log('\n== choices and fields on a phone');
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({
      baseURL, colorScheme, viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true,
      storageState: await realistic.members.cal.storageState(),
    });
    const page = await context.newPage();
    try {
      await page.goto(`/p/${realistic.reportableId}/report`);
      const radios = await page.evaluate(() => [...document.querySelectorAll('main input[type="radio"]')].map((input) => {
        const label = input.closest('label');
        const box = label?.getBoundingClientRect();
        return { id: input.id, inside: !!label && label.control === input, text: label?.textContent.trim() ?? '', box: box && { top: box.top, bottom: box.bottom, width: box.width, height: box.height } };
      }));
      const problems = [];
      if (radios.length < 4) problems.push(`only ${radios.length} radios on the report form`);
      for (const r of radios) {
        if (!r.inside) problems.push(`${r.id}: not inside the label it belongs to`);
        else if (r.box.height < 44 || r.box.width < 44) problems.push(`${r.id} (${r.text}): label box ${r.box.width}×${r.box.height} px`);
      }
      for (let i = 1; i < radios.length; i++) {
        if (radios[i].box && radios[i - 1].box && radios[i].box.top < radios[i - 1].box.bottom) problems.push(`${radios[i].id} overlaps ${radios[i - 1].id}`);
      }
      check('choices', `${colorScheme}: report reasons are radios inside 44 px labels`, problems.length === 0, problems);

      const visitor = await (await browser.newContext({ baseURL, colorScheme, viewport: { width: 390, height: 844 } })).newPage();
      await visitor.goto('/register');
      const borders = await visitor.evaluate(() => ['#username', '#password'].map((selector) => {
        const field = document.querySelector(selector);
        const before = getComputedStyle(field).borderTopColor;
        field.setAttribute('aria-invalid', 'true');
        const style = getComputedStyle(field);
        const probe = document.createElement('span');
        probe.style.color = 'var(--danger)';
        document.body.append(probe);
        const danger = getComputedStyle(probe).color;
        probe.remove();
        return { selector, before, after: style.borderTopColor, width: style.borderTopWidth, danger };
      }));
      const wrong = borders.filter((b) => b.after !== b.danger || b.width !== '2px' || b.before === b.after);
      check('choices', `${colorScheme}: an invalid text or password field shows the danger border`, wrong.length === 0,
        wrong.map((b) => `${b.selector}: border ${b.width} ${b.after} (danger is ${b.danger}, before ${b.before})`));
      await visitor.context().close();
    } catch (error) {
      check('choices', `${colorScheme}: choices and fields`, false, [String(error.message).split('\n')[0]]);
    } finally {
      await context.close();
    }
  }
}

/**
 * A facilitator on a phone: from any page, one tap on "Review" shows what needs attention
 * (someone at risk first); a reason chosen (none is preselected) and one tap on Hide act on it.
 * The queue must fit the screen.
 */
async function phoneModeration(browser, baseURL, admin) {
  console.log('\n== moderation on a phone (390×844, touch)');
  const context = await browser.newContext({
    baseURL,
    storageState: await admin.storageState(),
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  try {
    await page.goto('/b/pet-loss');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.tap('.site-header a[href="/review"]')]);
    const entries = page.locator('.review-entry');
    const before = await entries.count();
    const first = entries.first();
    const firstIsAtRisk = (await first.getAttribute('class')).includes('at-risk');
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check('phone', 'one tap on Review shows the queue, someone at risk first, fitting the screen', before >= 2 && firstIsAtRisk && fits, [
      `${before} entries; first at risk: ${firstIsAtRisk}; fits the width: ${fits}`,
    ]);
    // Someone at risk is answered, not hidden: Hide is the other lane's first decision.
    const other = page.locator('.review-entry:not(.at-risk)').first();
    const post = await other.locator('h2 a').getAttribute('href');
    // No reason is chosen for the moderator (issue 14): they pick one, then tap Hide.
    await other.locator('select[name="reason"]').selectOption({ index: 1 });
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), other.locator('button', { hasText: 'Hide' }).tap()]);
    const after = await page.locator('.review-entry').count();
    const stillThere = await page.locator(`.review-entry h2 a[href="${post}"]`).count();
    const log = await context.request.get('/b/pet-loss/log');
    const logged = (await log.text()).includes('hid a post');
    check('phone', 'a reason chosen and a tap on Hide hide the post, it leaves the queue and the log has it', after === before - 1 && stillThere === 0 && logged, [
      `entries ${before} → ${after}; ${post} still listed: ${stillThere}; in the log: ${logged}`,
    ]);
  } catch (error) {
    check('phone', 'moderation on a phone', false, [String(error.message).split('\n')[0]]);
  } finally {
    await context.close();
  }
}

// The group page on a phone (issue 14): conversations first, so the first thread's row starts
// above the fold (its box's top < 844) for a visitor, a member and a facilitator.
async function phoneGroupPage(browser, baseURL, admin, realistic) {
  console.log('\n== the group page on a phone (390×844)');
  const identities = { visitor: undefined, bea: await realistic.members.bea.storageState(), ada: await admin.storageState() };
  for (const [who, storageState] of Object.entries(identities)) {
    const context = await browser.newContext({ baseURL, storageState, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      await page.goto('/b/pet-loss', { waitUntil: 'load' });
      const box = await page.locator('.thread-item').first().boundingBox();
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      check('phone', `the first thread of the group page is above the fold (${who})`, box !== null && box.y < 844 && fits, [
        `first thread row top: ${box ? Math.round(box.y) : 'none'} px; fits the width: ${fits}`,
      ]);
    } catch (error) {
      check('phone', `the group page on a phone (${who})`, false, [String(error.message).split('\n')[0]]);
    } finally {
      await context.close();
    }
  }
}

// The dashboard on a phone (issue 16): a moderator sees which first posts wait at a glance,
// the first one named and linked above the fold, in both schemes, and the page fits the width;
// the lane's first Reply button is above the fold too.
async function phoneHealth(browser, baseURL, admin) {
  console.log('\n== community health on a phone (390×844)');
  const storageState = await admin.storageState();
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({ baseURL, storageState, colorScheme, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      await page.goto('/moderation/health', { waitUntil: 'load' });
      const waiting = await page.locator('.health-waiting a').count();
      const box = await page.locator('.health-waiting a').first().boundingBox();
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      // Lines of the fact's box, not boxes of their own inside it (the width is the phone's).
      const boxed = await page.locator('.health-waiting li').first().evaluate((li) => getComputedStyle(li).borderTopStyle !== 'none');
      check('phone', `the dashboard names the first post waiting longest above the fold (${colorScheme})`, waiting > 0 && box !== null && box.y + box.height < 844 && fits && !boxed, [
        `${waiting} named; first one's bottom: ${box ? Math.round(box.y + box.height) : 'none'} px; fits the width: ${fits}; each in a box of its own: ${boxed}`,
      ]);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `health-390-${colorScheme}.png`), fullPage: true });
      await page.goto('/moderation/unanswered', { waitUntil: 'load' });
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `unanswered-390-${colorScheme}.png`), fullPage: true });
      const reply = await page.locator('.unanswered-entry a.button').first().boundingBox();
      const laneFits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      check('phone', `the lane's first Reply button is above the fold (${colorScheme})`, reply !== null && reply.y + reply.height < 844 && reply.height >= 44 && laneFits, [
        `Reply button: ${reply ? `${Math.round(reply.y)}+${Math.round(reply.height)} px` : 'none'}; fits the width: ${laneFits}`,
      ]);
    } catch (error) {
      check('phone', `community health on a phone (${colorScheme})`, false, [String(error.message).split('\n')[0]]);
    } finally {
      await context.close();
    }
    if (SCREENSHOTS) {
      const wide = await browser.newContext({ baseURL, storageState, colorScheme, viewport: { width: 1280, height: 800 } });
      const page = await wide.newPage();
      for (const [name, path] of [['health', '/moderation/health?days=90'], ['unanswered', '/moderation/unanswered']]) {
        await page.goto(path, { waitUntil: 'load' });
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280-${colorScheme}.png`), fullPage: true });
      }
      await wide.close();
    }
  }
}

// No request leaves the site (issue 14): every request Chromium makes while loading the main
// pages, as a visitor and signed in, is to Hearth's own origin.
async function nothingLeavesTheSite(browser, baseURL, admin, realistic) {
  console.log('\n== no request leaves the site');
  const origin = new URL(baseURL).origin;
  const pages = ['/', '/groups', '/b/pet-loss', realistic.thread, realistic.meeting, '/help', '/review', '/notifications', '/u/bea', '/signin', '/register'];
  const identities = { visitor: undefined, bea: await realistic.members.bea.storageState(), ada: await admin.storageState() };
  for (const [who, storageState] of Object.entries(identities)) {
    const context = await browser.newContext({ baseURL, storageState });
    const seen = [];
    context.on('request', (request) => seen.push(request.url()));
    try {
      const page = await context.newPage();
      for (const path of pages) await page.goto(path, { waitUntil: 'networkidle' });
      const outside = seen.filter((url) => new URL(url).origin !== origin);
      check('requests', `every request is same-origin (${who}, ${pages.length} pages)`, seen.length >= pages.length && outside.length === 0, [
        `${seen.length} requests; to other origins: ${outside.slice(0, 5).join(', ') || 'none'}`,
      ]);
    } catch (error) {
      check('requests', `no request leaves the site (${who})`, false, [String(error.message).split('\n')[0]]);
    } finally {
      await context.close();
    }
  }
}

// The bell and the list on a phone: bea's thread has answers; the bell shows their count as
// a tap target of at least 44×44 px with a name that says so, the list is axe clean in both
// schemes and fits the screen, and tapping a notification opens the first answer.
async function phoneNotifications(browser, baseURL, realistic) {
  console.log('\n== notifications on a phone (390×844, touch)');
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({
      baseURL,
      storageState: await realistic.members.bea.storageState(),
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme,
    });
    const page = await context.newPage();
    try {
      await page.goto('/groups');
      const bell = page.locator('.site-header a.bell');
      const box = await bell.boundingBox();
      const name = (await bell.textContent()).replace(/\s+/g, ' ').trim();
      const count = Number((await bell.locator('.count').textContent()).replace(/\D+/g, ''));
      check('phone', `${colorScheme}: the bell is a 44×44 tap target named with its count`, box.width >= 44 && box.height >= 44 && count > 0 && /^Notifications \d+ unread$/.test(name), [
        `${Math.round(box.width)}×${Math.round(box.height)} px, named "${name}"`,
      ]);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), bell.tap()]);
      const { violations } = await runAxe(page);
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      check('phone', `${colorScheme}: the notification list is axe clean and fits the screen`, violations.length === 0 && fits, [
        ...violations.map((v) => `${v.id}: ${v.help}`),
        `fits the width: ${fits}`,
      ]);
      const link = page.locator('.notification-reply .notification-text a').first();
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.tap()]);
      const anchor = new URL(page.url()).hash.slice(1);
      const landed = anchor !== '' && (await page.locator(`[id="${anchor}"]`).count()) === 1;
      check('phone', `${colorScheme}: tapping "new replies in your thread" opens the first answer`, landed, [page.url()]);
    } catch (error) {
      check('phone', `${colorScheme}: notifications on a phone`, false, [String(error.message).split('\n')[0]]);
    } finally {
      await context.close();
    }
  }
}

async function zoneChecks(browser, baseURL) {
  console.log('\n== the reader\'s zone (zone.js)');
  const context = await browser.newContext({ baseURL, timezoneId: 'America/Toronto' });
  const problems = [];
  try {
    const page = await context.newPage();
    await page.goto('/register', { waitUntil: 'load' });
    const chosen = await page.locator('select#time_zone').inputValue();
    if (chosen !== 'America/Toronto') problems.push(`sign-up zone is ${chosen}`);
    const cookie = (await context.cookies()).find((c) => c.name === 'hearth_zone');
    if (cookie?.value !== 'America/Toronto') problems.push(`hearth_zone cookie is ${cookie?.value}`);
    if (cookie && (cookie.httpOnly || cookie.sameSite !== 'Lax')) problems.push(`cookie flags ${JSON.stringify(cookie)}`);
    // The group's page (its opening thread may be hidden by the phone check before this one).
    await page.goto('/b/pet-loss', { waitUntil: 'load' });
    const footer = await page.locator('.site-footer').innerText();
    if (!footer.includes('Toronto time')) problems.push(`footer says ${footer}`);
    const title = await page.locator('.thread-item time').first().getAttribute('title', { timeout: 5000 });
    if (!title?.endsWith('Toronto time')) problems.push(`a thread's time title is ${title}`);
  } catch (error) {
    problems.push(String(error));
  } finally {
    await context.close();
  }
  check('zone', 'zone.js sets the cookie and the sign-up zone; pages follow it', problems.length === 0, problems);
}

async function accessibilityChecks(browser, baseURL, admin, realistic) {
  console.log(`\n== accessibility: axe-core ${await axeVersion()} (${AXE_TAGS.join(', ')}, plus ${AXE_EXTRA_RULES.join(', ')}), light and dark; keyboard`);
  const bea = realistic.members.bea;
  const identities = {
    visitor: undefined,
    bea: await bea.storageState(),
    ada: await admin.storageState(),
  };
  const contexts = {};
  for (const [who, storageState] of Object.entries(identities)) {
    for (const colorScheme of ['light', 'dark']) {
      contexts[`${who}:${colorScheme}`] = await browser.newContext({ baseURL, storageState, colorScheme, viewport: { width: 1280, height: 800 } });
    }
  }
  const thread = realistic.thread;
  const goto = (url, status = 200) => async (page) => {
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response.status() !== status) throw new Error(`${url} answered ${response.status()}, expected ${status}`);
  };
  // A form sent from the page itself, as a person would (with the browser's own checks of
  // minlength/pattern switched off, as in a browser without them, so the server's 422 shows).
  // Chromium sends `Origin: null` on these POSTs (Hearth's Referrer-Policy is no-referrer) and
  // Hearth refuses that with 403 — the `form` checks report it. To still check the 422 pages
  // themselves, these two form posts are sent on with the page's own origin in place of `null`
  // (what Chromium sends under Referrer-Policy: same-origin); Hearth's answer is shown as is.
  const submitted = (url, fields, status) => async (page) => {
    await page.route((u) => u.pathname === url, async (route) => {
      const request = route.request();
      const headers = await request.allHeaders();
      if (request.method() !== 'POST' || headers.origin !== 'null') return route.continue();
      headers.origin = new URL(request.url()).origin; // Chromium won't let continue() change Origin
      return route.fulfill({ response: await route.fetch({ headers, maxRedirects: 0 }) });
    });
    await goto(url)(page);
    await page.evaluate(() => { for (const f of document.forms) f.noValidate = true; });
    for (const [name, value] of Object.entries(fields)) await page.fill(`main form [name="${name}"]`, value);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('main form button[type="submit"]')]);
    if (response.status() !== status) throw new Error(`sending ${url} answered ${response.status()}, expected ${status}`);
    if (!(await page.locator('.error-summary').count())) throw new Error(`sending ${url}: no error summary shown`);
  };
  // The Preview button of a form, pressed in the page (sent on with the page's origin as
  // `submitted` does); the answer must show the preview above the form.
  const previewed = (url, fields) => async (page) => {
    await page.route((u) => u.pathname === url, async (route) => {
      const request = route.request();
      const headers = await request.allHeaders();
      if (request.method() !== 'POST' || headers.origin !== 'null') return route.continue();
      headers.origin = new URL(request.url()).origin;
      return route.fulfill({ response: await route.fetch({ headers, maxRedirects: 0 }) });
    });
    await goto(url)(page);
    for (const [name, value] of Object.entries(fields)) await page.fill(`main form [name="${name}"]`, value);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('main form button[name="preview"]')]);
    if (response.status() !== 200) throw new Error(`previewing ${url} answered ${response.status()}`);
    if (!(await page.locator('.preview .post-body').count())) throw new Error(`previewing ${url}: no preview shown`);
  };
  const pages = [
    ['new thread with a preview', 'bea', previewed('/b/pet-loss/new', { title: 'A walk', body: 'Some **bold** words and a [link](https://example.org).' })],
    ['home', 'visitor', goto('/')],
    ['board', 'visitor', goto('/b/pet-loss')],
    ['board, facilitator', 'ada', goto('/b/pet-loss')],
    ['help after a crisis post', 'bea', goto(`/help?post=${realistic.crisisPostId}`)],
    ['thread page 1', 'visitor', goto(thread)],
    ['thread page 2, signed in', 'bea', goto(`${thread}?page=2`)],
    ['new thread', 'bea', goto('/b/pet-loss/new')],
    ['edit post', 'bea', goto(`/p/${realistic.ownPostId}/edit`)],
    ['delete post', 'bea', goto(`/p/${realistic.ownPostId}/delete`)],
    ['settings', 'bea', goto('/settings')],
    ['profile', 'visitor', goto('/u/bea')],
    ['sign in', 'visitor', goto('/signin')],
    ['sign in refused (401)', 'visitor', submitted('/signin', { username: 'bea', password: 'not her password at all' }, 401)],
    ['register', 'visitor', goto('/register')],
    ['register refused (422)', 'visitor', submitted('/register', { username: 'x!', display_name: 'X', password: 'short' }, 422)],
    ['forgot password', 'visitor', goto('/forgot-password')],
    ['forgot password refused (422)', 'visitor', submitted('/forgot-password', { username: 'bea', code: 'abcd', password: 'short' }, 422)],
    ['recovery codes, already shown', 'bea', goto('/recovery-codes')],
    ['admin', 'ada', goto('/admin')],
    ['find a group', 'visitor', goto('/groups')],
    ['meetings of a group', 'bea', goto('/b/pet-loss/meetings?from=2038-03-20')],
    ['a meeting, member', 'bea', goto(`${realistic.meeting}`)],
    ['schedule a meeting', 'ada', goto('/b/pet-loss/meetings/new')],
    ['calendar feed page', 'bea', goto('/calendar')],
    ['private group, outside', 'bea', goto('/b/night-owls')],
    ['new thread, rules to accept', 'bea', goto('/b/new-city/new')],
    ['group members', 'ada', goto('/b/pet-loss/members')],
    ['edit a group', 'ada', goto('/b/pet-loss/edit')],
    ['propose a group', 'bea', goto('/groups/propose')],
    ['group proposals', 'ada', goto('/admin/proposals')],
    ['review queue', 'ada', goto('/review')],
    ['community health, 90 days', 'ada', goto('/moderation/health?days=90')],
    ['waiting for a reply', 'ada', goto('/moderation/unanswered')],
    ['watched words', 'ada', goto('/admin/watched-words')],
    ['thread, moderator view', 'ada', goto(thread)],
    ['moderation log, public', 'visitor', goto('/b/pet-loss/log')],
    ['moderation log, moderators', 'ada', goto('/b/pet-loss/log')],
    ['group settings', 'ada', goto('/b/pet-loss/settings')],
    ['profile, moderator view', 'ada', goto('/u/bea')],
    ['report a post', 'bea', goto(`/p/${realistic.reportableId}/report`)],
    ['notifications', 'bea', goto('/notifications')],
    ['create a group', 'ada', goto('/admin/boards/new')],
    ['error 404', 'visitor', goto('/b/no-such-board', 404)],
    ['help', 'visitor', goto('/help')],
    ['help, back to a post', 'bea', goto(`/help?post=${realistic.ownPostId}`)],
    ['home, signed in', 'bea', goto('/')],
    ['board, signed in with new posts', 'bea', goto('/b/pet-loss')],
    ['unread', 'bea', goto('/unread')],
    ['e-mail address', 'bea', goto('/settings/email')],
    ['forgot password, by e-mail', 'visitor', goto('/forgot/email')],
    ['leave the community', 'bea', goto('/settings/leave')],
    ['export my data', 'bea', goto('/settings/export')],
    ['after leaving', 'visitor', goto('/left')],
    ['search with results', 'bea', goto('/search?q=milo+weeks')],
    ['search, nothing found', 'visitor', goto('/search?q=zebra+crossing&author=cal')],
    ['search refused (422)', 'visitor', goto('/search?q=one+two+three+four+five+six+seven+eight+nine', 422)],
  ];
  // The canary: on the home page the test itself adds an unlabelled text field, an unnamed
  // button and a link taken out of the tab order. axe and the keyboard walk must notice.
  {
    const load = async (page) => {
      await goto('/')(page);
      await page.evaluate(() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<input type="text" name="canary"><button type="button" class="canary"></button><a href="/canary" tabindex="-1">canary</a>'));
    };
    const page = await contexts['visitor:light'].newPage();
    try {
      await load(page);
      const { violations } = await runAxe(page);
      const keyboard = await keyboardCheck(page, load);
      const axeSaw = ['label', 'button-name'].filter((id) => violations.some((v) => v.id === id));
      const unreached = keyboard.problems.filter((p) => p.startsWith('never reached')).length;
      const unnamed = keyboard.problems.filter((p) => p.startsWith('no accessible name')).length;
      const ok = axeSaw.length === 2 && unreached === 1 && unnamed === 2;
      check('canary', 'axe and the keyboard walk notice faults the test adds', ok, [
        `axe reported ${axeSaw.join(', ') || 'neither label nor button-name'}; the walk found ${unreached} unreachable (expected 1) and ${unnamed} unnamed (expected 2)`,
      ]);
    } finally {
      await page.close();
    }
  }

  // The pages are independent (none changes what another shows: the forms sent are refused or
  // previewed), and most of a check is waiting on Chromium's answers, so WORKERS tabs take
  // pages from one list. Each page's checks are kept and reported in the list's order.
  const checkPage = async ([name, who, load]) => {
    const found = [];
    for (const scheme of ['light', 'dark']) {
      const page = await contexts[`${who}:${scheme}`].newPage();
      try {
        await load(page);
        const { violations, incomplete, passes } = await runAxe(page);
        const note = `${passes} rules passed${incomplete.length ? `; needs review: ${incomplete.join(', ')}` : ''}`;
        found.push([`axe ${scheme}`, `${name} (${who}): ${note}`, violations.length === 0, violations.flatMap((v) => [
          `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s)`,
          ...v.nodes.slice(0, 4).map((n) => `    ${n.target}: ${n.summary}`),
        ])]);
      } catch (error) {
        found.push([`axe ${scheme}`, `${name} (${who})`, false, [String(error.message).split('\n')[0]]]);
      } finally {
        await page.close();
      }
    }
    const page = await contexts[`${who}:light`].newPage();
    try {
      const result = await keyboardCheck(page, load);
      found.push(['keyboard', `${name} (${who}): ${result.reached} of ${result.total} tab stops reached and named`, result.ok, result.problems]);
    } catch (error) {
      found.push(['keyboard', `${name} (${who})`, false, [String(error.message).split('\n')[0]]]);
    } finally {
      await page.close();
    }
    return found;
  };
  const results = new Array(pages.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(WORKERS, pages.length) }, async () => {
    while (next < pages.length) {
      const index = next++;
      results[index] = await checkPage(pages[index]);
    }
  }));
  for (const found of results) for (const args of found) check(...args);
  for (const context of Object.values(contexts)) await context.close();
}

async function axeVersion() {
  const pkg = JSON.parse(readFileSync(join(HERE, 'node_modules/axe-core/package.json'), 'utf8'));
  return pkg.version;
}

// ---------------------------------------------------------------------------------------------

async function xssChecks(browser, baseURL, admin, payloads) {
  console.log(`\n== xss: ${payloads.length} payloads from ${CORPUS}${BYPASS_CSP ? ' (CSP switched off: HEARTH_XSS_BYPASS_CSP=1)' : ''}`);
  let phase = Date.now();
  const seeded = await seedPayloads(baseURL, admin, payloads, { log: (line) => console.log(`  ${line}`) });
  console.log(`  seeded in ${seconds(phase)}`);
  if (seeded.refused.length) {
    console.log(`  ${seeded.refused.length} payload(s) refused by a form (reported, not posted):`);
    for (const r of seeded.refused) console.log(`    line ${r.line} as ${r.field}: ${r.status} ${JSON.stringify(r.payload.slice(0, 80))}`);
  } else {
    console.log('  no payload was refused by a form');
  }

  // What to open, and as whom.
  const jobs = [];
  const visitor = await browser.newContext({ baseURL, bypassCSP: BYPASS_CSP });
  jobs.push({ context: visitor, url: '/', label: 'home' });
  for (let url = '/b/xss'; url;) {
    jobs.push({ context: visitor, url, label: 'payload board' });
    const html = await (await admin.get(url)).text();
    url = html.match(/href="(\/b\/xss\?after=[^"]+)" rel="next"/)?.[1]?.replace(/&amp;/g, '&');
  }
  // Each page must also show what was posted: the right number of posts, and titles and
  // names as literal text.
  for (const t of seeded.bodyThreads) {
    const nPages = Math.ceil(t.posts / 20);
    for (let p = 1; p <= nPages; p++) {
      const posts = Math.min(20, t.posts - (p - 1) * 20);
      jobs.push({ context: visitor, url: p === 1 ? t.url : `${t.url}?page=${p}`, label: 'payload bodies', expect: { posts } });
    }
  }
  for (const t of seeded.titleThreads) jobs.push({ context: visitor, url: t.url, label: `title (line ${t.line})`, expect: { posts: t.posts, text: ['main h1', t.title] } });
  for (const m of seeded.members) {
    const context = await browser.newContext({ baseURL, bypassCSP: BYPASS_CSP, storageState: await m.agent.storageState() });
    m.context = context;
    jobs.push({ context, url: `/u/${m.username}`, label: `profile, display name line ${m.line}`, expect: { text: ['main h1', m.displayName] } });
    jobs.push({ context, url: '/settings', label: `settings, display name line ${m.line}`, expect: { value: ['#display_name', m.displayName.trim()] } });
  }
  // Edit forms put the source back into a <textarea>: open those of the payloads that try to
  // close a raw-text element.
  const rawText = /<\/?\s*(textarea|title|xmp|plaintext|noscript|noembed|noframes)/i;
  const adaContext = await browser.newContext({ baseURL, bypassCSP: BYPASS_CSP, storageState: await admin.storageState() });
  const idCache = new Map();
  for (const [index, payload] of payloads.entries()) {
    if (!rawText.test(payload)) continue;
    const t = seeded.bodyThreads.find((x) => index >= x.start && index < x.start + x.count);
    if (!t || t.posts !== t.count + 1) continue; // positions are only known when none was refused
    const position = index - t.start + 2;
    const pageNo = Math.ceil(position / 20);
    const key = `${t.url}?page=${pageNo}`;
    if (!idCache.has(key)) idCache.set(key, await postIds(admin, pageNo === 1 ? t.url : key));
    const id = idCache.get(key).get(position);
    if (id) jobs.push({ context: adaContext, url: `/p/${id}/edit`, label: `edit form, line ${index + 1}`, expect: { value: ['#body', payload] } });
  }

  phase = Date.now();
  const origin = new URL(baseURL).origin;
  const trapper = createTrapper({ origin, settleMs: SETTLE_MS });

  // The canary: the traps must notice script that does run. The test itself (not a payload)
  // calls alert and prompt, throws, fetches, and adds an element with an event handler.
  {
    const page = await visitor.newPage();
    await trapper.prepare(page);
    const canary = await trapper.visit(page, '/', {
      inject: () => {
        alert('canary');
        prompt('canary');
        fetch('/canary').catch(() => {});
        document.body.insertAdjacentHTML('beforeend', '<img src="/canary.png" onerror="void 0">');
        setTimeout(() => { throw new Error('canary'); }, 0);
      },
    });
    const noticed = canary.calls.length === 2 && canary.errors.length === 1 && canary.requests.length === 2 && canary.dom.length >= 1;
    check('xss', 'canary: the traps notice script that runs', noticed, [
      `expected 2 calls, 1 script error, 2 unexpected requests, injected markup; saw ${canary.calls.length}, ${canary.errors.length}, ${canary.requests.length}, ${canary.dom.length}`,
    ]);
    console.log(`  canary: traps ${noticed ? 'noticed' : 'MISSED'} the test's own script (${canary.calls.length} calls, ${canary.errors.length} error, ${canary.requests.length} requests, ${canary.dom.length} markup, ${canary.violations.length} CSP violations)`);
    await page.close();
  }
  const pagesByContext = new Map();
  const results = [];
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async (_, worker) => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const key = `${worker}`;
      let mine = pagesByContext.get(job.context);
      if (!mine) pagesByContext.set(job.context, (mine = new Map()));
      let page = mine.get(key);
      if (!page) {
        page = await job.context.newPage();
        await trapper.prepare(page);
        mine.set(key, page);
      }
      const result = await trapper.visit(page, job.url, { expect: job.expect });
      if (result.stuck) {
        mine.delete(key);
        page.close().catch(() => {});
      }
      result.label = job.label;
      results.push(result);
      check('xss', `${job.url} (${job.label})`, result.ok, describeVisit(result));
    }
  }));
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const violations = new Map();
  for (const r of results) for (const v of r.violations) violations.set(v.directive, (violations.get(v.directive) ?? 0) + 1);
  const byLabel = new Map();
  for (const r of results) {
    const group = r.label.replace(/ ?\(line \d+\)|, .*line \d+/, '').replace(/, display name/, '');
    byLabel.set(group, (byLabel.get(group) ?? 0) + 1);
  }
  console.log(`  opened ${results.length} pages in ${seconds(phase)} (${[...byLabel].map(([k, n]) => `${n} ${k}`).join(', ')})`);
  console.log(`  posted: ${seeded.posted} payload bodies, ${seeded.titleThreads.length} titles, ${seeded.members.length} display names (+ pronouns and bios)`);
  console.log(`  traps fired: ${sum((r) => r.calls.length)} dialog-function calls, ${sum((r) => r.dialogs.length)} dialogs, ${sum((r) => r.errors.length)} script errors`);
  console.log(`  unexpected requests: ${sum((r) => r.requests.length)}; injected markup found: ${sum((r) => r.dom.length)}; other problems: ${sum((r) => r.problems.length)}`);
  console.log(`  CSP violations reported (not failures): ${sum((r) => r.violations.length)}${violations.size ? ` (${[...violations].map(([d, n]) => `${d}: ${n}`).join(', ')})` : ''}`);
  console.log(`  xss: ${results.filter((r) => r.ok).length} pages passed, ${results.filter((r) => !r.ok).length} failed`);
  for (const m of seeded.members) await m.context.close();
  await adaContext.close();
  await visitor.close();
}

try {
  await main();
} catch (error) {
  console.log(`\nFAIL setup: ${error.stack ?? error}`);
  tally.failed += 1;
}
finish();
