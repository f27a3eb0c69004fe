//! The NAO centroid: the minimiser of summed geodesic distances plus the prior on its norm.

use nao_geodesic::{angle_with_norms, CircleLeg, Nao};
use nao_prior::{dot, norm};

use nao_optim::{StopReason, Termination};

use crate::CentroidError;

/// Which NAO objective to minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NaoObjective {
    /// `Σᵢ d_NAO(c, xᵢ) − log χ(‖c‖)`: the official objective (unsquared distances + prior).
    Official,
    /// `Σᵢ d_NAO(c, xᵢ)²`: the Fréchet mean of the NAO metric.
    Frechet,
}

/// Seeds with what every objective evaluation reuses: norms and legs to the circular geodesic.
pub struct PreparedSeeds<'a> {
    seeds: &'a [&'a [f64]],
    norms: Vec<f64>,
    legs: Vec<Option<CircleLeg>>,
}

impl<'a> PreparedSeeds<'a> {
    /// Precompute norms and circle legs (one 1-D integration per seed).
    pub fn new(nao: &Nao, seeds: &'a [&'a [f64]]) -> Self {
        let norms: Vec<f64> = seeds.iter().map(|s| norm(s)).collect();
        let legs = norms.iter().map(|&r| nao.circle_leg(r)).collect();
        Self { seeds, norms, legs }
    }
}

/// The angle between `c` (norm `rc`) and `x` (norm `rx`) from their dot product, falling back to
/// the cancellation-free formula near 0 and π.
fn angle_from_dot(dot_cx: f64, c: &[f64], x: &[f64], rc: f64, rx: f64) -> f64 {
    let cos = dot_cx / (rc * rx);
    if cos.abs() < 0.99 {
        cos.acos()
    } else {
        angle_with_norms(c, x, rc, rx)
    }
}

/// `d_NAO(c, xᵢ)` and the unit tangent `(radial, angular)` of the geodesic at `c`: the closed
/// form in the circle regime (most pairs of seeds near the shell), else the full planar solve.
fn distance_and_tangent(
    nao: &Nao,
    leg_c: Option<&CircleLeg>,
    prepared: &PreparedSeeds<'_>,
    i: usize,
    rc: f64,
    theta: f64,
) -> Result<(f64, (f64, f64)), CentroidError> {
    let fast = match (leg_c, &prepared.legs[i]) {
        (Some(lc), Some(lx)) => lc.distance_to(lx, theta),
        _ => None,
    };
    match fast {
        Some(v) => Ok(v),
        None => {
            let g = nao.solve_planar(rc, prepared.norms[i], theta)?;
            Ok((g.distance(), g.start_tangent()))
        }
    }
}

/// `d_NAO(c, xᵢ)` for every seed (∞ for the zero vector, where `−log χ` is infinite).
pub fn distances(
    nao: &Nao,
    prepared: &PreparedSeeds<'_>,
    c: &[f64],
) -> Result<Vec<f64>, CentroidError> {
    let rc = norm(c);
    if rc == 0.0 {
        return Ok(vec![f64::INFINITY; prepared.norms.len()]);
    }
    let leg_c = nao.circle_leg(rc);
    (0..prepared.norms.len())
        .map(|i| {
            let x = prepared.seeds[i];
            let th = angle_from_dot(dot(c, x), c, x, rc, prepared.norms[i]);
            Ok(distance_and_tangent(nao, leg_c.as_ref(), prepared, i, rc, th)?.0)
        })
        .collect()
}

/// The objective and the coefficients of its gradient, `∇ = coef_c·c + Σᵢ coef_x[i]·xᵢ`,
/// from scalars only: `‖c‖`, and per seed `c·xᵢ` and the angle `θᵢ`.
struct ScalarGradient {
    value: f64,
    coef_c: f64,
    coef_x: Vec<f64>,
}

