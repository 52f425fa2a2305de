// What a member does, in any engine: sign in, unlock, see a thumbnail, play a video, upload one.
// Written against the small driver interface of firefox.mjs and webkit.mjs; every wait polls
// the page with a deadline. Selectors are the ones end2end/support uses (ids, data-testid).

import { within } from './checks.mjs';

/** Polls `fn(...args)` in the page until it returns something truthy; returns that. */
export async function waitUntil(driver, what, timeoutMs, fn, ...args) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    const left = deadline - Date.now();
    try {
      last = await within(Math.max(left, 1_000), `the page to answer while waiting for ${what}`, driver.evaluate(fn, ...args));
      if (last) return last;
    } catch (err) {
      last = `error: ${err.message}`;
      // A navigation can interrupt a script; the next poll runs in the new page.
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last answer: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** In the page: whether an element matching `selector` takes up space on screen. */
function visible(selector) {
  return [...document.querySelectorAll(selector)].some((el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== 'hidden';
  });
}

/** In the page: text of the messages the app shows when something goes wrong, for a failure report. */
function problemsOnPage() {
  const shown = [...document.querySelectorAll('[data-testid$="-error"], [data-testid="player-error"], .error, [role="alert"]')]
    .map((el) => el.textContent.trim())
    .filter(Boolean);
  return { url: location.href, shown };
}

const act = (what, promise) => within(60_000, what, promise);

export function signInSteps(driver, { url, user, password, passphrase }) {
  return [
    ['signs in', async () => {
      await act('the sign-in page to load', driver.goto(`${url}/login`));
      // Typing before hydration would be undone by it.
      await waitUntil(driver, 'the page to hydrate', 60_000, () => document.documentElement.hasAttribute('data-hydrated'));
      await act('typing the username', driver.type('#username', user));
      await act('typing the password', driver.type('#password', password));
      await act('clicking Sign in', driver.click('form:has(#username) button[type="submit"]'));
      await waitUntil(driver, `"${user}" in the header`, 30_000,
        (name) => document.querySelector('[data-testid="signed-in-as"]')?.textContent.trim() === name, user);
    }],
    ['unlocks the library with the passphrase', async () => {
      await waitUntil(driver, 'the unlock form', 30_000, visible, '#unlock-passphrase');
      await act('typing the passphrase', driver.type('#unlock-passphrase', passphrase));
      await act('clicking Unlock', driver.click('form:has(#unlock-passphrase) button[type="submit"]'));
      // Argon2 in WebAssembly: slow on a busy machine.
      await waitUntil(driver, 'the library to unlock', 90_000, visible, '[data-testid="library-unlocked"]');
    }],
  ];
}

/** The tile of the video titled `title`: its id, or '' while it is not listed. */
function tileId(title) {
  const tile = [...document.querySelectorAll('[data-testid="video-tile"]')]
    .find((t) => t.querySelector('[data-testid="open-video"]')?.textContent.trim() === title);
  return tile?.getAttribute('data-video-id') ?? '';
}

export function thumbnailStep(driver, { title }) {
  return ['the gallery shows the video\'s thumbnail, decoded (naturalWidth > 0)', async () => {
    await waitUntil(driver, `the tile "${title}"`, 30_000, tileId, title);
    const size = await waitUntil(driver, `a decoded thumbnail on the tile "${title}"`, 30_000, (t) => {
      const tile = [...document.querySelectorAll('[data-testid="video-tile"]')]
        .find((el) => el.querySelector('[data-testid="open-video"]')?.textContent.trim() === t);
      const img = tile?.querySelector('[data-testid="thumb"] img');
      return img && img.complete && img.naturalWidth > 0 ? { width: img.naturalWidth, height: img.naturalHeight } : null;
    }, title);
    if (!(size.width > 0 && size.height > 0)) throw new Error(`thumbnail is ${JSON.stringify(size)}`);
  }];
}

/** Opens the video from the gallery, presses Play and waits for `currentTime` to pass 1.5 s. */
export function playStep(driver, { title, without = null, screenshotTo }) {
  const name = {
    MediaSource: 'without window.MediaSource, Play advances currentTime through ManagedMediaSource',
    'any media source': 'without MediaSource or ManagedMediaSource, a short video plays whole: currentTime advances',
  }[without] ?? 'opening the video and pressing Play advances currentTime';
  return [name, async () => {
    const id = await waitUntil(driver, `the tile "${title}"`, 30_000, tileId, title);
    await act('opening the video', driver.click(`a[data-testid="open-video"][href="/videos/${id}"]`));
    await waitUntil(driver, 'the Play button', 30_000, visible, '[data-testid="play"]');
    await act('clicking Play', driver.click('[data-testid="play"]'));
    const state = await waitUntil(driver, 'currentTime to pass 1.5 s', 45_000, () => {
      // The player's own failure message ends the wait at once.
      const error = document.querySelector('[data-testid="player-error"], [data-testid="video-error"]');
      if (error && error.getClientRects().length > 0) return { playerFailed: error.textContent.trim() };
      const v = document.querySelector('video[data-testid="video"]');
      return v && v.currentTime > 1.5 && !v.paused && v.videoWidth > 0
        ? { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight, remote: v.disableRemotePlayback }
        : null;
    });
    if (state.playerFailed !== undefined) throw new Error(`the player failed: "${state.playerFailed}"`);
    if (state.width !== 640) throw new Error(`the video plays at ${state.width}×${state.height}, not 640×360`);
    if (without) {
      const shape = await driver.evaluate(() => ({
        mediaSource: typeof window.MediaSource,
        managed: typeof window.ManagedMediaSource,
        constructed: window.__crossEngine?.managedMediaSources ?? null,
      }));
      if (shape.mediaSource !== 'undefined') throw new Error(`window.MediaSource was still there (${shape.mediaSource})`);
      if (without === 'MediaSource') {
        if (!(shape.constructed >= 1)) throw new Error(`it played, but not through a ManagedMediaSource (constructed: ${shape.constructed})`);
        if (state.remote !== true) throw new Error('the <video> of a ManagedMediaSource must set disableRemotePlayback');
      } else if (shape.managed !== 'undefined') {
        throw new Error(`window.ManagedMediaSource was still there (${shape.managed})`);
      }
    }
    // What the player looks like in this engine, for a person to look at (not compared).
    if (screenshotTo) await within(15_000, 'a screenshot', driver.screenshot(screenshotTo));
  }];
}

/**
 * While it plays, the `<video>` knows the whole length (its controls show it and seek within it),
 * not only what has arrived so far. Independent: the checks after it do not need it.
 */
export function lengthStep(driver, { seconds }) {
  return [`the playing <video> knows the whole length (${seconds} s)`, async () => {
    await waitUntil(driver, `the <video>'s duration to be ${seconds} s`, 5_000, (s) => {
      const v = document.querySelector('video[data-testid="video"]');
      return v && Math.abs(v.duration - s) < 0.5;
    }, seconds).catch(async (err) => {
      const seen = await driver.evaluate(() => {
        const v = document.querySelector('video[data-testid="video"]');
        return v && { duration: v.duration, currentTime: v.currentTime, ended: v.ended };
      });
      throw new Error(`${err.message.split(' (last answer')[0]}; the <video> says ${JSON.stringify(seen)}`);
    });
  }, { independent: true }];
}

/** The video opens over the library; Close goes back to it. */
export function closeVideoStep(driver) {
  return ['Close goes back to the library', async () => {
    await act('clicking Close', driver.click('[data-testid="close-video"]'));
    await waitUntil(driver, 'the video view to close', 15_000, () => !document.querySelector('[data-testid="video-view"]'));
  }];
}

/** Uploads `file` (default title: its name without extension) from the Upload page until it is ready. */
export function uploadStep(driver, { file, title }) {
  return ['a small upload through the Upload page completes and the video becomes ready', async () => {
    // Client-side navigation, so the tab keeps the library key.
    await act('clicking Upload', driver.click('a[href="/upload"]'));
    await waitUntil(driver, 'the file input', 30_000, () => !!document.querySelector('[data-testid="file-input"]'));
    await act('choosing the file', driver.setFile('[data-testid="file-input"]', file));
    await waitUntil(driver, `the upload item titled "${title}"`, 30_000,
      (t) => [...document.querySelectorAll('[data-testid="upload-item"] input')].some((i) => i.value === t), title);
    await act('clicking Start upload', driver.click('[data-testid="start-upload"]'));
    await waitUntil(driver, 'the upload to finish (processing queued)', 120_000, visible, '[data-testid="processing-queued"]');
    await act('going back to the library', driver.click('a[href="/"]'));
    await waitUntil(driver, `the tile "${title}" to be ready`, 120_000, (t) => {
      const tile = [...document.querySelectorAll('[data-testid="video-tile"]')]
        .find((el) => el.querySelector('[data-testid="open-video"]')?.textContent.trim() === t);
      return tile?.getAttribute('data-status') === 'ready';
    }, title);
  }];
}

export { problemsOnPage };
