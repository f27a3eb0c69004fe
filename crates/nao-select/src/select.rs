//! SeedSelect: refine seeds so that their images match a class's real images.
//!
//! The loss of a seed `z` (the official code's, every value configurable in
//! [`SelectConfig`]): with the latents `z_i` after each step `i` of a `K`-step DDIM sampler,
//!
//! `L(z) = 10 · Σ_{last three i} w_i · (1 − cos(E(decode(z_i)), ē)) + MSE(z_K, m̄)`,
//!
//! `w = (0.05, 0.25, 0.70)`, `E` the image encoder, `ē` the L2-normalised mean embedding of the
//! real images and `m̄` the mean of their latents (the model's own encoding). AdamW (weight
//! decay 0.01) updates the seed; the learning rate drops tenfold from iteration 3 (counted
//! from 0) on, as the official code does. The seed returned is the one after the last update.

use std::ops::ControlFlow;

use burn::prelude::*;
use nao_prior::ChiPrior;
use serde::Serialize;

use crate::net::{DiffusionNet, ImageEncoder};
use crate::sampler::{step, Schedule};
use crate::{DecodeTarget, Result, SelectConfig, SelectError};

/// What the real images of the class say: the targets of the loss.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// ē: the L2-normalised mean embedding of the real images.
    pub embedding: Vec<f32>,
    /// m̄: the mean of the real images' latents, `[c, h, w]` flattened.
    pub latent: Vec<f32>,
}

impl Target {
    /// The targets of real `images` (`nao_backend::Tensor` `[n, channels, H, W]` in `[−1, 1]`,
    /// as `nao_inversion::load_image` gives them).
    pub fn from_images(
        net: &dyn DiffusionNet,
        encoder: &dyn ImageEncoder,
        images: &nao_backend::Tensor,
    ) -> Result<Self> {
        let [n, c, h, w] = images.shape[..] else {
            return Err(SelectError::Input(format!(
                "real images of shape {:?}: expected [n, channels, height, width]",
                images.shape
            )));
        };
        if n == 0 {
            return Err(SelectError::Input(
                "no real images: SeedSelect matches seeds to a class's real images".into(),
            ));
        }
        if let Some(i) = images.data.iter().position(|v| !v.is_finite()) {
            return Err(SelectError::Input(format!(
                "real image {} has a non-finite pixel value",
                i / (c * h * w).max(1)
            )));
        }
        encoder.accepts(c, h, w)?;
        let device = net.device();
        let x = Tensor::<4>::from_data(TensorData::new(images.data.clone(), [n, c, h, w]), device);
        let latents = net.encode(x.clone())?;
        let latent = to_vec(latents.mean_dim(0))?;
        let embeds = encoder.embed(x)?;
        let mean = to_vec(embeds.mean_dim(0))?;
        let norm = mean
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(SelectError::Input(
                "the real images' mean embedding is zero or not finite: nothing to match".into(),
            ));
        }
        Ok(Self {
            embedding: mean.iter().map(|&v| (f64::from(v) / norm) as f32).collect(),
            latent,
        })
    }
}

/// What SeedSelect reports as it runs; the callback's answer stops it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An iteration of a batch is done: its mean loss before the update.
    Iteration {
        /// The batch (from 0).
        batch: usize,
        /// The iteration (from 0).
        iteration: usize,
        /// The batch's mean loss before the iteration's update.
        loss: f64,
    },
    /// A batch of seeds is refined.
    Batch {
        /// Seeds refined so far.
        done: usize,
        /// Seeds in all.
        total: usize,
    },
}

/// One refined seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refined {
    /// The seed after the last update (what is then sampled).
    #[serde(skip)]
    pub seed: Vec<f32>,
    /// The loss before each update, then the loss of the returned seed.
    pub losses: Vec<f64>,
    /// ‖z‖ before and after.
    pub norm_before: f64,
    /// ‖z‖ after refinement.
    pub norm_after: f64,
    /// log χ_d of the norm before.
    pub log_chi_before: f64,
    /// log χ_d of the norm after.
    pub log_chi_after: f64,
}

