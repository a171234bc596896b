'use strict';
// Runs every tests/web/*.test.js: node tests of the page's modules (web/ is ES modules,
// which node's require loads), no browser. `node tests/web/run.js [name filter]`; ends with
// "N passed, N failed", as tests/cli/run.js does.
const fs = require('fs');
const path = require('path');
const { run } = require('../cli/harness');

for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) require(path.join(__dirname, f));
run(process.argv[2]).then((ok) => process.exit(ok ? 0 : 1));
