'use strict';
// Serves a folder on localhost with the headers that make the page cross-origin isolated
// (COOP/COEP), so SharedArrayBuffer and wasm threads work.
//   node scripts/http_server.js DIR [PORT]
const fs = require('fs');
const http = require('http');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json',
  '.safetensors': 'application/octet-stream', '.yaml': 'text/yaml; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
};

function createServer(root) {
  root = path.resolve(root);
  return http.createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403, headers).end();
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
                           'Content-Length': st.size });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });
}

if (require.main === module) {
  const [dir = 'web', port = process.env.PORT || 8080] = process.argv.slice(2);
  createServer(dir).listen(Number(port), '127.0.0.1', () => {
    console.log(`wasmerge: serving ${path.resolve(dir)} on http://localhost:${port}/`);
  });
}

module.exports = { createServer };
