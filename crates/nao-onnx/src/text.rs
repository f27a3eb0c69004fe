//! The text encoder: prompts → CLIP token ids → `last_hidden_state`.

use nao_backend::Tensor;
use nao_clip::ClipTokenizer;

use crate::session::{Component, InputData, TypedPort};
use crate::{OnnxBackend, OnnxError};

/// The text encoder with its tokenizer.
#[derive(Debug)]
pub(crate) struct TextEncoder {
    pub(crate) tokenizer: ClipTokenizer,
    pub(crate) model: Component,
    pub(crate) input_ids: TypedPort,
    pub(crate) hidden: TypedPort,
}

impl OnnxBackend {
    pub(crate) fn load_text(
        model: Component,
        tokenizer: ClipTokenizer,
    ) -> Result<TextEncoder, OnnxError> {
        let input_ids = model.input(&["input_ids"], true)?;
        let hidden = model.output(&["last_hidden_state"], false)?;
        model.only_inputs(&[&input_ids])?;
        if input_ids.rank() != 2
            || input_ids
                .dim(1)
                .is_some_and(|n| n != tokenizer.max_length())
        {
            return Err(OnnxError::Model {
                path: model.path.clone(),
                message: format!(
                    "the text encoder input '{}' should be [batch, {}] token ids",
                    input_ids.port,
                    tokenizer.max_length()
                ),
            });
        }
        Ok(TextEncoder {
            tokenizer,
            model,
            input_ids,
            hidden,
        })
    }

    /// Text embeddings `[n, tokens, hidden]` of several prompts (the text encoder's
    /// `last_hidden_state`), in one batch when the model allows.
    pub fn encode_prompts(&self, prompts: &[&str]) -> Result<Tensor, OnnxError> {
        let text = self
            .text
            .as_ref()
            .ok_or(OnnxError::Unsupported("text encoder"))?;
        if prompts.is_empty() {
            return Err(OnnxError::Shape("no prompts to encode".into()));
        }
        let tokens = text.tokenizer.max_length();
        let ids: Vec<Vec<i64>> = prompts
            .iter()
            .map(|p| {
                text.tokenizer
                    .encode(p)
                    .ids
                    .iter()
                    .map(|&i| i64::from(i))
                    .collect()
            })
            .collect();
        let run = |chunk: &[Vec<i64>]| -> Result<Tensor, OnnxError> {
            let flat: Vec<i64> = chunk.concat();
            let shape = [chunk.len(), tokens];
            text.model.check_shape(&text.input_ids, &shape, false)?;
            let (out_shape, data) = text.model.run(
                &[(&text.input_ids, &shape, InputData::Int(&flat))],
                &text.hidden,
            )?;
            if out_shape.len() != 3 || out_shape[0] != chunk.len() || out_shape[1] != tokens {
                return Err(OnnxError::Model {
                    path: text.model.path.clone(),
                    message: format!(
                        "the text encoder returned {out_shape:?}, expected [{}, {tokens}, hidden]",
                        chunk.len()
                    ),
                });
            }
            Tensor::new(out_shape, data).map_err(|e| OnnxError::Shape(e.to_string()))
        };
        match text.input_ids.dim(0) {
            Some(fixed) if fixed != prompts.len() => {
                let parts = ids
                    .chunks(fixed)
                    .map(|c| {
                        if c.len() == fixed {
                            run(c)
                        } else {
                            Err(OnnxError::Shape(format!(
                                "{} prompts cannot be split into the text encoder's fixed \
                                 batch of {fixed}",
                                prompts.len()
                            )))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::concat(&parts).map_err(|e| OnnxError::Shape(e.to_string()))
            }
            _ => run(&ids),
        }
    }
}
