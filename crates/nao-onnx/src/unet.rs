//! The UNet: latents, timesteps and text context → the model output.

use nao_backend::Tensor;

use crate::session::{Component, InputData, TypedPort};
use crate::vae::nchw;
use crate::{OnnxBackend, OnnxError};

/// The UNet and its three inputs.
#[derive(Debug)]
pub(crate) struct Unet {
    pub(crate) model: Component,
    pub(crate) sample: TypedPort,
    pub(crate) timestep: TypedPort,
    pub(crate) context: TypedPort,
    pub(crate) out: TypedPort,
}

impl OnnxBackend {
    pub(crate) fn load_unet(model: Component, latent_channels: usize) -> Result<Unet, OnnxError> {
        let sample = model.input(&["sample"], false)?;
        let timestep = model.input(&["timestep", "timesteps", "t"], false)?;
        let context = model.input(&["encoder_hidden_states"], false)?;
        let out = model.output(&["out_sample", "sample"], true)?;
        model.only_inputs(&[&sample, &timestep, &context])?;
        let model_err = |message: String| OnnxError::Model {
            path: model.path.clone(),
            message,
        };
        if sample.rank() != 4 || sample.dim(1).is_some_and(|c| c != latent_channels) {
            return Err(model_err(format!(
                "the UNet input '{}' should be [batch, {latent_channels}, height, width]",
                sample.port
            )));
        }
        if timestep.rank() > 1 {
            return Err(model_err(format!(
                "the UNet input '{}' should be a scalar or one timestep per batch item",
                timestep.port
            )));
        }
        if context.rank() != 3 {
            return Err(model_err(format!(
                "the UNet input '{}' should be [batch, tokens, hidden]",
                context.port
            )));
        }
        Ok(Unet {
            model,
            sample,
            timestep,
            context,
            out,
        })
    }

    /// The UNet on a batch, see [`Backend::predict_noise`].
    pub(crate) fn unet(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, OnnxError> {
        let u = &self.unet;
        let [b, c, h, w] = nchw(latents, "the latents")?;
        if c != self.info.latent_channels {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} have {c} channels, the model has {}",
                latents.shape, self.info.latent_channels
            )));
        }
        let s = self.unet_downsample;
        if h % s != 0 || w % s != 0 {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} must have a height and width that are multiples of {s} (the \
                 UNet downsamples {} times; images multiples of {})",
                latents.shape,
                s.trailing_zeros(),
                s * self.info.vae_downsample
            )));
        }
        if timesteps.len() != b {
            return Err(OnnxError::Shape(format!(
                "{} timesteps for a batch of {b} latents",
                timesteps.len()
            )));
        }
        let ctx_shape = match context.shape.as_slice() {
            &[cb, t, d] if cb == b && t > 0 && d > 0 && context.data.len() == cb * t * d => {
                [cb, t, d]
            }
            _ => {
                return Err(OnnxError::Shape(format!(
                    "the conditioning must be [{b}, tokens, hidden] for {b} latents, got {:?}",
                    context.shape
                )))
            }
        };
        // one item per call when the model's batch is fixed to 1 or its timestep is a scalar
        let fixed_one = |p: &TypedPort| p.dim(0) == Some(1);
        let per_item = b > 1
            && (fixed_one(&u.sample)
                || fixed_one(&u.context)
                || u.timestep.rank() == 0
                || fixed_one(&u.timestep));
        let run = |lat: &[f32], ts: &[i64], ctx: &[f32], n: usize| -> Result<Vec<f32>, OnnxError> {
            let s_shape = [n, c, h, w];
            let c_shape = [n, ctx_shape[1], ctx_shape[2]];
            let t_shape: &[usize] = if u.timestep.rank() == 0 { &[] } else { &[n] };
            u.model.check_shape(&u.sample, &s_shape, false)?;
            u.model.check_shape(&u.context, &c_shape, false)?;
            u.model.check_shape(&u.timestep, t_shape, false)?;
            let (shape, data) = u.model.run(
                &[
                    (&u.sample, &s_shape, InputData::Float(lat)),
                    (&u.timestep, t_shape, InputData::Int(ts)),
                    (&u.context, &c_shape, InputData::Float(ctx)),
                ],
                &u.out,
            )?;
            if shape != s_shape {
                return Err(OnnxError::Model {
                    path: u.model.path.clone(),
                    message: format!("the UNet returned {shape:?} for latents {s_shape:?}"),
                });
            }
            Ok(data)
        };
        let data = if per_item {
            let (lat_n, ctx_n) = (c * h * w, ctx_shape[1] * ctx_shape[2]);
            let mut out = Vec::with_capacity(latents.data.len());
            for i in 0..b {
                out.extend(run(
                    &latents.data[i * lat_n..(i + 1) * lat_n],
                    &timesteps[i..=i],
                    &context.data[i * ctx_n..(i + 1) * ctx_n],
                    1,
                )?);
            }
            out
        } else {
            run(&latents.data, timesteps, &context.data, b)?
        };
        Tensor::new(latents.shape.clone(), data).map_err(|e| OnnxError::Shape(e.to_string()))
    }
}
