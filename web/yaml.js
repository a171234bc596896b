// js-yaml for the page, as a module: index.html's import map sends `import yaml from
// 'js-yaml'` here (node resolves the same line to the npm package). The vendored file is
// js-yaml's UMD build (scripts/build.sh copies it to vendor/), which, run as a module,
// defines globalThis.jsyaml.
import './vendor/js-yaml.min.js';

export default globalThis.jsyaml;
