//! STDO's chunks: every patch of the clip pooled, sorted by the general model's PSNR and cut
//! into `k` equal-count quantiles; chunk 0 holds the lowest PSNR (the hardest content).

use crate::error::{Error, Result};

/// Where the chunks of a clip begin, so patches the split never saw (a held-out frame)
/// land in the chunk whose range holds their score.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunks {
    /// The chunk of every scored patch, in the order given.
    pub labels: Vec<u8>,
    /// `bounds[j]`: the lowest score of chunk `j + 1` (`k - 1` values, ascending).
    pub bounds: Vec<f64>,
}

/// Splits `scores` into `k` chunks of equal count (the first `n % k` chunks take one more);
/// equal scores are ordered by position, so the split is deterministic.
pub fn quantiles(scores: &[f64], k: usize) -> Result<Chunks> {
    let n = scores.len();
    if k == 0 || k > 255 || k > n {
        return Err(Error::InvalidArgument(format!("cannot cut {n} patches into {k} chunks")));
    }
    if scores.iter().any(|s| s.is_nan()) {
        return Err(Error::InvalidArgument("a patch score is NaN".into()));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    let (base, extra) = (n / k, n % k);
    let mut labels = vec![0u8; n];
    let mut bounds = Vec::with_capacity(k - 1);
    let mut rank = 0;
    for chunk in 0..k {
        let size = base + usize::from(chunk < extra);
        if chunk > 0 {
            bounds.push(scores[order[rank]]);
        }
        for &i in &order[rank..rank + size] {
            labels[i] = chunk as u8;
        }
        rank += size;
    }
    Ok(Chunks { labels, bounds })
}

/// The chunk whose range holds `score`.
pub fn of(score: f64, bounds: &[f64]) -> u8 {
    bounds.iter().filter(|&&b| score >= b).count() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_count_quantiles_of_a_known_list() {
        let scores = [30.0, 45.0, 20.0, 38.0, 41.0, 25.0, 33.0, 50.0];
        let c = quantiles(&scores, 2).unwrap();
        assert_eq!(c.labels, [0, 1, 0, 1, 1, 0, 0, 1]);
        assert_eq!(c.bounds, [38.0]);
        let c = quantiles(&scores, 4).unwrap();
        // Sorted: 20 25 | 30 33 | 38 41 | 45 50.
        assert_eq!(c.labels, [1, 3, 0, 2, 2, 0, 1, 3]);
        assert_eq!(c.bounds, [30.0, 38.0, 45.0]);
        assert_eq!((of(19.0, &c.bounds), of(30.0, &c.bounds), of(44.9, &c.bounds), of(99.0, &c.bounds)), (0, 1, 2, 3));
        // Uneven counts: the first chunks take the remainder; ties keep their order.
        let c = quantiles(&[1.0, 1.0, 1.0, 1.0, 1.0], 2).unwrap();
        assert_eq!(c.labels, [0, 0, 0, 1, 1]);
        assert!(quantiles(&scores, 9).is_err());
        assert!(quantiles(&[1.0, f64::NAN], 2).is_err());
    }
}
