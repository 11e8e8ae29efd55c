//! Winograd's minimal filtering, F(m x m, r x r) (Lavin and Gray 2016), for the CPU
//! convolution's 3x3 and 5x5 layers: an m x m block of outputs from an n x n block of
//! inputs (n = m + r - 1) with n² multiplications per input and output channel pair
//! instead of m² r². With n = 6 that is 4x fewer for 3x3 (m = 4) and 2.8x fewer for 5x5
//! (m = 2), where SR networks spend nearly all their time (the UpscalerJS RDN: 91% of its
//! multiply-adds in 3x3 and 5x5 layers).
//!
//! The transforms come from the evaluation points 0, ±1, ±2 and infinity (Toom-Cook): the
//! correlation of `d` (n) with `g` (r) is `Aᵀ[(G g) ⊙ (Bᵀ d)]`, where `G` and `Aᵀ`
//! evaluate the filter and the output as polynomials at the points and `Bᵀ` is the
//! transposed inverse of the evaluation of degree n - 1. `G` is computed here (in f64, for
//! either kernel side); `Bᵀ` and `Aᵀ`, which run on every call, are written out with their
//! small integer coefficients (Lavin's `Bᵀ`, its rows checked against the computed inverse,
//! whose scale `G` takes). The points up to ±2 keep f32's error near that of direct
//! convolution (`tests`; 1e-6 on the bundled models).

use wide::f32x4;

/// The input block's side: F(4x4, 3x3) and F(2x2, 5x5).
pub const N: usize = 6;
/// The largest kernel side: F(2x2, 5x5).
const MAX_R: usize = 5;
const POINTS: [f64; N - 1] = [0.0, 1.0, -1.0, 2.0, -2.0];

/// Lavin's `Bᵀ` for these points: V⁻ᵀ with its rows scaled to small integers, computed by
/// [`input_1d`] in a third of the operations of the matrix product.
const BT: [[f64; N]; N] = [
    [4., 0., -5., 0., 1., 0.],
    [0., -4., -4., 1., 1., 0.],
    [0., 4., -4., -1., 1., 0.],
    [0., -2., -1., 2., 1., 0.],
    [0., 2., -1., -2., 1., 0.],
    [0., 4., 0., -5., 0., 1.],
];

/// The transforms of F(m x m, r x r).
#[derive(Debug, Clone)]
pub struct Transform {
    /// Outputs per block side.
    pub m: usize,
    /// The kernel's side.
    pub r: usize,
    /// `G`, n x r, with the scale [`BT`]'s rows leave out.
    g: Vec<f64>,
}

/// Rows of powers of the points, `[1, p, p², ...]` (`cols` of them), and the point at
/// infinity's row `[0, ..., 0, 1]` last.
fn evaluation(cols: usize) -> Vec<Vec<f64>> {
    let mut rows: Vec<Vec<f64>> = POINTS.iter().map(|&p| (0..cols).map(|k| p.powi(k as i32)).collect()).collect();
    rows.push((0..cols).map(|k| if k + 1 == cols { 1.0 } else { 0.0 }).collect());
    rows
}

/// The inverse of a small invertible matrix (Gauss-Jordan with partial pivoting).
fn inverse(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        for j in 0..n {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for row in (0..n).filter(|&row| row != col) {
            let f = a[row][col];
            for j in 0..n {
                a[row][j] -= f * a[col][j];
                inv[row][j] -= f * inv[col][j];
            }
        }
    }
    inv
}

/// `Bᵀ d` of one column or row.
#[inline(always)]
fn input_1d(d: [f32x4; N]) -> [f32x4; N] {
    let (four, five, two) = (f32x4::splat(4.0), f32x4::splat(5.0), f32x4::splat(2.0));
    let (s12, d12, s34, d34) = (d[1] + d[2], d[1] - d[2], d[4] + d[3], d[4] - d[3]);
    let (e, f) = (d[4] - d[2], two * (d[3] - d[1]));
    [four * d[0] - five * d[2] + d[4], s34 - four * s12, d34 + four * d12, e + f, e - f, four * d[1] - five * d[3] + d[5]]
}

/// `Aᵀ x` of one column or row, for `m` outputs: row i holds the finite points' i-th
/// powers, and the point at infinity counts in the last row only.
#[inline(always)]
fn output_1d(x: [f32x4; N], m: usize) -> [f32x4; 4] {
    let (a, b, c, d) = (x[1] + x[2], x[1] - x[2], x[3] + x[4], x[3] - x[4]);
    let mut o = [x[0] + a + c, b + f32x4::splat(2.0) * d, a + f32x4::splat(4.0) * c, b + f32x4::splat(8.0) * d];
    o[m - 1] += x[5];
    o
}

