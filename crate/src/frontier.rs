//! The frontier: quality against measured time for every way of making SR cheaper, next to
//! the dense models at the same time. A claim about sparsity is a claim about this plot: a
//! sparse configuration is worth having only where no dense model is both as fast and as
//! good. Each point is one model (dense or channel-pruned) run densely or on winning-ticket
//! patches at a keep ratio, timed on the same device in one run, with PSNR against the HR
//! photos; [`mark_front`] marks the Pareto front and [`svg`] draws it.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::imaging::{RgbaImage, bicubic, metrics};
use crate::model::ModelFile;
use crate::options::UpscaleOptions;
use crate::patch::SparseUpscaler;
use crate::patch::score::Scorer;
use crate::platform::now_ms;
use crate::{Backend, Silent, Upscaler};

/// A model to place on the frontier: a bundled one, or one pruned from it.
pub struct Variant {
    /// The model it comes from (the colour in the plot).
    pub family: String,
    /// Share of its channels removed (0 for the model itself).
    pub channels_removed: f64,
    pub model: ModelFile,
}

/// One configuration's mean over the photos.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub family: String,
    pub channels_removed: f64,
    /// Share of the patches the network runs on (1 is dense SR; 0 is bicubic alone).
    pub keep: f64,
    /// Median time per photo, averaged over the photos.
    pub ms: f64,
    /// PSNR (RGB, shaved by the scale) against the HR photo, averaged over the photos.
    pub psnr: f64,
    /// No other point is at most as slow and at least as good (and better in one).
    pub on_front: bool,
}

impl Point {
    pub fn label(&self) -> String {
        if self.keep == 0.0 {
            return "bicubic".into();
        }
        let mut s = self.family.clone();
        if self.channels_removed > 0.0 {
            s += &format!(" -{:.0}% ch", self.channels_removed * 100.0);
        }
        if self.keep < 1.0 {
            s += &format!(" keep {:.0}%", self.keep * 100.0);
        }
        s
    }
}

/// How every point is measured.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Keep ratios of the winning-ticket runs (dense SR is always measured).
    pub keeps: Vec<f64>,
    pub scorer: Scorer,
    /// Timed runs per photo after one warm-up; the median counts.
    pub repeats: usize,
    /// LR pixels of context around the tickets (capped at each model's receptive radius;
    /// `None`: the radius, exact), as in [`UpscaleOptions::context`].
    pub context: Option<usize>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures every variant dense and at every keep ratio, and bicubic, on the LR versions of
/// `photos` (HR, cropped to the scale), on `backend`. All variants must share one scale.
pub async fn measure(variants: &[Variant], photos: &[RgbaImage], plan: &Plan, backend: &Backend, on_point: &mut dyn FnMut(&Point)) -> Result<Vec<Point>> {
    let scale = variants.first().map(|v| v.model.info.scale).ok_or_else(|| Error::InvalidArgument("no models to measure".into()))?;
    if let Some(v) = variants.iter().find(|v| v.model.info.scale != scale) {
        return Err(Error::InvalidArgument(format!("{} is x{}, the others x{scale}", v.family, v.model.info.scale)));
    }
    if photos.is_empty() || plan.repeats == 0 || plan.keeps.iter().any(|k| !(0.0..=1.0).contains(k)) {
        return Err(Error::InvalidArgument("the frontier needs photos, at least one repeat and keep ratios in 0..1".into()));
    }
    let pairs: Vec<(RgbaImage, RgbaImage)> = photos
        .iter()
        .map(|p| {
            let hr = p.crop_to_multiple(scale)?;
            Ok((bicubic::downscale(&hr, scale)?, hr))
        })
        .collect::<Result<_>>()?;
    let mut points = Vec::new();
    let bicubic_model = crate::model::bicubic(scale)?;
    // Each model uploaded once, then run densely and at every keep ratio.
    let dense_and_keeps: Vec<f64> = std::iter::once(1.0).chain(plan.keeps.iter().copied().filter(|&k| k < 1.0)).collect();
    let mut models: Vec<(&str, f64, &ModelFile, &[f64])> = vec![("bicubic", 0.0, &bicubic_model, &[0.0])];
    models.extend(variants.iter().map(|v| (v.family.as_str(), v.channels_removed, &v.model, dense_and_keeps.as_slice())));
    for (family, channels_removed, model, keeps) in models {
        let up = Upscaler::new(model, backend.clone())?;
        let sparse = SparseUpscaler::new(&up);
        let context = plan.context.map(|c| c.min(up.halo()));
        for &keep in keeps {
            let options = UpscaleOptions { keep: (keep > 0.0 && keep < 1.0).then_some(keep), scorer: plan.scorer, context, ..Default::default() };
            let (mut ms, mut psnr) = (0.0, 0.0);
            for (lr, hr) in &pairs {
                options.upscale(&sparse, lr, &mut Silent).await?;
                let mut times = Vec::with_capacity(plan.repeats);
                let mut out = None;
                for _ in 0..plan.repeats {
                    let t = now_ms();
                    out = Some(options.upscale(&sparse, lr, &mut Silent).await?.0);
                    times.push(now_ms() - t);
                }
                ms += median(times);
                psnr += metrics::psnr_rgb(&out.ok_or_else(|| Error::InvalidArgument("no runs".into()))?, hr, scale)?;
            }
            let n = pairs.len() as f64;
            let point = Point { family: family.into(), channels_removed, keep, ms: ms / n, psnr: psnr / n, on_front: false };
            on_point(&point);
            points.push(point);
        }
    }
    mark_front(&mut points);
    Ok(points)
}

