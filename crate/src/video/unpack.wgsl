// A frame the browser copied to a texture, as the network's input: three planes of f32
// at `offset` in a tensor's buffer (gpu.rs).
struct Params { width: u32, height: u32, offset: u32, pad: u32 }
@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> planes: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= p.width || id.y >= p.height) { return; }
    let c = textureLoad(frame, vec2<i32>(id.xy), 0);
    let n = p.width * p.height;
    let i = p.offset + id.y * p.width + id.x;
    planes[i] = c.r;
    planes[i + n] = c.g;
    planes[i + 2u * n] = c.b;
}