impl Transform {
    /// F(m x m, r x r) with n = [`N`] for a square kernel of side 3 or 5; `None` for others.
    pub fn for_kernel(r: usize) -> Option<Self> {
        if r != 3 && r != MAX_R {
            return None;
        }
        // V⁻ᵀ's row j (V⁻¹'s column j) is `scale` times BT's row j; G's row j, the filter's
        // evaluation at point j, takes the scale.
        let v = inverse(evaluation(N));
        let mut g = Vec::with_capacity(N * r);
        for (j, eval) in evaluation(r).iter().enumerate() {
            let k = (0..N).find(|&k| BT[j][k] != 0.0)?;
            let scale = v[k][j] / BT[j][k];
            g.extend(eval.iter().map(|x| x * scale));
        }
        Some(Self { m: N + 1 - r, r, g })
    }

    /// `G g Gᵀ` (n x n) of one filter (r x r, rows first).
    pub fn filter(&self, g: &[f32]) -> [f32; N * N] {
        let r = self.r;
        let mut left = [0f64; N * MAX_R];
        for i in 0..N {
            for k in 0..r {
                left[i * r + k] = (0..r).map(|j| self.g[i * r + j] * f64::from(g[j * r + k])).sum();
            }
        }
        std::array::from_fn(|ij| (0..r).map(|k| left[(ij / N) * r + k] * self.g[(ij % N) * r + k]).sum::<f64>() as f32)
    }

    /// `Bᵀ d B` of an n x n block of 4-channel vectors, `d(y, x)`, into `out(tap)` (rows
    /// first). Closures, so that the block is read from and written to where it lies.
    #[inline(always)]
    #[allow(clippy::needless_range_loop, reason = "the rows are the columns' transpose, spelled out to stay in registers")]
    pub fn input(&self, d: impl Fn(usize, usize) -> f32x4, mut out: impl FnMut(usize, f32x4)) {
        let mut columns = [[f32x4::ZERO; N]; N];
        for (x, column) in columns.iter_mut().enumerate() {
            *column = input_1d([d(0, x), d(1, x), d(2, x), d(3, x), d(4, x), d(5, x)]);
        }
        for i in 0..N {
            let row = input_1d([columns[0][i], columns[1][i], columns[2][i], columns[3][i], columns[4][i], columns[5][i]]);
            for (k, value) in row.into_iter().enumerate() {
                out(i * N + k, value);
            }
        }
    }

    /// `Aᵀ M A` (m x m, rows first, in the first m² entries) of an n x n block, into `out`.
    #[inline]
    pub fn output(&self, mm: &[f32x4; N * N], out: &mut [f32x4; 16]) {
        let m = self.m;
        let mut columns = [[f32x4::ZERO; 4]; N];
        for (x, column) in columns.iter_mut().enumerate() {
            *column = output_1d(std::array::from_fn(|y| mm[y * N + x]), m);
        }
        for i in 0..m {
            out[i * m..][..m].copy_from_slice(&output_1d(std::array::from_fn(|x| columns[x][i]), m)[..m]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V⁻ᵀ's rows are multiples of [`BT`]'s, and a correlation through the transforms
    /// equals the direct one for both kernel sides.
    #[test]
    fn transforms_compute_the_correlation() {
        let v = inverse(evaluation(N));
        for (j, row) in BT.iter().enumerate() {
            let k = (0..N).find(|&k| row[k] != 0.0).unwrap();
            let scale = v[k][j] / row[k];
            assert!((0..N).all(|i| (v[i][j] - scale * row[i]).abs() < 1e-9), "row {j}");
        }
        assert!(Transform::for_kernel(1).is_none() && Transform::for_kernel(4).is_none());
        for r in [3, 5] {
            let t = Transform::for_kernel(r).unwrap();
            let m = t.m;
            let g: Vec<f32> = (0..r * r).map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0).collect();
            let d: Vec<f32> = (0..N * N).map(|i| ((i * 53) % 17) as f32 / 4.0 - 2.0).collect();
            let u = t.filter(&g);
            let (mut v, mut y) = ([f32x4::ZERO; N * N], [f32x4::ZERO; 16]);
            t.input(|i, j| f32x4::splat(d[i * N + j]), |tap, value| v[tap] = value);
            t.output(&std::array::from_fn(|i| v[i] * f32x4::splat(u[i])), &mut y);
            for oy in 0..m {
                for ox in 0..m {
                    let direct: f32 = (0..r * r).map(|k| g[k] * d[(oy + k / r) * N + ox + k % r]).sum();
                    let fast = y[oy * m + ox].to_array()[0];
                    assert!((fast - direct).abs() < 1e-4 * (1.0 + direct.abs()), "r {r} ({oy}, {ox}): {fast} against {direct}");
                }
            }
        }
    }
}
