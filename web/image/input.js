// The image the page works on: the bundled sample, a picked file or a dropped one,
// decoded to ImageData (pkg/frames.js reads the pixels).
import { FrameReader } from '../../pkg/frames.js';
import { $, showError } from '../page.js';
import { demo, state } from '../state.js';
import { run } from '../tickets/run.js';

async function decode(blob, name) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`Could not read ${name} as an image.`);
  }
  return new FrameReader().read(bitmap, bitmap.width, bitmap.height);
}

async function setImage(data, name) {
  state.image = data;
  state.imageName = name;
  state.generation += 1;
  await run();
}

async function openFile(file) {
  try {
    await setImage(await decode(file, file.name), file.name);
  } catch (e) {
    showError(e.message);
    demo.status = 'error';
  }
}

export async function loadSample() {
  const res = await fetch('media/astronaut-256.png');
  await setImage(await decode(await res.blob(), 'astronaut-256.png'), 'astronaut-256.png');
}

export function wireImage() {
  $('image-file').addEventListener('change', (e) => e.target.files[0] && openFile(e.target.files[0]));
  $('sample').addEventListener('click', loadSample);
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