fn scalar_objective(
    nao: &Nao,
    objective: NaoObjective,
    prepared: &PreparedSeeds<'_>,
    rc: f64,
    dots: &[f64],
    angles: &[f64],
) -> Result<ScalarGradient, CentroidError> {
    if !(rc > 0.0 && rc.is_finite()) {
        return Err(CentroidError::InvalidConfig(format!(
            "centroid iterate has norm {rc}"
        )));
    }
    let prior = nao.prior();
    let f_c = prior.neg_log_pdf(rc);
    let leg_c = nao.circle_leg(rc);
    // Per seed: (distance, coefficient on c, coefficient on xᵢ) of ∂d/∂c.
    let per_seed = |i: usize| -> Result<(f64, f64, f64), CentroidError> {
        let rx = prepared.norms[i];
        let th = angles[i];
        let (dist, (tr, ta)) = distance_and_tangent(nao, leg_c.as_ref(), prepared, i, rc, th)?;
        if dist == 0.0 {
            return Ok((0.0, 0.0, 0.0));
        }
        // ∂d/∂c = −f(‖c‖)(t_r ĉ + t_α e) with e = (x − (x·ĉ)ĉ)/(‖x‖ sin θ), the unit direction
        // towards x orthogonal to c.
        let s = rx * th.sin();
        let (coef_c, coef_x) = if s > 0.0 && ta != 0.0 {
            let xc = dots[i] / rc;
            (-f_c * (tr - ta * xc / s) / rc, -f_c * ta / s)
        } else {
            (-f_c * tr / rc, 0.0)
        };
        Ok((dist, coef_c, coef_x))
    };
    let k = prepared.norms.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(k)
        .max(1);
    // Threads pay off only when there are many planar solves to share.
    let results: Vec<Result<(f64, f64, f64), CentroidError>> = if threads > 1 && k >= 64 {
        let chunk = k.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let per_seed = &per_seed;
                    scope.spawn(move || {
                        (t * chunk..((t + 1) * chunk).min(k))
                            .map(per_seed)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("centroid worker panicked"))
                .collect()
        })
    } else {
        (0..k).map(per_seed).collect()
    };
    let mut value = 0.0;
    let mut coef_c = 0.0;
    let mut coef_x = vec![0.0; k];
    for (i, r) in results.into_iter().enumerate() {
        let (dist, cc, cx) = r?;
        let w = match objective {
            NaoObjective::Official => {
                value += dist;
                1.0
            }
            NaoObjective::Frechet => {
                value += dist * dist;
                2.0 * dist
            }
        };
        coef_c += w * cc;
        coef_x[i] = w * cx;
    }
    if objective == NaoObjective::Official {
        value += f_c;
        // ∂(−log χ(‖c‖))/∂c = f′(‖c‖) ĉ with f′ = −d log χ/dr
        coef_c += -prior.d_log_pdf(rc) / rc;
    }
    Ok(ScalarGradient {
        value,
        coef_c,
        coef_x,
    })
}

/// Value and gradient of a NAO centroid objective at `c ∈ ℝᵈ`.
///
/// Each distance needs only `‖c‖`, `‖xᵢ‖` and the angle; in the circle regime it has a closed
/// form, elsewhere it costs one planar solve. The gradient of `d_NAO(c, x)` with respect to `c`
/// is `−f(‖c‖)` times the unit tangent of the geodesic at `c`, which Clairaut's relation gives
/// in closed form, so the gradient is a combination of `c` and the seeds and the iterates never
/// leave `span{xᵢ}`.
pub fn objective_and_gradient(
    nao: &Nao,
    objective: NaoObjective,
    prepared: &PreparedSeeds<'_>,
    c: &[f64],
) -> Result<(f64, Vec<f64>), CentroidError> {
    let rc = norm(c);
    let dots: Vec<f64> = prepared.seeds.iter().map(|x| dot(c, x)).collect();
    let angles: Vec<f64> = prepared
        .seeds
        .iter()
        .zip(&dots)
        .zip(&prepared.norms)
        .map(|((x, &d), &rx)| angle_from_dot(d, c, x, rc, rx))
        .collect();
    let sg = scalar_objective(nao, objective, prepared, rc, &dots, &angles)?;
    let mut grad: Vec<f64> = c.iter().map(|v| sg.coef_c * v).collect();
    for (x, w) in prepared.seeds.iter().zip(&sg.coef_x) {
        if *w != 0.0 {
            grad.iter_mut().zip(x.iter()).for_each(|(g, v)| *g += w * v);
        }
    }
    Ok((sg.value, grad))
}

