// The playground's markup and its words: each view says in two or three sentences what
// it shows. playground.js fills in the parts marked by id.
const HTML = `
<div class="pg-intro">
<h2>Merging playground</h2>
<p>Five small networks, each fine-tuned from the same base on one 2-D task, merged into one by the engine that
merges your models (the same WebAssembly, in a worker). Move a control: the page merges the five files again,
reads the merged weights back and measures them on each task's test points. Every number below is computed
live in this page; the config each merge ran is shown, so <code>scripts/wasmerge</code> can check it.</p>
</div>

<div class="pg-top">
<section class="card pg-controls" aria-labelledby="pg-controls-title">
  <h3 id="pg-controls-title">Merge</h3>
  <label class="field">Method
    <select id="pg-method" data-testid="pg-method"></select>
  </label>
  <label class="field pg-slider" id="pg-density-field">Density (share of each task vector kept)
    <span class="pg-slider-row"><input type="range" id="pg-density" data-testid="pg-density" min="0.05" max="1" step="0.05" value="0.5"><output id="pg-density-value"></output></span>
  </label>
  <label class="field pg-slider" id="pg-lambda-field">λ (scale of the merged task vector)
    <span class="pg-slider-row"><input type="range" id="pg-lambda" data-testid="pg-lambda" min="0.1" max="2" step="0.05" value="1"><output id="pg-lambda-value"></output></span>
  </label>
  <label class="field" id="pg-rescale-field">Rescale what is kept
    <select id="pg-rescale" data-testid="pg-rescale"></select>
  </label>
  <div id="pg-params" data-testid="pg-params"></div>
  <label class="field" id="pg-seed-field">Random seed (for random drops)
    <input type="number" id="pg-seed" data-testid="pg-seed" min="0" step="1" value="0">
  </label>
  <fieldset class="pg-tasks">
    <legend>Tasks to merge, and each fine-tune's weight</legend>
    <div id="pg-task-list"></div>
  </fieldset>
  <details class="pg-config">
    <summary>The config this merge ran</summary>
    <pre id="pg-config" data-testid="playground-config"></pre>
    <p class="hint">Run it next to <code>web/demo/playground/</code>: <code>scripts/wasmerge merge.yaml out</code>.
    <a id="pg-download" href="#" download="playground-merge.safetensors">Download the merged model</a></p>
  </details>
  <p class="pg-latency" id="pg-latency" data-testid="playground-latency" aria-live="polite"></p>
</section>

<section class="card pg-results" aria-labelledby="pg-results-title">
  <h3 id="pg-results-title">Accuracy on each task</h3>
  <p class="pg-about">Each row is one model measured on each task's 500 test points. The fine-tunes are good at their
  own task only (the base has never seen these tasks, so it says one class everywhere); the last row is the merge.
  Normalized accuracy divides the merge's accuracy by the fine-tune's on the same task, as the TIES paper does.</p>
  <div class="table-scroll"><table class="pg-table" id="pg-table" data-testid="demo-results"></table></div>
  <p class="pg-note" id="pg-normalized" data-testid="demo-normalized"></p>
  <h3>Decision boundaries</h3>
  <p class="pg-about">Left of each pair: the fine-tune's own network; right: the merged trunk with that task's head.
  Orange and blue are the two classes, paler where the network is less sure; the dots are test points. Where the merge
  loses accuracy you can see which part of the shape it lost.</p>
  <div class="pg-boundaries" id="pg-boundaries"></div>
</section>
</div>

<section class="card pg-steps" data-testid="ties-steps" aria-labelledby="pg-steps-title">
<h3 id="pg-steps-title">TIES step by step, on a real tensor</h3>
<p class="pg-about">The engine reports what it did to a window of one tensor during the merge above: each fine-tune's
task vector, what survives the trim (or DARE's random drop), the sign elected for every parameter, which models
agree with it, and the merged result. Blue is positive, red negative; the counts are for the window shown.</p>
<div class="pg-steps-controls">
  <label class="field">Tensor <select id="pg-explain-tensor" data-testid="pg-explain-tensor"></select></label>
  <label class="field">Window <select id="pg-explain-window" data-testid="pg-explain-window"></select></label>
</div>
<div id="pg-steps"></div>
</section>

<section class="card pg-charts" aria-labelledby="pg-charts-title">
<h3 id="pg-charts-title">What the papers compare, at toy scale</h3>
<div class="chart-grid">
  <div class="chart-box" data-testid="chart-growth">
    <h4>Normalized accuracy as more tasks are merged</h4>
    <div id="pg-chart-growth"></div>
    <p class="pg-about">Every subset of the five tasks merged by every method, with the density, λ and seed set above
    (equal weights); each point is the mean normalized accuracy over the subsets of that size. The TIES paper's
    Figure&nbsp;1 makes this comparison for T5 and ViT models.</p>
    <p class="pg-honest" id="pg-growth-note"></p>
  </div>
  <div class="chart-box" data-testid="chart-drops">
    <h4>Accuracy when a fraction p of a task vector is dropped</h4>
    <div id="pg-chart-drops"></div>
    <p class="pg-about">Each fine-tune alone, after dropping a share p of its task vector: at random (DARE) with or
    without rescaling the rest, or keeping only the largest entries (magnitude pruning); the mean over the five tasks.
    Random drops are averaged over three seeds (the one set above and the next two). The DARE paper's
    Figures&nbsp;2–4 run this sweep on language models.</p>
    <p class="pg-honest" id="pg-drops-note"></p>
  </div>
</div>
<p class="pg-progress" id="pg-charts-progress"></p>
</section>

<section class="card pg-report" aria-labelledby="pg-report-title">
<h3 id="pg-report-title">Your models: what TIES and DARE will do to them</h3>
<p class="pg-about">Before you merge, the engine can read the models picked under <em>Merge your models</em> in one
streaming pass and report, per layer, how large the task vectors' entries are, how often the models disagree in
sign, and how much their largest entries overlap. Nothing is written; the density is the one in your config.</p>
<button type="button" class="button secondary" id="pg-analyze" data-testid="pg-analyze">Analyze the picked models</button>
<span class="pg-progress" id="pg-analyze-status" data-testid="pg-analyze-status"></span>
<div id="pg-report" data-testid="layer-report"></div>
</section>
`;

export { HTML };
