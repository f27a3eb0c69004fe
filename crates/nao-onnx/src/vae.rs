//! The VAE halves: images → latents (posterior mean × scaling factor) and back.

use nao_backend::Tensor;

use crate::session::{Component, InputData, TypedPort};
use crate::{OnnxBackend, OnnxError};

/// A VAE half (encoder or decoder) with its one input and output.
#[derive(Debug)]
pub(crate) struct Vae {
    pub(crate) model: Component,
    pub(crate) input: TypedPort,
    pub(crate) output: TypedPort,
}

/// The rank-4 shape `[b, c, h, w]` of a tensor, or a shape error naming `what`.
pub(crate) fn nchw(t: &Tensor, what: &str) -> Result<[usize; 4], OnnxError> {
    match t.shape.as_slice() {
        &[b, c, h, w] if b > 0 && h > 0 && w > 0 && t.data.len() == b * c * h * w => {
            Ok([b, c, h, w])
        }
        _ => Err(OnnxError::Shape(format!(
            "{what} must be [batch, channels, height, width] with a positive batch and size, \
             got {:?} holding {} values",
            t.shape,
            t.data.len()
        ))),
    }
}

impl OnnxBackend {
    pub(crate) fn load_vae(
        model: Component,
        inputs: &[&str],
        outputs: &[&str],
        in_channels: usize,
    ) -> Result<Vae, OnnxError> {
        let input = model.input(inputs, true)?;
        let output = model.output(outputs, true)?;
        model.only_inputs(&[&input])?;
        if input.rank() != 4 || input.dim(1).is_some_and(|c| c != in_channels) {
            return Err(OnnxError::Model {
                path: model.path.clone(),
                message: format!(
                    "the {} input '{}' should be [batch, {in_channels}, height, width]",
                    model.label, input.port
                ),
            });
        }
        Ok(Vae {
            model,
            input,
            output,
        })
    }

    /// Run a VAE half on a batch (item by item when its batch is fixed to 1).
    pub(crate) fn run_vae(&self, vae: &Vae, x: &Tensor, what: &str) -> Result<Tensor, OnnxError> {
        let [b, c, h, w] = nchw(x, what)?;
        let per_item = b > 1 && vae.input.dim(0) == Some(1);
        let run = |data: &[f32], n: usize| {
            let shape = [n, c, h, w];
            vae.model.check_shape(&vae.input, &shape, false)?;
            let (out_shape, out) = vae
                .model
                .run(&[(&vae.input, &shape, InputData::Float(data))], &vae.output)?;
            if out_shape.len() != 4 || out_shape[0] != n {
                return Err(OnnxError::Model {
                    path: vae.model.path.clone(),
                    message: format!(
                        "the {} returned {out_shape:?} for {shape:?}",
                        vae.model.label
                    ),
                });
            }
            Tensor::new(out_shape, out).map_err(|e| OnnxError::Shape(e.to_string()))
        };
        if per_item {
            let n = c * h * w;
            let parts = (0..b)
                .map(|i| run(&x.data[i * n..(i + 1) * n], 1))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::concat(&parts).map_err(|e| OnnxError::Shape(e.to_string()))
        } else {
            run(&x.data, b)
        }
    }

    pub(crate) fn check_latents(&self, latents: &Tensor) -> Result<(), OnnxError> {
        let [_, c, _, _] = nchw(latents, "the latents")?;
        if c != self.info.latent_channels {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} have {c} channels, the model has {}",
                latents.shape, self.info.latent_channels
            )));
        }
        Ok(())
    }

    /// The VAE decoder's output for latents `[b, c, h, w]` (÷ scaling factor, + shift), in the
    /// decoder's own range (about `[−1, 1]`, not clamped).
    pub fn decode_latents_raw(&self, latents: &Tensor) -> Result<Tensor, OnnxError> {
        let vae = self
            .vae_decoder
            .as_ref()
            .ok_or(OnnxError::Unsupported("VAE decoder"))?;
        self.check_latents(latents)?;
        let scale = self.info.vae_scaling_factor;
        let shift = self.shift_factor;
        let unscaled = Tensor {
            shape: latents.shape.clone(),
            data: latents
                .data
                .iter()
                .map(|&z| (f64::from(z) / scale + shift) as f32)
                .collect(),
        };
        let out = self.run_vae(vae, &unscaled, "the latents")?;
        if out.shape[1] != self.info.image_channels {
            return Err(OnnxError::Model {
                path: vae.model.path.clone(),
                message: format!(
                    "the VAE decoder returned {:?}, expected {} image channels",
                    out.shape, self.info.image_channels
                ),
            });
        }
        Ok(out)
    }

    /// VAE-encode images, see [`Backend::encode_image`].
    pub(crate) fn encode(&self, images: &Tensor) -> Result<Tensor, OnnxError> {
        let vae = self
            .vae_encoder
            .as_ref()
            .ok_or(OnnxError::Unsupported("VAE encoder"))?;
        let [b, c, h, w] = nchw(images, "the images")?;
        let s = self.info.vae_downsample;
        if c != self.info.image_channels || h % s != 0 || w % s != 0 {
            return Err(OnnxError::Shape(format!(
                "the images {:?} must be [batch, {}, height, width] with sizes multiple of {s}",
                images.shape, self.info.image_channels
            )));
        }
        let out = self.run_vae(vae, images, "the images")?;
        let lc = self.info.latent_channels;
        let (oc, oh, ow) = (out.shape[1], out.shape[2], out.shape[3]);
        // mean ‖ logvar (latent_parameters) or the latent itself (latent_sample)
        if (oc != 2 * lc && oc != lc) || oh != h / s || ow != w / s {
            return Err(OnnxError::Model {
                path: vae.model.path.clone(),
                message: format!(
                    "the VAE encoder returned {:?} for images {:?}; expected [{b}, {} or {lc}, \
                     {}, {}]",
                    out.shape,
                    images.shape,
                    2 * lc,
                    h / s,
                    w / s
                ),
            });
        }
        let per = oc * oh * ow;
        let keep = lc * oh * ow;
        let (scale, shift) = (self.info.vae_scaling_factor, self.shift_factor);
        let data = out
            .data
            .chunks(per)
            .flat_map(|item| &item[..keep])
            .map(|&m| ((f64::from(m) - shift) * scale) as f32)
            .collect();
        Tensor::new(vec![b, lc, oh, ow], data).map_err(|e| OnnxError::Shape(e.to_string()))
    }
}