/// Refine `seeds` (each a latent, flattened) toward `target`.
///
/// Every seed's gradient depends on its own loss only, so a seed refines the same way in any
/// batch (up to the last bit of the batched arithmetic).
pub fn refine(
    net: &dyn DiffusionNet,
    encoder: &dyn ImageEncoder,
    target: &Target,
    seeds: &[Vec<f32>],
    config: &SelectConfig,
    progress: &mut dyn FnMut(Event) -> ControlFlow<()>,
) -> Result<Vec<Refined>> {
    config.check()?;
    let [c, h, w] = net.latent_shape();
    let d = c * h * w;
    if target.latent.len() != d {
        return Err(SelectError::Input(format!(
            "the target latent has {} values; the model's latents have {d}",
            target.latent.len()
        )));
    }
    for (i, s) in seeds.iter().enumerate() {
        if s.len() != d {
            return Err(SelectError::Input(format!(
                "seed {i} has {} values; the model's latents are [{c}, {h}, {w}] ({d})",
                s.len()
            )));
        }
        if let Some(k) = s.iter().position(|v| !v.is_finite()) {
            return Err(SelectError::Input(format!(
                "seed {i} has a non-finite value at flat index {k}"
            )));
        }
    }
    let schedule = Schedule::new(net.scheduler(), config.steps)?;
    let chi = ChiPrior::new(d).map_err(|e| SelectError::compute("the χ prior", e))?;
    let stats = |z: &[f32]| {
        let n = nao_prior::norm(z);
        (n, chi.log_pdf(n))
    };
    let problem = Problem {
        net,
        encoder,
        target,
        schedule: &schedule,
        config,
    };
    let mut out = Vec::with_capacity(seeds.len());
    for (b, batch) in seeds.chunks(config.batch).enumerate() {
        let mut z: Vec<Vec<f64>> = batch
            .iter()
            .map(|s| s.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let mut adam = AdamW::new(batch.len(), d);
        let mut losses: Vec<Vec<f64>> = vec![Vec::new(); batch.len()];
        for it in 0..config.iterations {
            let (loss, grad) = problem.loss_and_grad(&as_f32(&z))?;
            for (l, v) in losses.iter_mut().zip(&loss) {
                l.push(*v);
            }
            adam.step(&mut z, &grad, config.lr_at(it), config.weight_decay);
            let mean = loss.iter().sum::<f64>() / loss.len() as f64;
            if progress(Event::Iteration {
                batch: b,
                iteration: it,
                loss: mean,
            })
            .is_break()
            {
                return Err(SelectError::Cancelled);
            }
        }
        let last = problem.loss(&as_f32(&z))?;
        for ((s, l), (after, mut losses)) in batch.iter().zip(last).zip(z.into_iter().zip(losses)) {
            losses.push(l);
            let after: Vec<f32> = after.iter().map(|&v| v as f32).collect();
            let (nb, cb) = stats(s);
            let (na, ca) = stats(&after);
            out.push(Refined {
                seed: after,
                losses,
                norm_before: nb,
                norm_after: na,
                log_chi_before: cb,
                log_chi_after: ca,
            });
        }
        if progress(Event::Batch {
            done: out.len(),
            total: seeds.len(),
        })
        .is_break()
        {
            return Err(SelectError::Cancelled);
        }
    }
    Ok(out)
}

fn as_f32(z: &[Vec<f64>]) -> Vec<Vec<f32>> {
    z.iter()
        .map(|s| s.iter().map(|&v| v as f32).collect())
        .collect()
}

/// The loss of a batch of seeds and its gradient.
pub struct Problem<'a> {
    /// The model.
    pub net: &'a dyn DiffusionNet,
    /// The image encoder.
    pub encoder: &'a dyn ImageEncoder,
    /// The targets.
    pub target: &'a Target,
    /// The sampler's steps.
    pub schedule: &'a Schedule,
    /// The loss's weights and the sampler's guidance.
    pub config: &'a SelectConfig,
}

