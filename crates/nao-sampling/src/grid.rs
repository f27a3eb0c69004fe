//! The [`Scheduler`](crate::Scheduler) methods that only read a scheduler's step grid, written
//! once: every scheduler but DDIM keeps its grid in the fields `timesteps: Vec<f64>`,
//! `steps: Option<usize>` and (σ-based ones) `sigmas: Vec<f32>`, filled by `set_timesteps`.
//! Each impl states its input space explicitly — σ-space ([`sigma_space_input`]) or data
//! space ([`data_space_input`]) — so a new sampler cannot inherit the wrong one by default.

/// `timesteps` and `num_inference_steps` from the fields `timesteps` and `steps`.
macro_rules! grid_accessors {
    () => {
        fn timesteps(&self) -> &[f64] {
            &self.timesteps
        }

        fn num_inference_steps(&self) -> Option<usize> {
            self.steps
        }
    };
}

/// [`grid_accessors`] and `sigmas` from the field `sigmas`.
macro_rules! sigma_grid_accessors {
    () => {
        grid_accessors!();

        fn sigmas(&self) -> &[f32] {
            &self.sigmas
        }
    };
}

/// The input of σ-space samplers (Euler, Heun, LMS): seeds scaled up to the largest σ, the
/// model's input divided by √(σ² + 1) (diffusers' `scale_model_input`).
macro_rules! sigma_space_input {
    () => {
        fn init_noise_sigma(&self) -> f32 {
            $crate::euler::init_noise_sigma(&self.config, &self.sigmas)
        }

        fn scale_model_input(
            &self,
            sample: &nao_backend::Tensor,
            index: usize,
        ) -> Result<nao_backend::Tensor, $crate::SamplingError> {
            let sigma = *self
                .sigmas
                .get(index)
                .ok_or($crate::SamplingError::TimestepsNotSet)?;
            Ok($crate::scheduler::divide(
                sample,
                $crate::sigmas::sqrt_sigma2_plus_1(sigma),
            ))
        }
    };
}

/// The input of data-space samplers (DPM-Solver, DEIS, UniPC, PNDM): unit-Gaussian seeds and
/// the latents themselves as the model's input.
macro_rules! data_space_input {
    () => {
        fn init_noise_sigma(&self) -> f32 {
            1.0
        }

        fn scale_model_input(
            &self,
            sample: &nao_backend::Tensor,
            _index: usize,
        ) -> Result<nao_backend::Tensor, $crate::SamplingError> {
            Ok(sample.clone())
        }
    };
}
