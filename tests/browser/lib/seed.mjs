// Filling a fresh Hearth with content through its own forms (HTTP, as a browser would post them).
import { request as playwrightRequest } from 'playwright-core';
import { submitForm, expectRedirect } from './hearth.mjs';

export const PASSWORD = 'lantern meadow orbit kettle';

/** An APIRequestContext with its own cookie jar (one per member, like one browser each). */
export function newAgent(baseURL) {
  return playwrightRequest.newContext({ baseURL });
}

export async function signIn(agent, username, password = PASSWORD) {
  const answer = await submitForm(agent, '/signin', '/signin', { username, password, next: '/' });
  expectRedirect(answer, `sign in as ${username}`);
}

/** Registers (and so signs in) a member; returns the 303 answer or the refused (422) one. */
export async function register(agent, { username, display_name = '', password = PASSWORD, time_zone = 'UTC' }) {
  return submitForm(agent, '/register', '/register', { username, display_name, password, time_zone });
}

export async function createBoard(admin, board) {
  const answer = await submitForm(admin, '/admin/boards/new', '/admin/boards/new', { visibility: 'public', ...board });
  return expectRedirect(answer, `create board ${board.slug}`);
}

/** Starts a thread; returns the raw answer (303 to /t/{id}-{slug}, or 422). The groups made
 * here have version 1 of their ground rules, which a member's first post there accepts. */
export function startThread(agent, slug, title, body) {
  return submitForm(agent, `/b/${slug}/new`, `/b/${slug}/new`, { title, body, accept_rules: '1' });
}

