// Decision boundaries: for each merged task, the fine-tune's own boundary next to the
// merged trunk's with that task's head, over the task's test points. A cell's colour is
// the predicted class, its strength the confidence (|2·sigmoid(logit) − 1|).
import * as tasksModule from './tasks.js';

const CLASS_RGB = [[224, 123, 57], [47, 91, 211]];  // class 0 orange, class 1 blue
const SIZE = 124;        // CSS pixels per picture
const POINTS = 160;      // test points drawn over each picture

// logits: Float32Array(grid * grid) -> an offscreen canvas of grid x grid pixels
function paintLogits(logits, grid) {
  const small = document.createElement('canvas');
  small.width = grid;
  small.height = grid;
  const ctx = small.getContext('2d');
  const image = ctx.createImageData(grid, grid);
  for (let i = 0; i < grid * grid; i++) {
    const p = 1 / (1 + Math.exp(-logits[i]));
    const rgb = CLASS_RGB[p > 0.5 ? 1 : 0];
    const strength = 0.25 + 0.55 * Math.sqrt(Math.abs(2 * p - 1));
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 + (rgb[c] - 255) * strength);
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return small;
}

function drawPicture(canvas, logits, { grid, extent, points }) {
  const scale = window.devicePixelRatio || 1;
  canvas.width = SIZE * scale;
  canvas.height = SIZE * scale;
  canvas.style.width = `${SIZE}px`;
  canvas.style.height = `${SIZE}px`;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(paintLogits(logits, grid), 0, 0, canvas.width, canvas.height);
  const toPx = (v) => ((v + extent) / (2 * extent)) * canvas.width;
  for (let i = 0; i < Math.min(POINTS, points.labels.length); i++) {
    const [r, g, b] = CLASS_RGB[points.labels[i]];
    ctx.beginPath();
    ctx.arc(toPx(points.xy[2 * i]), canvas.height - toPx(points.xy[2 * i + 1]), 2.2 * scale, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fill();
    ctx.lineWidth = 0.8 * scale;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    ctx.stroke();
  }
}

// container: an element to fill; tasks: [{name, title}]; own: {task: logits} (each
// fine-tune's boundary on its own task); grid, extent: evaluate.js's grid.
function createBoundaryView(container, { tasks, own, grid, extent }) {
  const points = new Map(tasks.map((t) => [t.name, tasksModule.evalSet(t.name)]));
  const figures = new Map();
  for (const t of tasks) {
    const figure = document.createElement('figure');
    figure.className = 'boundary-pair';
    figure.dataset.task = t.name;
    const ownCanvas = document.createElement('canvas');
    const mergedCanvas = document.createElement('canvas');
    ownCanvas.setAttribute('aria-label', `${t.title}: the fine-tune's decision boundary`);
    mergedCanvas.setAttribute('aria-label', `${t.title}: the merge's decision boundary`);
    const labels = document.createElement('div');
    labels.className = 'boundary-labels';
    labels.innerHTML = '<span>fine-tune</span><span>merge</span>';
    const caption = document.createElement('figcaption');
    const pictures = document.createElement('div');
    pictures.className = 'boundary-pictures';
    pictures.append(ownCanvas, mergedCanvas);
    figure.append(pictures, labels, caption);
    container.append(figure);
    drawPicture(ownCanvas, own[t.name], { grid, extent, points: points.get(t.name) });
    figures.set(t.name, { figure, mergedCanvas, caption, title: t.title });
  }

  // merged: {task: logits} for the merged tasks; accuracy: {task: acc} of the merge and
  // ownAccuracy: {task: acc} of each fine-tune, for the captions.
  function show(merged, accuracy, ownAccuracy) {
    for (const [name, f] of figures) {
      const on = Boolean(merged && merged[name]);
      f.figure.hidden = !on;
      if (!on) continue;
      drawPicture(f.mergedCanvas, merged[name], { grid, extent, points: points.get(name) });
      f.caption.textContent = `${f.title}: ${(100 * ownAccuracy[name]).toFixed(1)}% → ${(100 * accuracy[name]).toFixed(1)}%`;
    }
  }

  return { show };
}

export { createBoundaryView };