/// The objective in the coordinates `w` of `c = Σⱼ wⱼ xⱼ`, using the Gram matrix `G = X Xᵀ`:
/// `‖c‖² = wᵀGw`, `c·xᵢ = (Gw)ᵢ`, and `∂F/∂wⱼ = xⱼ·∇F = coef_c (Gw)ⱼ + Σᵢ coef_x[i] Gᵢⱼ`.
/// Each evaluation is `O(k²)` plus `k` distance evaluations, independent of `d`.
fn coordinate_objective(
    nao: &Nao,
    objective: NaoObjective,
    prepared: &PreparedSeeds<'_>,
    gram: &[f64],
    w: &[f64],
) -> Result<(f64, Vec<f64>), CentroidError> {
    let k = w.len();
    let gw: Vec<f64> = (0..k)
        .map(|i| (0..k).map(|j| gram[i * k + j] * w[j]).sum())
        .collect();
    let rc = dot(w, &gw).max(0.0).sqrt();
    let mut angles = Vec::with_capacity(k);
    let mut explicit: Option<Vec<f64>> = None;
    for i in 0..k {
        let rx = prepared.norms[i];
        let cos = gw[i] / (rc * rx);
        if cos.abs() < 0.99 {
            angles.push(cos.clamp(-1.0, 1.0).acos());
        } else {
            // Near 0 or π the Gram route loses digits: form c once and measure directly.
            let c = explicit.get_or_insert_with(|| combine(prepared.seeds, w));
            angles.push(angle_with_norms(c, prepared.seeds[i], rc, rx));
        }
    }
    let sg = scalar_objective(nao, objective, prepared, rc, &gw, &angles)?;
    let grad = (0..k)
        .map(|j| sg.coef_c * gw[j] + (0..k).map(|i| sg.coef_x[i] * gram[i * k + j]).sum::<f64>())
        .collect();
    Ok((sg.value, grad))
}

/// `Σⱼ wⱼ xⱼ`.
fn combine(seeds: &[&[f64]], w: &[f64]) -> Vec<f64> {
    let mut c = vec![0.0; seeds[0].len()];
    for (x, &wj) in seeds.iter().zip(w) {
        c.iter_mut().zip(x.iter()).for_each(|(a, b)| *a += wj * b);
    }
    c
}

/// Below this many seeds the optimiser works in the k coordinates of `span{xᵢ}` (a Gram matrix
/// costs `k²d/2`); above it, directly in ℝᵈ (each step costs `kd`).
pub const COORDINATE_LIMIT: usize = 64;

/// Settings of the NAO centroid optimiser.
#[derive(Debug, Clone, Copy)]
pub struct NaoCentroidConfig {
    /// Iteration cap of L-BFGS.
    pub max_iters: usize,
    /// Stop when the objective improves by less than this, relatively, twice in a row.
    pub rel_tol: f64,
    /// L-BFGS memory.
    pub memory: usize,
}

impl Default for NaoCentroidConfig {
    fn default() -> Self {
        Self {
            max_iters: 200,
            rel_tol: 1e-12,
            memory: 8,
        }
    }
}

impl NaoCentroidConfig {
    /// Validate the settings.
    pub fn check(&self) -> Result<(), CentroidError> {
        if self.max_iters == 0 || self.memory == 0 {
            return Err(CentroidError::InvalidConfig(
                "max_iters and memory must be positive".into(),
            ));
        }
        if !(self.rel_tol >= 0.0 && self.rel_tol < 1.0) {
            return Err(CentroidError::InvalidConfig(format!(
                "rel_tol = {} must lie in [0, 1)",
                self.rel_tol
            )));
        }
        Ok(())
    }
}

/// Minimise a NAO centroid objective by L-BFGS with Armijo backtracking. Returns the centroid,
/// its objective value, and why and after how many iterations the optimiser stopped:
/// [`StopReason::Converged`] after two consecutive steps that improved the objective by at most
/// `rel_tol` relative, [`StopReason::NoProgress`] when the line search found no decrease at
/// double precision, [`StopReason::IterationCap`] after `max_iters`.
///
/// The start is the mean direction at the radius halfway between the seeds' mean norm and the
/// circular geodesic `r_gmin` (where the optimum lies); the first seed's direction when the seeds
/// cancel. With `k ≤` [`COORDINATE_LIMIT`] seeds (and `k < d`) the optimiser works in the
/// weights `w` of `c = Σ wⱼ xⱼ`, else directly in ℝᵈ.
pub fn minimise(
    nao: &Nao,
    objective: NaoObjective,
    prepared: &PreparedSeeds<'_>,
    config: &NaoCentroidConfig,
) -> Result<(Vec<f64>, f64, Termination), CentroidError> {
    config.check()?;
    let seeds = prepared.seeds;
    let k = seeds.len();
    let mean_norm = prepared.norms.iter().sum::<f64>() / k as f64;
    let radius = nao
        .circle_radius()
        .map_or(mean_norm, |rg| 0.5 * (rg + mean_norm));
    let sum_norm = norm(&combine(seeds, &vec![1.0; k]));
    let w0 = if sum_norm > 0.0 {
        vec![radius / sum_norm; k]
    } else {
        let mut w = vec![0.0; k];
        w[0] = radius / prepared.norms[0];
        w
    };
    if k <= COORDINATE_LIMIT && k < seeds[0].len() {
        let mut gram = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..=i {
                let v = dot(seeds[i], seeds[j]);
                gram[i * k + j] = v;
                gram[j * k + i] = v;
            }
        }
        let eval = |w: &[f64]| coordinate_objective(nao, objective, prepared, &gram, w);
        let (w, f, stop) = lbfgs(eval, w0, config)?;
        return Ok((combine(seeds, &w), f, stop));
    }
    let eval = |c: &[f64]| objective_and_gradient(nao, objective, prepared, c);
    lbfgs(eval, combine(seeds, &w0), config)
}