export const threadId = (location) => Number(location.match(/^\/t\/(\d+)/)[1]);
export const threadPath = (location) => location.replace(/[?#].*$/, '');

/** Replies to a thread: GETs the thread's first page for the form's hidden fields, then POSTs. */
export function reply(agent, threadUrl, body) {
  return submitForm(agent, threadUrl, `/t/${threadId(threadUrl)}/reply`, { body, accept_rules: '1' });
}

export async function saveSettings(agent, fields) {
  const answer = await submitForm(agent, '/settings', '/settings', { time_zone: 'UTC', pronouns: '', bio: '', ...fields });
  return answer;
}

/** The post ids of a thread page, by position: Map(position → id). */
export async function postIds(agent, pageUrl) {
  const res = await agent.get(pageUrl, { maxRedirects: 0 });
  const html = await res.text();
  const ids = new Map();
  // Each post is <li class="post" id="post-{position}">, whose first /p/{id} link is its permalink.
  for (const chunk of html.split('<li class="post" id="post-').slice(1)) {
    const position = chunk.match(/^(\d+)"/)?.[1];
    const id = chunk.match(/href="\/p\/(\d+)"/)?.[1]; // none for a deleted post
    if (position && id) ids.set(Number(position), Number(id));
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Realistic content for the accessibility and keyboard checks.

const REALISTIC_POSTS = [
  `Milo was our family's cat for fourteen years. Last week we had to say goodbye, and the house feels very quiet.

Things that have helped so far:

- writing down one small memory each evening
- keeping his favourite blanket on the sofa
- talking to people here

> Grief is the price we pay for love.

I found [this page about pet loss](https://example.org/pet-loss) useful.`,
  `I'm so sorry about Milo. Fourteen years is a lifetime of mornings together.

What worked for me after losing Biscuit:

1. I let myself cry without apologising for it.
2. I made a small photo book.
3. I went back to our usual walking route after a month — *hard*, but good.`,
  `A table I kept for the first weeks, in case it helps anyone:

| Day | What helped | How I felt |
|-----|-------------|------------|
| Monday | A long walk | Tired |
| Tuesday | Calling my sister | A little lighter |
| Wednesday | Sorting photos | Sad, but grateful |`,
  `> I made a small photo book.

That's a lovely idea. We planted a rose where she used to sleep in the sun.

### Things people said that did not help

- "It was just a dog."
- "You can always get another one."

Please nobody say those to anyone here. **Be gentle.**`,
  `There is a free helpline listed at https://example.org/helpline if the nights are hard. I called it twice and they were kind.

---

~~I thought I was over it~~ Some days are still difficult, and that is okay.`,
  `Checking in today.

- [x] ate breakfast
- [ ] went outside
- [x] wrote to my friend

A photo of Pepper: ![Pepper in the garden](https://example.org/pepper.jpg)`,
  `When the vet said \`end of life care\` I didn't know what to ask. Here's my list now, for anyone facing it:

1. Ask whether you can be present.
2. Ask about a home visit.
   - some vets offer it
   - it can be calmer for everyone
3. Take your time afterwards.`,
];

const BIO = `Volunteer facilitator. I lost my dog **Rosie** in 2023 and found this group a great comfort.

- I read every new thread here
- Message me through the [group](/b/pet-loss)

> Be kind, always.`;

const GROUND_RULES = `1. Be kind: everyone here is grieving in their own way.
2. No advice unless someone asks for it.
3. Keep what people share here [in the group](/b/pet-loss).

If you are in crisis, please contact a local helpline.`;

/**
 * Builds the realistic part of the forum: board `pet-loss` with ground rules, three members
 * (bea, cal, dee), one thread of 24 posts (two pages) with lists, links, quotes, tables, code,
 * one edited and one deleted post, and bea's profile with pronouns and a markdown bio.
 * Returns what the checks need.
 */
export async function seedRealistic(baseURL, admin) {
  await createBoard(admin, {
    slug: 'pet-loss',
    name: 'Pet loss',
    description: 'For anyone grieving an animal companion.',
    ground_rules: GROUND_RULES,
  });
  await createBoard(admin, {
    slug: 'new-city',
    name: 'Moving to a new city',
    description: 'Settling in somewhere new, and missing somewhere old.',
    ground_rules: 'Be patient with newcomers. Share places, not people.',
  });
  await createBoard(admin, {
    slug: 'night-owls',
    name: 'Night owls',
    description: 'A private circle for people who cannot sleep.',
    ground_rules: 'What is said here stays here.',
    visibility: 'private',
    meeting_format: 'hybrid',
    city: 'Leeds',
    country: 'United Kingdom',
    category: 'health',
  });
  const members = {};
  for (const [username, display_name] of [['bea', 'Bea'], ['cal', 'Cal Ortiz'], ['dee', '']]) {
    const agent = await newAgent(baseURL);
    expectRedirect(await register(agent, { username, display_name }), `register ${username}`);
    members[username] = agent;
  }
  expectRedirect(
    await saveSettings(members.bea, { display_name: 'Bea', pronouns: 'she/her', bio: BIO, time_zone: 'Europe/Berlin' }),
    'bea saves her settings',
  );
  const started = await startThread(members.bea, 'pet-loss', 'Losing Milo after fourteen years', REALISTIC_POSTS[0]);
  const thread = threadPath(expectRedirect(started, 'bea starts a thread'));
  const authors = ['cal', 'dee', 'bea'];
  for (let i = 1; i < 24; i++) {
    const author = authors[i % authors.length];
    expectRedirect(await reply(members[author], thread, REALISTIC_POSTS[i % REALISTIC_POSTS.length]), `${author} replies`);
  }
  // A second, short thread so the board lists more than one.
  const other = await startThread(members.cal, 'pet-loss', 'First week without Pepper', REALISTIC_POSTS[5]);
  expectRedirect(other, 'cal starts a thread');
  expectRedirect(await startThread(members.dee, 'new-city', 'Finding friends after a move', REALISTIC_POSTS[1]), 'dee starts a thread');

  // Bea edits her post 3 and deletes post 6 (both on page 1), so those variants are shown too.
  const ids = await postIds(members.bea, thread);
  const editId = ids.get(3);
  const edit = await submitForm(members.bea, `/p/${editId}/edit`, `/p/${editId}/edit`, { body: `${REALISTIC_POSTS[3 % REALISTIC_POSTS.length]}\n\n*Edited to add:* thank you all.` });
  expectRedirect(edit, 'bea edits a post');
  const deleteId = ids.get(6);
  expectRedirect(await submitForm(members.bea, `/p/${deleteId}/delete`, `/p/${deleteId}/delete`, {}), 'bea deletes a post');
  // Reactions under bea's opening post: counts for visitors, pressed buttons for members.
  for (const [who, kind] of [['cal', 'hear_you'], ['dee', 'hear_you'], ['dee', 'strength']]) {
    expectRedirect(await submitForm(members[who], thread, `/p/${ids.get(1)}/react`, { kind }), `${who} reacts`);
  }
  // A post of bea's on page 2 to offer the edit and delete pages for.
  const page2 = await postIds(members.bea, `${thread}?page=2`);
  const beaPostOnPage2 = [...page2.entries()].find(([position]) => authors[(position - 1) % authors.length] === 'bea');

  // Moderation, so the review queue, the log and the notices have something in them. Post 1 is
  // bea's, 2 and 5 dee's, 4 cal's. Cal reports post 1 (someone may be at risk), bea reports
  // post 2 as spam, the admin hides post 4 and warns bea.
  const report = async (agent, id, fields, what) =>
    expectRedirect(await submitForm(agent, `/p/${id}/report`, `/p/${id}/report`, fields), what);
  await report(members.cal, ids.get(1), { reason: 'at_risk', note: 'She sounds very low tonight.' }, 'cal reports a post');
  await report(members.bea, ids.get(2), { reason: 'spam', note: '' }, 'bea reports a post');
  const hideId = ids.get(4);
  expectRedirect(
    await submitForm(admin, thread, `/p/${hideId}/moderate`, { decision: 'hide', reason: 'It is off-topic for this group', detail: '' }),
    'the admin hides a post',
  );
  expectRedirect(
    await submitForm(admin, '/u/bea', '/u/bea/warn', { board: 'pet-loss', message: 'Please keep links to the resources page.' }),
    'the admin warns bea',
  );
  expectRedirect(
    await submitForm(admin, '/admin/watched-words', '/admin/watched-words', { phrase: 'cheap pills', action: 'block' }),
    'the admin adds a watched word',
  );
  expectRedirect(await submitForm(members.bea, '/b/pet-loss', '/b/pet-loss/join', {}), 'bea joins pet-loss');
  const meeting = expectRedirect(
    await submitForm(admin, '/b/pet-loss/meetings/new', '/b/pet-loss/meetings/new', {
      title: 'Thursday circle',
      agenda: 'Check-in, then **sharing**.',
      date: '2038-03-25',
      time: '19:00',
      time_zone: 'Europe/London',
      duration_minutes: '90',
      repeat: 'weekly',
      interval_weeks: '1',
      end: 'never',
      online_url: 'https://meet.example.org/circle',
      place: 'The back room of the library',
      capacity: '12',
    }),
    'the admin schedules a meeting',
  );
  expectRedirect(
    await submitForm(members.cal, '/groups/propose', '/groups/propose', {
      name: 'Pet loss Leeds',
      slug: 'pet-loss-leeds',
      description: 'Meeting in person in Leeds.',
      ground_rules: 'Be gentle.',
      category: 'grief-and-loss',
      meeting_format: 'in_person',
      city: 'Leeds',
      country: 'United Kingdom',
      language: 'en',
      time_zone: 'Europe/London',
      visibility: 'public',
      why: 'There is no group like it nearby.',
    }),
    'cal proposes a group',
  );
  // Bea's words of crisis in a thread of her own: the help page speaks to her about it.
  const crisis = expectRedirect(
    await startThread(members.bea, 'pet-loss', 'A hard night', 'Since Milo died I want to end my life.'),
    'bea posts words of crisis',
  );
  const crisisPostId = Number(new URL(crisis, baseURL).searchParams.get('post'));
  return { members, thread, ownPostId: beaPostOnPage2?.[1] ?? editId, reportableId: ids.get(5), meeting, crisisPostId };
}

// ---------------------------------------------------------------------------------------------
// The XSS corpus.

const trimmedLength = (s) => [...s.trim()].length;

/** A payload made into a title: cut to 150 characters, or padded to 3, counting as the server does. */
export function asTitle(payload) {
  let chars = [...payload];
  if (trimmedLength(payload) > 150) {
    chars = chars.slice(0, 150);
    while (trimmedLength(chars.join('')) > 150) chars.pop();
  }
  let title = chars.join('');
  while (trimmedLength(title) < 3) title += 'x';
  return title;
}

/** A payload cut to what a field of at most `max` characters (after trimming) takes. */
export function cutTo(payload, max) {
  const chars = [...payload];
  while (trimmedLength(chars.join('')) > max) chars.pop();
  return chars.join('');
}

/** Every `n`-th of `items`, spread evenly over the whole list (the same picks every run). */
export function spread(items, n) {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

async function pool(items, concurrency, work) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(workers);
}

export const PAYLOADS_PER_THREAD = 199; // + the opening post = 200 posts = exactly 10 pages of 20

/**
 * Posts every payload as a post body (board `xss`), a sample as thread titles, and a sample as
 * display names (plus pronouns and bios) of members who each reply once. Forms that refuse a
 * payload are recorded in `refused`, never dropped silently.
 */
export async function seedPayloads(baseURL, admin, payloads, { titles = 60, names = 30, log = () => {} } = {}) {
  const refused = [];
  await createBoard(admin, {
    slug: 'xss',
    name: 'Payload corpus',
    description: 'Every line of the XSS corpus, as posts, titles and names.',
    ground_rules: '',
  });

  // Bodies: chunks of PAYLOADS_PER_THREAD, each a thread whose replies are the payloads.
  const chunks = [];
  for (let start = 0; start < payloads.length; start += PAYLOADS_PER_THREAD) {
    chunks.push({ start, lines: payloads.slice(start, start + PAYLOADS_PER_THREAD) });
  }
  const bodyThreads = [];
  let posted = 0;
  // Each thread gets its own signed-in agent (ada), so two can be filled at once.
  await pool(chunks, 2, async (chunk) => {
    const agent = await newAgent(baseURL);
    await signIn(agent, 'ada');
    const first = chunk.start + 1;
    const last = chunk.start + chunk.lines.length;
    const answer = await startThread(agent, 'xss', `Payload lines ${first} to ${last}`, `Lines ${first} to ${last} of the corpus follow, one reply each.`);
    const url = threadPath(expectRedirect(answer, `start payload thread ${first}–${last}`));
    const entry = { url, start: chunk.start, count: chunk.lines.length, posts: 1 };
    bodyThreads.push(entry);
    for (const [k, payload] of chunk.lines.entries()) {
      const line = chunk.start + k + 1;
      const reply_ = await reply(agent, url, payload);
      if (reply_.status === 303) {
        entry.posts += 1;
        posted += 1;
      } else {
        refused.push({ field: 'post body', line, status: reply_.status, payload });
      }
    }
    await agent.dispose();
  });
  bodyThreads.sort((a, b) => a.start - b.start);
  log(`posted ${posted} of ${payloads.length} payloads as post bodies in ${bodyThreads.length} threads`);

  // Titles: a sample of the lines that hold characters HTML gives meaning to.
  const special = payloads.map((p, i) => ({ p, line: i + 1 })).filter(({ p }) => /[<>"'&`]/.test(p));
  const titleSample = spread(special, titles);
  const titleThreads = [];
  for (const { p, line } of titleSample) {
    const title = asTitle(p);
    const answer = await startThread(admin, 'xss', title, `This thread's title is line ${line} of the corpus.`);
    if (answer.status === 303) titleThreads.push({ url: threadPath(answer.location), line, title, posts: 1 });
    else refused.push({ field: 'thread title', line, status: answer.status, payload: title });
  }
  log(`started ${titleThreads.length} threads titled with payloads`);

  // Display names (≤ 64), pronouns (≤ 32) and bios of members, each of whom replies once to a
  // payload-titled thread, so the name shows on thread pages, the board (last poster), the
  // profile and, signed in, the site header.
  const short = special.filter(({ p }) => trimmedLength(p) <= 64 && trimmedLength(p) > 0);
  const nameSample = spread(short, names);
  const bioSample = spread(special.filter(({ p }) => !titleSample.some((t) => t.p === p)), names);
  const pronounSample = spread(special.filter(({ p }) => trimmedLength(p) <= 32), names);
  const members = [];
  for (const [i, { p, line }] of nameSample.entries()) {
    const agent = await newAgent(baseURL);
    const username = `payload${String(i + 1).padStart(2, '0')}`;
    const display_name = cutTo(p, 64);
    const answer = await register(agent, { username, display_name });
    if (answer.status !== 303) {
      refused.push({ field: 'display name', line, status: answer.status, payload: display_name });
      await agent.dispose();
      continue;
    }
    const pronouns = cutTo(pronounSample[i % pronounSample.length].p, 32);
    const bio = bioSample[i % bioSample.length].p;
    const saved = await saveSettings(agent, { display_name, pronouns, bio });
    if (saved.status !== 303) refused.push({ field: 'pronouns or bio', line: pronounSample[i % pronounSample.length].line, status: saved.status, payload: `${pronouns} | ${bio}` });
    const target = titleThreads[i % Math.max(titleThreads.length, 1)];
    if (target) {
      const replied = await reply(agent, target.url, `A reply from member ${username}, whose display name is line ${line} of the corpus.`);
      expectRedirect(replied, `${username} replies`);
      target.posts += 1;
    }
    members.push({ username, line, agent, displayName: display_name });
  }
  log(`registered ${members.length} members named with payloads; each replied once`);
  return { bodyThreads, titleThreads, members, posted, refused };
}

