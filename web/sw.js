// The service worker: (1) adds the cross-origin isolation headers (COOP/COEP/CORP) to the
// app's own responses, so wasm threads work on static hosts that cannot send them
// (GitHub Pages); (2) keeps the app for offline use. It only ever touches requests to
// this origin: the page makes no other.
'use strict';
const CACHE = 'wasmerge-v1';
// Everything the page loads. tests/web/manifest.test.js checks this list against the
// import graph from index.html and the workers, so a new module cannot be left out.
const APP = [
  './', 'index.html', 'style.css', 'icon.svg', 'yaml.js', 'vendor/js-yaml.min.js', 'vendor/tokenizers.min.mjs',
  // the page
  'app.js', 'features.js', 'file_picker.js', 'file_table.js', 'adapters.js', 'methods.js', 'layer_map.js', 'engine_queries.js',
  'config_yaml.js', 'models_table.js', 'field_value.js', 'param_fields.js', 'method_about.js', 'method_check.js',
  'config_form.js', 'plan_preview.js', 'merge_controller.js', 'merge_client.js', 'progress_view.js', 'result_view.js',
  'shared/protocol.js', 'shared/format.js', 'shared/job.js', 'shared/config_text.js', 'shared/heap_size.js',
  'shared/prompt_tokens.js', 'prompt_files.js', 'upcycle_config.js', 'upcycle_form.js', 'extract_form.js',
  'eval_panel.js', 'eval_models.js', 'eval_job.js', 'eval_progress.js', 'eval_results.js', 'eval_chart.js', 'shared/eval_tokens.js',
  // the workers
  'merge.worker.js', 'merge_session.js', 'query.worker.js', 'query_session.js', 'engine_loader.js', 'crc32.js',
  'zip_container.js', 'worker_host.js', 'blocking_reader.js', 'reader.worker.js',
  'engine/wasmerge.js', 'engine/wasmerge.wasm', 'engine/wasmerge.worker.js',
  // the playground
  'playground/playground.css', 'playground/random.js', 'playground/tasks.js', 'playground/mlp.js', 'playground/evaluate.js',
  'playground/merge_config.js', 'playground/playground_client.js', 'playground/results_table.js', 'playground/boundary_view.js',
  'playground/line_chart.js', 'playground/sweeps.js', 'playground/ties_steps.js', 'playground/layer_report.js',
  'playground/markup.js', 'playground/playground.js', 'playground/playground.worker.js', 'playground/worker_session.js',
  'playground/safetensors_f32.js', 'playground/param_controls.js', 'playground/task_pick.js',
  // the layer-space lab
  'lab/lab.css', 'lab/lab.js', 'lab/lab_markup.js', 'lab/lab_format.js', 'lab/lab_task.js', 'lab/lab_net.js', 'lab/lab_train.js',
  'lab/lab_training.js', 'lab/lab_configs.js', 'lab/removal_view.js', 'lab/dus_view.js', 'lab/upcycle_view.js',
  'lab/lab.worker.js', 'lab/lab_worker_session.js',
  // the demos
  'demo/demo.json', 'demo/merge.yaml', 'demo/base.safetensors', 'demo/math.safetensors', 'demo/code.safetensors',
  'demo/chat.safetensors',
  'demo/playground/playground.json', 'demo/playground/base.safetensors', 'demo/playground/moons.safetensors',
  'demo/playground/circles.safetensors', 'demo/playground/spirals.safetensors', 'demo/playground/checkerboard.safetensors',
  'demo/playground/wave.safetensors',
  'demo/lab/lab.json', 'demo/lab/config.json', 'demo/lab/model.safetensors',
];

self.addEventListener('install', (event) => {
  // A missing file (an engine not built yet) must not stop the rest being cached.
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(APP.map((url) => cache.add(url).catch(() => {}))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isolated(response) {
  if (response.status === 0) return response;  // opaque: cannot be rewritten
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// Network first (an updated app is used at once), the cache when offline.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  if (request.headers.has('range')) return;  // let the browser handle partial reads
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok && APP.some((path) => request.url === new URL(path, self.registration.scope).href)) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy)).catch(() => {});
      }
      return isolated(response);
    } catch (e) {
      const cached = await caches.match(request, { ignoreSearch: true });
      if (cached) return isolated(cached);
      throw e;
    }
  })());
});