/// Marks the points no other point dominates (as fast or faster and as good or better,
/// strictly in one).
pub fn mark_front(points: &mut [Point]) {
    let dominated: Vec<bool> = points
        .iter()
        .map(|p| points.iter().any(|q| q.ms <= p.ms && q.psnr >= p.psnr && (q.ms < p.ms || q.psnr > p.psnr)))
        .collect();
    points.iter_mut().zip(dominated).for_each(|(p, d)| p.on_front = !d);
}

/// For a time budget: the best point within it, and the best dense model (unpruned, keep 1)
/// within it.
pub fn best_within(points: &[Point], ms: f64) -> (Option<&Point>, Option<&Point>) {
    let best = |dense_only: bool| {
        points
            .iter()
            .filter(|p| p.ms <= ms && (!dense_only || p.keep == 1.0 && p.channels_removed == 0.0))
            .max_by(|a, b| a.psnr.total_cmp(&b.psnr))
    };
    (best(false), best(true))
}

const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/// The plot as SVG: time (log scale) across, PSNR up; a colour per family, circles for
/// dense runs, squares for channel-pruned, triangles for tickets (outlined when both); the
/// front joined by a line, its points numbered and named in the legend.
pub fn svg(points: &[Point], title: &str) -> String {
    let (w, h, left, right, top, bottom) = (1000.0, 560.0, 70.0, 330.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let lo_ms = points.iter().map(|p| p.ms).fold(f64::INFINITY, f64::min).max(1e-3);
    let hi_ms = points.iter().map(|p| p.ms).fold(0.0, f64::max).max(lo_ms * 1.01);
    let lo_db = points.iter().map(|p| p.psnr).fold(f64::INFINITY, f64::min);
    let hi_db = points.iter().map(|p| p.psnr).fold(f64::NEG_INFINITY, f64::max).max(lo_db + 0.01);
    let (l0, l1) = (lo_ms.log10() - 0.05, hi_ms.log10() + 0.05);
    let (d0, d1) = (lo_db - 0.1 * (hi_db - lo_db), hi_db + 0.1 * (hi_db - lo_db));
    let x = |ms: f64| left + (ms.log10() - l0) / (l1 - l0) * pw;
    let y = |db: f64| top + (d1 - db) / (d1 - d0) * ph;
    let mut families: Vec<&str> = Vec::new();
    points.iter().for_each(|p| if !families.contains(&p.family.as_str()) { families.push(&p.family) });
    let colour = |f: &str| COLOURS[families.iter().position(|g| *g == f).unwrap_or(0) % COLOURS.len()];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"24\" font-size=\"15\">{}</text>\n",
        escape(title)
    );
    s += &format!("<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>\n");
    // Decades and their 2x and 5x across; every half dB (or dB) up.
    for e in (l0.floor() as i32)..=(l1.ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let ms = m * 10f64.powi(e);
            if ms.log10() >= l0 && ms.log10() <= l1 {
                s += &format!("<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>\n", x(ms), top + ph, top + ph + 16.0, ms);
            }
        }
    }
    let step = if d1 - d0 > 6.0 { 1.0 } else { 0.5 };
    let mut db = (d0 / step).ceil() * step;
    while db <= d1 {
        s += &format!("<line x1=\"{left}\" x2=\"{0}\" y1=\"{1:.1}\" y2=\"{1:.1}\" stroke=\"#eee\"/><text x=\"{2}\" y=\"{3:.1}\" text-anchor=\"end\">{db:.1}</text>\n", left + pw, y(db), left - 6.0, y(db) + 4.0);
        db += step;
    }
    s += &format!("<text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\">ms per image (log scale)</text>\n", left + pw / 2.0, h - 12.0);
    s += &format!("<text transform=\"translate(18 {0}) rotate(-90)\" text-anchor=\"middle\">PSNR (dB)</text>\n", top + ph / 2.0);
    let mut front: Vec<&Point> = points.iter().filter(|p| p.on_front).collect();
    front.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let path: Vec<String> = front.iter().map(|p| format!("{:.1},{:.1}", x(p.ms), y(p.psnr))).collect();
    s += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\n", path.join(" "));
    for p in points {
        let (cx, cy, c) = (x(p.ms), y(p.psnr), colour(&p.family));
        let fill = if p.channels_removed > 0.0 && p.keep < 1.0 { "white" } else { c };
        s += &match (p.keep < 1.0 && p.keep > 0.0, p.channels_removed > 0.0) {
            (true, _) => format!("<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{fill}\" stroke=\"{c}\" stroke-width=\"1.5\"><title>{}</title></polygon>\n", cx, cy - 6.0, cx - 5.5, cy + 4.0, cx + 5.5, cy + 4.0, escape(&p.label())),
            (false, true) => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"{c}\"><title>{}</title></rect>\n", cx - 4.5, cy - 4.5, escape(&p.label())),
            (false, false) => format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"5\" fill=\"{}\"><title>{}</title></circle>\n", if p.keep == 0.0 { "#777" } else { c }, escape(&p.label())),
        };
    }
    // The front's points numbered along it, named in the legend (labels beside crowded
    // points overlap).
    for (i, p) in front.iter().enumerate() {
        s += &format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" font-weight=\"bold\">{}</text>\n", x(p.ms) + 4.0, y(p.psnr) - 7.0, i + 1);
    }
    // Legend: families, then shapes.
    let lx = left + pw + 20.0;
    for (i, f) in families.iter().enumerate() {
        let ly = top + 10.0 + i as f64 * 18.0;
        s += &format!("<circle cx=\"{lx}\" cy=\"{ly}\" r=\"5\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n", if *f == "bicubic" { "#777" } else { colour(f) }, lx + 10.0, ly + 4.0, escape(f));
    }
    let ly = top + 20.0 + families.len() as f64 * 18.0;
    let shapes = ["circle: dense", "square: channel-pruned", "triangle: tickets", "hollow triangle: both", "dashed: Pareto front"];
    for (i, t) in shapes.iter().enumerate() {
        s += &format!("<text x=\"{}\" y=\"{}\">{t}</text>\n", lx - 5.0, ly + i as f64 * 16.0);
    }
    let ly = ly + shapes.len() as f64 * 16.0 + 10.0;
    for (i, p) in front.iter().enumerate() {
        s += &format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"10\"><tspan font-weight=\"bold\">{}</tspan> {} ({:.0} ms, {:.2} dB)</text>\n",
            lx - 5.0,
            ly + i as f64 * 14.0,
            i + 1,
            escape(&p.label()),
            p.ms,
            p.psnr
        );
    }
    s + "</svg>\n"
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::espcn;
    use crate::prune::channel::{self, ChannelConfig};

    fn point(family: &str, ms: f64, psnr: f64) -> Point {
        Point { family: family.into(), channels_removed: 0.0, keep: 1.0, ms, psnr, on_front: false }
    }

    #[test]
    fn the_front_is_the_points_nothing_beats_on_both_axes() {
        let mut p = vec![point("a", 10.0, 30.0), point("b", 20.0, 31.0), point("c", 30.0, 30.5), point("d", 5.0, 29.0), point("e", 10.0, 29.5)];
        mark_front(&mut p);
        assert_eq!(p.iter().map(|p| p.on_front).collect::<Vec<_>>(), [true, true, false, true, false]);
        let (best, dense) = best_within(&p, 25.0);
        assert_eq!(best.unwrap().family, "b");
        assert_eq!(dense.unwrap().family, "b");
        let drawn = svg(&p, "a <test>");
        assert!(drawn.starts_with("<svg") && drawn.contains("a &lt;test&gt;") && drawn.matches("<circle").count() >= 5);
    }

    #[test]
    fn every_variant_is_measured_dense_and_sparse_with_bicubic() {
        let m = espcn::build(2, 1).unwrap();
        let pruned = channel::prune(&m, &ChannelConfig::new(0.5)).unwrap();
        let variants = [
            Variant { family: "espcn".into(), channels_removed: 0.0, model: m.clone() },
            Variant { family: "espcn".into(), channels_removed: 0.5, model: pruned },
        ];
        let photo = RgbaImage::new(64, 48, (0..64 * 48 * 4).map(|i| (i * 31 % 253) as u8).collect()).unwrap();
        let plan = Plan { keeps: vec![0.25, 1.0], scorer: Scorer::Gradient, repeats: 1, context: Some(2) };
        let mut seen = 0;
        let points = pollster::block_on(measure(&variants, std::slice::from_ref(&photo), &plan, &Backend::cpu(), &mut |_| seen += 1)).unwrap();
        assert_eq!(points.len(), 1 + 2 * 2);
        assert_eq!(seen, points.len());
        assert!(points.iter().all(|p| p.ms > 0.0 && p.psnr.is_finite()));
        assert_eq!(points[0].label(), "bicubic");
        assert_eq!(points[4].label(), "espcn -50% ch keep 25%");
        assert!(points.iter().any(|p| p.on_front));
        let x4 = espcn::build(4, 1).unwrap();
        let mixed = [Variant { family: "a".into(), channels_removed: 0.0, model: m }, Variant { family: "b".into(), channels_removed: 0.0, model: x4 }];
        assert!(pollster::block_on(measure(&mixed, &[photo], &plan, &Backend::cpu(), &mut |_| {})).is_err());
    }
}
