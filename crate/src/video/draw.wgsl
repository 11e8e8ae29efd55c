// The network's output planes drawn into the canvas: one triangle over the viewport, each
// fragment reading its pixel by the tensor's strides (gpu.rs).
struct Params { offset: u32, stride_c: u32, stride_y: u32, stride_x: u32 }
@group(0) @binding(0) var<storage, read> planes: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@vertex
fn vs(@builtin(vertex_index) v: u32) -> @builtin(position) vec4<f32> {
    let xy = vec2<f32>(f32((v << 1u) & 2u), f32(v & 2u));
    return vec4<f32>(xy * 2.0 - 1.0, 0.0, 1.0);
}

// Rounded to the 8-bit value the CPU path would store, so both paths agree exactly.
@fragment
fn fs(@builtin(position) at: vec4<f32>) -> @location(0) vec4<f32> {
    let i = p.offset + u32(at.y) * p.stride_y + u32(at.x) * p.stride_x;
    let rgb = vec3<f32>(planes[i], planes[i + p.stride_c], planes[i + 2u * p.stride_c]);
    return vec4<f32>(round(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)) * 255.0) / 255.0, 1.0);
}
