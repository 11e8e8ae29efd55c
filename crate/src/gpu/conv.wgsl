// The fused convolution (conv.rs says why): conv + bias + activation in one pass, NCHW, a
// row of PIXELS output pixels for GROUPS groups of 4 output channels per invocation.
// conv.rs prepends the constants KH, KW, PIXELS, GROUPS and PER_C for one kernel size, and
// fills the three marked places with the unrolled taps, accumulators and stores.

struct Params {
  in_c: u32, out_c: u32, in_h: u32, in_w: u32,
  out_h: u32, out_w: u32, y0: i32, x0: i32,
  in_first: u32, in_sn: u32, in_sc: u32, in_sy: u32,
  in_sx: u32, out_first: u32, groups: u32, blocks: u32,
}
// All read_write, as burn binds them: two views of one pooled buffer may meet in a pass.
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn ld(base: u32, iy: i32, ix: i32) -> f32 {
  if (iy < 0 || ix < 0 || iy >= i32(p.in_h) || ix >= i32(p.in_w)) { return 0.0; }
  return x[base + u32(iy) * p.in_sy + u32(ix) * p.in_sx];
}

fn act(v: vec4<f32>, g: u32) -> vec4<f32> {
  // none: return v; relu: max(v, 0); prelu: the slopes packed after the bias.
  if (ACTIVATION == 1u) { return max(v, vec4<f32>(0.0)); }
  if (ACTIVATION == 2u) { return select(v * b[p.groups + g], v, v > vec4<f32>(0.0)); }
  return v;
}

fn put(n: u32, g: u32, oy: u32, ox: u32, v: vec4<f32>) {
  if (ox >= p.out_w || g >= p.groups) { return; }
  let plane = p.out_h * p.out_w;
  let at = p.out_first + (n * p.out_c + g * 4u) * plane + oy * p.out_w + ox;
  let left = p.out_c - g * 4u;
  y[at] = v.x;
  if (left > 1u) { y[at + plane] = v.y; }
  if (left > 2u) { y[at + 2u * plane] = v.z; }
  if (left > 3u) { y[at + 3u * plane] = v.w; }
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let ox = id.x * PIXELS;
  let oy = id.y;
  if (ox >= p.out_w || oy >= p.out_h) { return; }
  let n = id.z / p.blocks;
  let g0 = (id.z % p.blocks) * GROUPS;
  let iy0 = i32(oy) + p.y0;
  let ix0 = i32(ox) + p.x0;
  // @accumulators: var a{g}{p} = the bias of group g, for every group and pixel
  for (var c = 0u; c < p.in_c; c++) {
    let base = p.in_first + n * p.in_sn + c * p.in_sc;
    let wi = ((g0 / GROUPS) * p.in_c + c) * PER_C;
    // One kernel row per loop step, its taps unrolled: unrolling the rows too makes
    // shaders SwiftShader loses the device compiling (3x3 and larger).
    for (var ky = 0u; ky < KH; ky++) {
      let iy = iy0 + i32(ky);
      // @taps: the row's inputs, its weights, then every multiply-add
    }
  }
  // @stores: put() every accumulator through act()
}
