'use strict';
// The browser side of the tests: serves web/ with scripts/http_server.js on a free
// localhost port and drives Debian's Chromium (headless, fresh profile) with
// playwright-core. Every request the pages make is recorded.
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { createServer } = require('../../scripts/http_server');
const { ROOT } = require('../cli/harness');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// isolationHeaders: false serves as a static host that cannot send COOP/COEP would.
async function startServer({ root = path.join(ROOT, 'web'), isolationHeaders = true } = {}) {
  let server = createServer(root);
  if (!isolationHeaders) {
    const serve = server.listeners('request')[0];
    server = http.createServer((req, res) => {
      const writeHead = res.writeHead;
      res.writeHead = (status, headers) => writeHead.call(res, status, Object.fromEntries(Object.entries(headers)
        .filter(([k]) => !/^cross-origin-(opener|embedder)-policy$/i.test(k))));
      serve(req, res);
    });
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://localhost:${server.address().port}/` };
}

// -> {context, page, requests, url, close()}
// initScript: a function run in the page before its own scripts (to stand in for a
// browser API); serviceWorkers: 'block' keeps sw.js out.
async function openApp({ downloadsDir, initScript, isolationHeaders = true, serviceWorkers = 'allow' } = {}) {
  const { server, url } = await startServer({ isolationHeaders });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmerge-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: ARGS, acceptDownloads: true, downloadsPath: downloadsDir, serviceWorkers,
    viewport: { width: 1280, height: 900 },
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  if (initScript) await context.addInitScript(initScript);
  await page.goto(url);
  return {
    context, page, requests, url, consoleLines,
    // Stops answering requests, as a server gone away would (the offline test).
    stopServer: () => new Promise((resolve) => {
      server.close(resolve);
      if (server.closeAllConnections) server.closeAllConnections();
    }),
    async close() {
      await context.close();
      if (server.listening) await this.stopServer();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

module.exports = { openApp, startServer, CHROMIUM };

// ---- what the tests do on the page, through its data-testid hooks ----

async function pickFiles(page, paths) {
  await page.setInputFiles('[data-testid=files]', paths);
}

async function pickFolder(page, dir) {
  await page.setInputFiles('[data-testid=folders]', dir);
}

async function setConfig(page, text) {
  await page.fill('[data-testid=config]', text);
}

const mergeState = (page) => page.evaluate(() => document.body.dataset.mergeState);

// Clicks Merge and waits for the outcome: 'done' | 'failed' | 'cancelled'.
async function mergeAndWait(page, { timeout = 60000 } = {}) {
  await page.click('[data-testid=merge]');
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.body.dataset.mergeState), null, { timeout });
  return mergeState(page);
}

async function statusText(page) {
  return (await page.textContent('[data-testid=status]')).trim();
}

// Clicks the download link; -> {name, path} of the downloaded file.
async function downloadFile(page) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download]')]);
  return { name: d.suggestedFilename(), path: await d.path() };
}

// -> the downloaded bytes and the suggested name.
async function download(page) {
  const { name, path: file } = await downloadFile(page);
  return { name, bytes: fs.readFileSync(file) };
}

// Every file in the page's origin private file system, as paths.
function opfsFiles(page) {
  return page.evaluate(async () => {
    const out = [];
    const walk = async (dir, prefix) => {
      for await (const [name, handle] of dir.entries()) {
        if (handle.kind === 'directory') await walk(handle, `${prefix}${name}/`);
        else out.push(prefix + name);
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return out;
  });
}

module.exports = Object.assign(module.exports, { pickFiles, pickFolder, setConfig, mergeAndWait, mergeState, statusText, download, downloadFile, opfsFiles });
