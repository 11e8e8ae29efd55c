// The pruning chart: one bar per convolution, its full width the channels it had, the
// filled part the channels (channel pruning) or the share of weights (magnitude, 2:4) kept.

export function drawLayers(canvas, layers) {
  const ctx = canvas.getContext('2d');
  const row = 14;
  const label = 130;
  canvas.height = Math.max(40, layers.length * row + 24);
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const widest = Math.max(1, ...layers.map((l) => l.channelsBefore));
  const span = width - label - 90;
  layers.forEach((l, i) => {
    const y = 8 + i * row;
    const full = (l.channelsBefore / widest) * span;
    const kept = l.channels < l.channelsBefore ? l.channels / l.channelsBefore : l.nonzero / Math.max(1, l.weights);
    ctx.fillStyle = '#333';
    ctx.fillText(l.name.length > 20 ? `…${l.name.slice(-19)}` : l.name, 2, y + row / 2 - 1);
    ctx.fillStyle = '#ddd';
    ctx.fillRect(label, y, full, row - 3);
    ctx.fillStyle = l.channels < l.channelsBefore ? '#1f77b4' : '#ff7f0e';
    ctx.fillRect(label, y, full * kept, row - 3);
    ctx.fillStyle = '#333';
    const text = l.channels < l.channelsBefore
      ? `${l.channels}/${l.channelsBefore} ch`
      : `${l.channelsBefore} ch, ${Math.round(kept * 100)}% w`;
    ctx.fillText(text, label + full + 4, y + row / 2 - 1);
  });
  ctx.fillStyle = '#555';
  ctx.fillText('blue: channels kept · orange: weights kept · grey: removed', label, height - 8);
}
