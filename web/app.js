// The demo page: load a model, take an image (bundled sample, file picker or drop),
// upscale it with the model and with bicubic, compare them side by side.
// `window.ticketsrDemo` exposes the page's state for the end-to-end tests.
import init, { Upscaler, downscale, metrics } from '../pkg/ticketsr.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const backendChoice = params.get('backend') ?? 'auto';
// `?tile=N` caps the tile side (input pixels): smaller tiles, more progress steps.
const tileSize = params.has('tile') ? Number(params.get('tile')) : undefined;
const demo = (window.ticketsrDemo = { status: 'loading', runs: 0, error: null, result: null, info: null });

let upscaler = null;      // the model
let bicubic = null;       // the bicubic baseline at the model's scale
let image = null;         // ImageData as the user gave it
let imageName = '';
let controller = null;    // AbortController of the run in flight

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  demo.error = message;
}

function clearError() {
  $('error').hidden = true;
  demo.error = null;
}

function setStatus(text) {
  $('status').textContent = text;
}

function draw(canvas, data) {
  canvas.width = data.width;
  canvas.height = data.height;
  canvas.getContext('2d').putImageData(data, 0, 0);
}

async function decode(blob, name) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`Could not read ${name} as an image.`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

async function loadModel(bytes, label) {
  const next = await Upscaler.create(bytes, { backend: backendChoice, tileSize });
  const info = next.info();
  const nextBicubic = await Upscaler.bicubic(info.model.scale, { backend: backendChoice, tileSize });
  upscaler?.dispose();
  bicubic?.dispose();
  upscaler = next;
  bicubic = nextBicubic;
  demo.info = info;
  const b = info.backend;
  const badge = $('backend');
  badge.textContent = `${b.kind === 'webgpu' ? 'WebGPU' : b.kind.toUpperCase()} · ${b.adapter}`;
  badge.className = `badge ${b.kind === 'cpu' ? 'cpu' : 'gpu'}`;
  badge.title = b.fallback_reason ? `WebGPU unavailable: ${b.fallback_reason}` : 'Where the network runs';
  $('model-name').textContent = `${label} (x${info.model.scale}, ${info.parameters.toLocaleString()} parameters)`;
}

async function setImage(data, name) {
  image = data;
  imageName = name;
  await run();
}

function fmt(v, digits) {
  return Number.isFinite(v) ? v.toFixed(digits) : '∞';
}

function fillRow(id, m, ms) {
  const cells = $(id).querySelectorAll('td');
  cells[0].textContent = m ? fmt(m.psnrRgb, 2) : '–';
  cells[1].textContent = m ? fmt(m.psnrY, 2) : '–';
  cells[2].textContent = m ? fmt(m.ssimY, 4) : '–';
  cells[3].textContent = ms.toFixed(0);
}

async function run() {
  if (!upscaler || !image) return;
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  clearError();
  demo.status = 'running';
  $('cancel').disabled = false;
  $('run').disabled = true;
  $('download').classList.add('disabled');
  try {
    const scale = upscaler.info().model.scale;
    const evaluate = $('evaluate').checked;
    const input = evaluate ? downscale(image, scale) : image;
    draw($('input-canvas'), input);
    $('input-size').textContent = `${input.width}×${input.height}`;
    setStatus('Upscaling…');
    const onProgress = (done, total) => {
      $('progress').value = done / total;
      setStatus(`Upscaling: tile ${done} of ${total}`);
    };
    const t0 = performance.now();
    const sr = await upscaler.upscale(input, { onProgress, signal });
    const srMs = performance.now() - t0;
    const t1 = performance.now();
    const base = await bicubic.upscale(input, { signal });
    const bicubicMs = performance.now() - t1;
    draw($('sr-canvas'), sr);
    draw($('bicubic-canvas'), base);
    $('output-size').textContent = `${sr.width}×${sr.height}`;
    const scores = evaluate
      ? { model: metrics(sr, image, scale), bicubic: metrics(base, image, scale) }
      : null;
    fillRow('row-model', scores?.model, srMs);
    fillRow('row-bicubic', scores?.bicubic, bicubicMs);
    $('metrics').hidden = false;
    const url = URL.createObjectURL(await new Promise((r) => $('sr-canvas').toBlob(r)));
    const link = $('download');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = url;
    link.download = `${imageName.replace(/\.[^.]+$/, '') || 'image'}-x${scale}.png`;
    link.classList.remove('disabled');
    demo.runs += 1;
    demo.result = {
      input: [input.width, input.height],
      output: [sr.width, sr.height],
      srMs, bicubicMs, scores,
      sinceLoadMs: performance.now(),
    };
    demo.status = 'done';
    setStatus(`Done in ${srMs.toFixed(0)} ms on ${demo.info.backend.adapter}.`);
  } catch (e) {
    if (e.name === 'AbortError') {
      setStatus('Cancelled.');
      demo.status = 'cancelled';
    } else {
      showError(e.message);
      setStatus('Failed.');
      demo.status = 'error';
    }
  } finally {
    $('cancel').disabled = true;
    $('run').disabled = false;
    $('progress').value = 0;
  }
}

async function openFile(file) {
  try {
    await setImage(await decode(file, file.name), file.name);
  } catch (e) {
    showError(e.message);
    demo.status = 'error';
  }
}

async function loadSample() {
  const res = await fetch('media/astronaut-256.png');
  await setImage(await decode(await res.blob(), 'astronaut-256.png'), 'astronaut-256.png');
}

function wire() {
  $('image-file').addEventListener('change', (e) => e.target.files[0] && openFile(e.target.files[0]));
  $('sample').addEventListener('click', loadSample);
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', () => controller?.abort());
  $('evaluate').addEventListener('change', run);
  $('slider').addEventListener('input', (e) => {
    $('sr-canvas').style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
  $('model-select').addEventListener('change', async (e) => {
    if (e.target.value === 'upload') {
      $('model-file').click();
      return;
    }
    await switchModel(async () => new Uint8Array(await (await fetch(e.target.value)).arrayBuffer()), e.target.selectedOptions[0].text);
  });
  $('model-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    await switchModel(async () => new Uint8Array(await file.arrayBuffer()), file.name);
    e.target.value = '';
  });
  const zone = document.body;
  zone.addEventListener('dragover', (e) => { e.preventDefault(); $('drop-zone').classList.add('dragging'); });
  zone.addEventListener('dragleave', () => $('drop-zone').classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    $('drop-zone').classList.remove('dragging');
    const file = e.dataTransfer.files[0];
    if (file) openFile(file);
  });
}

async function switchModel(readBytes, label) {
  clearError();
  setStatus(`Loading ${label}…`);
  try {
    await loadModel(await readBytes(), label);
    await run();
  } catch (e) {
    showError(`Could not load ${label}: ${e.message}`);
    setStatus(upscaler ? 'Kept the previous model.' : 'No model loaded.');
    demo.status = 'error';
  }
}

async function main() {
  wire();
  try {
    await init();
    setStatus('Loading model…');
    const select = $('model-select');
    const wanted = params.get('model');
    if (wanted) {
      const option = [...select.options].find((o) => o.value === `models/${wanted}.safetensors`);
      if (!option) throw new Error(`there is no bundled model "${wanted}"`);
      select.value = option.value;
    }
    await loadModel(new Uint8Array(await (await fetch(select.value)).arrayBuffer()), select.selectedOptions[0].text);
    await loadSample();
  } catch (e) {
    showError(`Start-up failed: ${e.message}`);
    demo.status = 'error';
  }
}

main();
