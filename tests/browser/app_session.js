'use strict';
// withApp(fn): a fresh browser profile and server for one test, closed afterwards; after
// the test body, every request the page made must have gone to our localhost server.
const { assert } = require('../cli/harness');
const { openApp } = require('./browser');

function offOrigin(requests, url) {
  const origin = new URL(url).origin;
  return requests.filter((r) => !r.startsWith(origin + '/') && !r.startsWith('blob:' + origin + '/') && !r.startsWith('data:'));
}

async function withApp(fn, options) {
  const app = await openApp(options);
  try {
    await app.page.waitForFunction(() => document.body.dataset.mergeState === 'idle');
    await fn(app);
    const elsewhere = offOrigin(app.requests, app.url);
    assert.deepStrictEqual(elsewhere, [], 'requests that left localhost');
  } catch (e) {
    if (app.consoleLines.length) e.message += `\n     page console:\n       ${app.consoleLines.slice(-8).join('\n       ')}`;
    throw e;
  } finally {
    await app.close();
  }
}

module.exports = { withApp, offOrigin };