impl Problem<'_> {
    fn tensor(&self, seeds: &[Vec<f32>]) -> Tensor<4> {
        let [c, h, w] = self.net.latent_shape();
        let data: Vec<f32> = seeds.iter().flatten().copied().collect();
        Tensor::from_data(
            TensorData::new(data, [seeds.len(), c, h, w]),
            self.net.device(),
        )
    }

    /// The weight of the semantic term at step `i` (from 0), if it has one.
    fn semantic_weight(&self, i: usize) -> Option<f64> {
        let k = self.schedule.steps.len();
        let ws = &self.config.semantic_weights;
        let first = k - ws.len();
        (i >= first).then(|| ws[i - first])
    }

    /// The loss terms taken at step `i` (from 0), per seed `[b]`, from the step's output.
    fn local_loss(&self, i: usize, out: &crate::sampler::StepOut) -> Result<Option<Tensor<1>>> {
        let k = self.schedule.steps.len();
        let mut total: Option<Tensor<1>> = None;
        if let Some(wt) = self.semantic_weight(i) {
            let z = match self.config.decode {
                DecodeTarget::Current => out.latents.clone(),
                DecodeTarget::PredictedX0 => out.x0.clone(),
            };
            let images = self.net.decode(z)?.clamp(-1.0, 1.0);
            let f = self.encoder.embed(images)?;
            let [b, dim] = f.dims();
            let e = Tensor::<2>::from_data(
                TensorData::new(self.target.embedding.clone(), [1, dim]),
                &f.device(),
            );
            let dot = (f.clone() * e).sum_dim(1).reshape([b]);
            let norm = (f.clone() * f)
                .sum_dim(1)
                .reshape([b])
                .sqrt()
                .clamp_min(1e-12);
            let term = (dot / norm)
                .neg()
                .add_scalar(1.0)
                .mul_scalar((self.config.semantic_scale * wt) as f32);
            total = Some(term);
        }
        if i + 1 == k {
            let [b, c, h, w] = out.latents.dims();
            let m = Tensor::<4>::from_data(
                TensorData::new(self.target.latent.clone(), [1, c, h, w]),
                &out.latents.device(),
            );
            let diff = out.latents.clone() - m;
            let mse = (diff.clone() * diff)
                .reshape([b, c * h * w])
                .mean_dim(1)
                .reshape([b])
                .mul_scalar(self.config.appearance_scale as f32);
            total = Some(match total {
                Some(t) => t + mse,
                None => mse,
            });
        }
        Ok(total)
    }

    /// The loss of each seed.
    pub fn loss(&self, seeds: &[Vec<f32>]) -> Result<Vec<f64>> {
        let mut x = self.tensor(seeds);
        let mut total: Option<Tensor<1>> = None;
        for (i, s) in self.schedule.steps.iter().enumerate() {
            let out = step(self.net, self.schedule, s, x, self.config.guidance)?;
            if let Some(l) = self.local_loss(i, &out)? {
                total = Some(match total {
                    Some(t) => t + l,
                    None => l,
                });
            }
            x = out.latents;
        }
        let total = total.ok_or_else(|| SelectError::compute("the loss", "no loss terms"))?;
        Ok(to_vec(total)?.into_iter().map(f64::from).collect())
    }

    /// The loss of each seed and its gradient with respect to the seed.
    pub fn loss_and_grad(&self, seeds: &[Vec<f32>]) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
        let (loss, grad) = if self.config.checkpointing {
            self.checkpointed(seeds)?
        } else {
            self.whole_graph(seeds)?
        };
        let d = grad.len() / seeds.len().max(1);
        let grads = grad
            .chunks(d.max(1))
            .map(|g| g.iter().map(|&v| f64::from(v)).collect())
            .collect();
        Ok((loss, grads))
    }

    /// One graph through every step: memory grows with the steps.
    fn whole_graph(&self, seeds: &[Vec<f32>]) -> Result<(Vec<f64>, Vec<f32>)> {
        let z = self.tensor(seeds).require_grad();
        let mut x = z.clone();
        let mut total: Option<Tensor<1>> = None;
        for (i, s) in self.schedule.steps.iter().enumerate() {
            let out = step(self.net, self.schedule, s, x, self.config.guidance)?;
            if let Some(l) = self.local_loss(i, &out)? {
                total = Some(match total {
                    Some(t) => t + l,
                    None => l,
                });
            }
            x = out.latents;
        }
        let total = total.ok_or_else(|| SelectError::compute("the loss", "no loss terms"))?;
        let loss = to_vec(total.clone().detach())?;
        let grads = total.sum().backward();
        let g = z
            .grad(&grads)
            .ok_or_else(|| SelectError::compute("the gradient", "the seed has none"))?;
        Ok((loss.into_iter().map(f64::from).collect(), to_vec(g)?))
    }

    /// The steps run forward without a graph, then backward one network call at a time (see
    /// the module `sampler`). The loss terms are computed once, in the backward pass, where
    /// each step is run again anyway: the forward pass only stores each step's input.
    fn checkpointed(&self, seeds: &[Vec<f32>]) -> Result<(Vec<f64>, Vec<f32>)> {
        let steps = &self.schedule.steps;
        let mut inputs: Vec<Tensor<4>> = Vec::with_capacity(steps.len());
        let mut x = self.tensor(seeds);
        for s in steps {
            inputs.push(x.clone());
            x = step(self.net, self.schedule, s, x, self.config.guidance)?.latents;
        }
        // each step's loss terms as the backward pass meets them (summed in the steps' order
        // at the end, as the forward pass sums them)
        let mut terms: Vec<(usize, Tensor<1>)> = Vec::new();
        // u: the gradient reaching the current step's output from the later steps
        let mut u: Option<Tensor<4>> = None;
        for (i, s) in steps.iter().enumerate().rev() {
            let input = inputs[i].clone().detach().require_grad();
            let out = step(
                self.net,
                self.schedule,
                s,
                input.clone(),
                self.config.guidance,
            )?;
            let mut objective: Option<Tensor<1>> = match &u {
                Some(u) => Some((out.latents.clone() * u.clone()).sum()),
                None => None,
            };
            if let Some(l) = self.local_loss(i, &out)? {
                terms.push((i, l.clone().detach()));
                let l = l.sum();
                objective = Some(match objective {
                    Some(o) => o + l,
                    None => l,
                });
            }
            let Some(objective) = objective else {
                // no loss term at or after this step (weights of 0 everywhere)
                continue;
            };
            let grads = objective.backward();
            let g = input
                .grad(&grads)
                .ok_or_else(|| SelectError::compute("the gradient", "a step input has none"))?;
            let g = Tensor::<4>::from_data(g.into_data(), self.net.device());
            u = Some(g);
        }
        terms.sort_by_key(|(i, _)| *i);
        let total = terms
            .into_iter()
            .map(|(_, t)| t)
            .reduce(|a, b| a + b)
            .ok_or_else(|| SelectError::compute("the loss", "no loss terms"))?;
        let loss: Vec<f64> = to_vec(total)?.into_iter().map(f64::from).collect();
        let u = u.ok_or_else(|| SelectError::compute("the gradient", "no loss terms"))?;
        Ok((loss, to_vec(u)?))
    }
}

