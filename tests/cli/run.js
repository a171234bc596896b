'use strict';
// Runs every tests/cli/*.test.js: `node tests/cli/run.js [name filter]`.
const fs = require('fs');
const path = require('path');
const { run } = require('./harness');

for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) require(path.join(__dirname, f));
run(process.argv[2]).then((ok) => process.exit(ok ? 0 : 1));