/// L-BFGS with Armijo backtracking.
fn lbfgs(
    eval: impl Fn(&[f64]) -> Result<(f64, Vec<f64>), CentroidError>,
    start: Vec<f64>,
    config: &NaoCentroidConfig,
) -> Result<(Vec<f64>, f64, Termination), CentroidError> {
    let mut x = start;
    let (mut fx, mut gx) = eval(&x)?;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut small_steps = 0;
    let mut iters = 0;
    let mut reason = StopReason::IterationCap;
    for it in 0..config.max_iters {
        iters = it + 1;
        // Two-loop recursion for the L-BFGS direction.
        let mut q = gx.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qv, yv)| *qv -= a * yv);
            alphas.push((a, rho));
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            // First step: move about 1% of the norm.
            _ => 0.01 * norm(&x) / norm(&gx).max(1e-300),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qv, sv)| *qv += (a - b) * sv);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&gx, &dir);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction (curvature information went stale): steepest descent.
            s_hist.clear();
            y_hist.clear();
            let scale = 0.01 * norm(&x) / norm(&gx).max(1e-300);
            dir = gx.iter().map(|v| -v * scale).collect();
            slope = dot(&gx, &dir);
        }
        // Armijo backtracking.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + step * b).collect();
            if let Ok((fn_, gn)) = eval(&xn) {
                if fn_ <= fx + 1e-4 * step * slope {
                    accepted = Some((xn, fn_, gn));
                    break;
                }
            }
            step *= 0.5;
        }
        let Some((xn, fn_, gn)) = accepted else {
            reason = StopReason::NoProgress; // no decrease possible at double precision
            break;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&gx).map(|(a, b)| a - b).collect();
        let improvement = fx - fn_;
        x = xn;
        gx = gn;
        let f_old = fx;
        fx = fn_;
        if dot(&s, &y) > 1e-12 * norm(&s) * norm(&y) {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > config.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        if improvement <= config.rel_tol * f_old.abs() {
            small_steps += 1;
            if small_steps >= 2 {
                reason = StopReason::Converged;
                break;
            }
        } else {
            small_steps = 0;
        }
    }
    let termination = Termination {
        reason,
        iterations: iters,
    };
    Ok((x, fx, termination))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nao_prior::{GaussianSeeds, RngName};

    #[test]
    fn coordinate_gradient_matches_finite_differences_and_the_full_gradient() {
        let d = 300;
        let mut rng = GaussianSeeds::new(RngName::ChaCha8, 9);
        let seeds: Vec<Vec<f64>> = (0..5).map(|_| rng.seed(d)).collect();
        let refs: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
        let nao = Nao::new(d).unwrap();
        let prep = PreparedSeeds::new(&nao, &refs);
        let k = refs.len();
        let mut gram = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                gram[i * k + j] = dot(refs[i], refs[j]);
            }
        }
        let w = vec![0.31, 0.12, 0.25, 0.4, 0.2];
        for obj in [NaoObjective::Official, NaoObjective::Frechet] {
            let (f, g) = coordinate_objective(&nao, obj, &prep, &gram, &w).unwrap();
            // same value as the ℝᵈ route at c = Σ wⱼ xⱼ, and ∂F/∂w = X ∇F
            let c = combine(&refs, &w);
            let (f_full, g_full) = objective_and_gradient(&nao, obj, &prep, &c).unwrap();
            assert!((f - f_full).abs() < 1e-9 * f.abs(), "{f} vs {f_full}");
            for j in 0..k {
                let proj = dot(refs[j], &g_full);
                assert!(
                    (g[j] - proj).abs() < 1e-7 * (1.0 + proj.abs()),
                    "{obj:?} {j}: {} vs {proj}",
                    g[j]
                );
                let h = 1e-6;
                let mut wp = w.clone();
                wp[j] += h;
                let mut wm = w.clone();
                wm[j] -= h;
                let fp = coordinate_objective(&nao, obj, &prep, &gram, &wp)
                    .unwrap()
                    .0;
                let fm = coordinate_objective(&nao, obj, &prep, &gram, &wm)
                    .unwrap()
                    .0;
                let fd = (fp - fm) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + g[j].abs()),
                    "{obj:?} {j}: FD {fd} vs {}",
                    g[j]
                );
            }
        }
    }
}