/// AdamW on the host in f64, as `torch.optim.AdamW` steps (β = (0.9, 0.999), ε = 1e-8; the
/// weight decay multiplies the parameters by `1 − lr·wd` before the Adam update).
struct AdamW {
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    t: i32,
}

impl AdamW {
    fn new(n: usize, d: usize) -> Self {
        Self {
            m: vec![vec![0.0; d]; n],
            v: vec![vec![0.0; d]; n],
            t: 0,
        }
    }

    fn step(&mut self, z: &mut [Vec<f64>], grad: &[Vec<f64>], lr: f64, wd: f64) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for ((zs, gs), (ms, vs)) in z
            .iter_mut()
            .zip(grad)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            for (((p, &g), m), v) in zs.iter_mut().zip(gs).zip(ms.iter_mut()).zip(vs.iter_mut()) {
                *p *= 1.0 - lr * wd;
                *m = B1 * *m + (1.0 - B1) * g;
                *v = B2 * *v + (1.0 - B2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
            }
        }
    }
}

pub(crate) fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| SelectError::compute("reading a tensor back", format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adamw_steps_as_torch_does() {
        // torch.optim.AdamW([p], lr=0.1, weight_decay=0.01); p = 1.0, grad 0.5, two steps:
        // p1 = 1·(1 − 0.001) − 0.1·1 = 0.899; p2 = 0.899·0.999 − 0.1·1 = 0.798101
        let mut a = AdamW::new(1, 1);
        let mut z = vec![vec![1.0]];
        a.step(&mut z, &[vec![0.5]], 0.1, 0.01);
        assert!((z[0][0] - 0.899).abs() < 1e-7, "{}", z[0][0]);
        a.step(&mut z, &[vec![0.5]], 0.1, 0.01);
        assert!((z[0][0] - 0.798101).abs() < 1e-7, "{}", z[0][0]);
    }
}
