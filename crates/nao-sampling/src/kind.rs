//! Which scheduler: [`SchedulerKind`] (a diffusers scheduler class), [`SchedulerChoice`] (a
//! class and the options a name such as `dpm++2m-karras` sets), and how a model's
//! `scheduler_config.json` becomes the config of another class, as diffusers'
//! `OtherScheduler.from_config(pipe.scheduler.config)` makes it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use nao_backend::{ConfigValue, SchedulerConfig, TimestepSpacing};

use crate::SamplingError;

/// A scheduler class of diffusers that nao implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchedulerKind {
    /// `DDIMScheduler` ([`DdimScheduler`](crate::DdimScheduler)).
    Ddim,
    /// `PNDMScheduler` ([`PndmScheduler`](crate::PndmScheduler)).
    Pndm,
    /// `EulerDiscreteScheduler` ([`EulerDiscreteScheduler`](crate::EulerDiscreteScheduler)).
    Euler,
    /// `EulerAncestralDiscreteScheduler`
    /// ([`EulerAncestralDiscreteScheduler`](crate::EulerAncestralDiscreteScheduler)).
    EulerAncestral,
    /// `HeunDiscreteScheduler` ([`HeunDiscreteScheduler`](crate::HeunDiscreteScheduler)).
    Heun,
    /// `DPMSolverMultistepScheduler`
    /// ([`DpmSolverMultistepScheduler`](crate::DpmSolverMultistepScheduler)).
    DpmSolverMultistep,
    /// `DEISMultistepScheduler` ([`DeisMultistepScheduler`](crate::DeisMultistepScheduler)).
    Deis,
    /// `UniPCMultistepScheduler` ([`UniPcMultistepScheduler`](crate::UniPcMultistepScheduler)).
    UniPc,
    /// `LMSDiscreteScheduler` ([`LmsDiscreteScheduler`](crate::LmsDiscreteScheduler)).
    Lms,
}

impl SchedulerKind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [SchedulerKind; 9] = [
        Self::Ddim,
        Self::Pndm,
        Self::Euler,
        Self::EulerAncestral,
        Self::Heun,
        Self::DpmSolverMultistep,
        Self::Deis,
        Self::UniPc,
        Self::Lms,
    ];

    /// diffusers' class name (`DDIMScheduler`, `EulerDiscreteScheduler`, …).
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Ddim => "DDIMScheduler",
            Self::Pndm => "PNDMScheduler",
            Self::Euler => "EulerDiscreteScheduler",
            Self::EulerAncestral => "EulerAncestralDiscreteScheduler",
            Self::Heun => "HeunDiscreteScheduler",
            Self::DpmSolverMultistep => "DPMSolverMultistepScheduler",
            Self::Deis => "DEISMultistepScheduler",
            Self::UniPc => "UniPCMultistepScheduler",
            Self::Lms => "LMSDiscreteScheduler",
        }
    }

    /// The short name on the command line (`ddim`, `euler`, `dpm++2m`, …).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Ddim => "ddim",
            Self::Pndm => "pndm",
            Self::Euler => "euler",
            Self::EulerAncestral => "euler-ancestral",
            Self::Heun => "heun",
            Self::DpmSolverMultistep => "dpm++2m",
            Self::Deis => "deis",
            Self::UniPc => "unipc",
            Self::Lms => "lms",
        }
    }

    /// The kind of a diffusers class name (`_class_name` of `scheduler_config.json`); an
    /// [`SamplingError::UnknownScheduler`] naming it otherwise.
    ///
    /// ```
    /// use nao_sampling::SchedulerKind;
    /// assert_eq!(SchedulerKind::from_class_name("PNDMScheduler").unwrap(), SchedulerKind::Pndm);
    /// let e = SchedulerKind::from_class_name("KDPM2DiscreteScheduler").unwrap_err();
    /// assert!(e.to_string().contains("KDPM2DiscreteScheduler"), "{e}");
    /// ```
    pub fn from_class_name(name: &str) -> Result<Self, SamplingError> {
        Self::ALL
            .into_iter()
            .find(|k| k.class_name() == name)
            .ok_or_else(|| SamplingError::UnknownScheduler(name.to_string()))
    }

    /// The kind of a name: a class name or a short name (`euler`, `dpm++2m`; case and `_`/`-`
    /// do not matter). Names that also set options (`dpm++2m-karras`, `plms`) are
    /// [`SchedulerChoice`]s; this gives their kind.
    ///
    /// ```
    /// use nao_sampling::SchedulerKind;
    /// assert_eq!(SchedulerKind::from_name("euler_a").unwrap(), SchedulerKind::EulerAncestral);
    /// assert_eq!(SchedulerKind::from_name("dpm++2m-karras").unwrap(), SchedulerKind::DpmSolverMultistep);
    /// assert!(SchedulerKind::from_name("ddpm").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Self, SamplingError> {
        Ok(SchedulerChoice::from_name(name)?.kind)
    }

    /// Whether the class steps in σ space and scales the initial noise by
    /// `init_noise_sigma` > 1 (Euler, Euler ancestral, Heun, LMS).
    pub fn is_sigma_space(self) -> bool {
        matches!(
            self,
            Self::Euler | Self::EulerAncestral | Self::Heun | Self::Lms
        )
    }

    /// Whether the class has a `use_karras_sigmas` option.
    pub fn has_karras(self) -> bool {
        matches!(
            self,
            Self::Euler
                | Self::Heun
                | Self::DpmSolverMultistep
                | Self::Deis
                | Self::UniPc
                | Self::Lms
        )
    }

    /// The default `timestep_spacing` of the class (diffusers' `__init__` default).
    fn default_spacing(self) -> TimestepSpacing {
        match self {
            Self::Ddim | Self::Pndm => TimestepSpacing::Leading,
            _ => TimestepSpacing::Linspace,
        }
    }

    /// Whether the class's `__init__` takes the typed key `key` (the keys every class takes:
    /// the β schedule, `steps_offset`, `timestep_spacing`, `prediction_type`).
    fn registers(self, key: &str) -> bool {
        match key {
            "set_alpha_to_one" => matches!(self, Self::Ddim | Self::Pndm),
            "clip_sample" | "clip_sample_range" => matches!(self, Self::Ddim | Self::Heun),
            "rescale_betas_zero_snr" => matches!(
                self,
                Self::Ddim
                    | Self::Euler
                    | Self::EulerAncestral
                    | Self::DpmSolverMultistep
                    | Self::UniPc
            ),
            _ => true,
        }
    }
}

impl fmt::Display for SchedulerKind {
    /// The class name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class_name())
    }
}

/// The names `--scheduler` takes, with what each means (for help texts and errors).
pub const SCHEDULER_NAMES: [(&str, &str); 12] = [
    ("ddim", "DDIMScheduler"),
    (
        "pndm",
        "PNDMScheduler (PRK warm-up unless the config sets skip_prk_steps)",
    ),
    (
        "plms",
        "PNDMScheduler with skip_prk_steps (as Stable Diffusion 1.x ships it)",
    ),
    ("euler", "EulerDiscreteScheduler"),
    (
        "euler-ancestral",
        "EulerAncestralDiscreteScheduler (seeded noise)",
    ),
    ("heun", "HeunDiscreteScheduler (two model calls per step)"),
    ("dpm++2m", "DPMSolverMultistepScheduler"),
    (
        "dpm++2m-karras",
        "DPMSolverMultistepScheduler with Karras sigmas",
    ),
    ("deis", "DEISMultistepScheduler"),
    ("unipc", "UniPCMultistepScheduler"),
    ("lms", "LMSDiscreteScheduler"),
    (
        "<name>-karras",
        "Karras sigmas on euler, heun, deis, unipc or lms",
    ),
];

/// The names and class names nao knows, for error messages.
pub(crate) fn known_names() -> String {
    let names: Vec<&str> = SCHEDULER_NAMES.iter().map(|(n, _)| *n).collect();
    let classes: Vec<&str> = SchedulerKind::ALL.iter().map(|k| k.class_name()).collect();
    format!(
        "{}, or diffusers' class names {}",
        names.join(", "),
        classes.join(", ")
    )
}

/// A scheduler class and the options its name sets on top of the model's config: what
/// `--scheduler NAME` chooses.
///
/// Names are the short names (`ddim`, `pndm`, `euler`, `euler-ancestral` or `euler_a`,
/// `heun`, `dpm++2m`, `deis`, `unipc`, `lms`), diffusers' class names, `plms` (PNDM with
/// `skip_prk_steps`), and any name of a class with Karras σ followed by `-karras`
/// (`use_karras_sigmas = true`). Case does not matter, nor `_` against `-`.
///
/// ```
/// use nao_sampling::{SchedulerChoice, SchedulerKind};
/// let c: SchedulerChoice = "dpm++2m-karras".parse().unwrap();
/// assert_eq!((c.kind, c.karras), (SchedulerKind::DpmSolverMultistep, Some(true)));
/// assert_eq!(c.to_string(), "dpm++2m-karras");
/// assert_eq!("EulerDiscreteScheduler".parse::<SchedulerChoice>().unwrap().to_string(), "euler");
/// let e = "ddpm".parse::<SchedulerChoice>().unwrap_err().to_string();
/// assert!(e.contains("ddpm") && e.contains("euler"), "{e}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchedulerChoice {
    /// The class.
    pub kind: SchedulerKind,
    /// `use_karras_sigmas` set by the name (`-karras`); `None` keeps the config's.
    pub karras: Option<bool>,
    /// `skip_prk_steps` set by the name (`plms`); `None` keeps the config's.
    pub skip_prk_steps: Option<bool>,
}

impl SchedulerChoice {
    /// A class with the model config's options.
    pub fn new(kind: SchedulerKind) -> Self {
        Self {
            kind,
            karras: None,
            skip_prk_steps: None,
        }
    }

    /// Parse a name (see the type's documentation); [`SamplingError::UnknownScheduler`]
    /// naming it otherwise.
    pub fn from_name(name: &str) -> Result<Self, SamplingError> {
        let unknown = || SamplingError::UnknownScheduler(name.to_string());
        if let Ok(kind) = SchedulerKind::from_class_name(name) {
            return Ok(Self::new(kind));
        }
        let norm = name.trim().to_ascii_lowercase().replace('_', "-");
        let (base, karras) = match norm.strip_suffix("-karras") {
            Some(b) => (b, true),
            None => (norm.as_str(), false),
        };
        let mut choice = match base {
            "ddim" => Self::new(SchedulerKind::Ddim),
            "pndm" => Self::new(SchedulerKind::Pndm),
            "plms" => Self {
                skip_prk_steps: Some(true),
                ..Self::new(SchedulerKind::Pndm)
            },
            "euler" => Self::new(SchedulerKind::Euler),
            "euler-ancestral" | "euler-a" => Self::new(SchedulerKind::EulerAncestral),
            "heun" => Self::new(SchedulerKind::Heun),
            "dpm++2m" | "dpmpp2m" | "dpm-solver++" | "dpmsolver++" | "dpm++" => {
                Self::new(SchedulerKind::DpmSolverMultistep)
            }
            "deis" => Self::new(SchedulerKind::Deis),
            "unipc" => Self::new(SchedulerKind::UniPc),
            "lms" => Self::new(SchedulerKind::Lms),
            _ => {
                return Err(
                    match SchedulerKind::ALL
                        .into_iter()
                        .find(|k| k.class_name().eq_ignore_ascii_case(base))
                    {
                        Some(kind) if !karras => return Ok(Self::new(kind)),
                        _ => unknown(),
                    },
                )
            }
        };
        if karras {
            if !choice.kind.has_karras() {
                return Err(SamplingError::Unsupported {
                    scheduler: choice.kind.class_name(),
                    what: "Karras sigmas (use_karras_sigmas)".into(),
                });
            }
            choice.karras = Some(true);
        }
        Ok(choice)
    }

    /// The canonical name (`dpm++2m-karras`, `plms`, `euler`, …), which
    /// [`SchedulerChoice::from_name`] reads back.
    pub fn name(&self) -> String {
        let base = match (self.kind, self.skip_prk_steps) {
            (SchedulerKind::Pndm, Some(true)) => "plms",
            (kind, _) => kind.short_name(),
        };
        match self.karras {
            Some(true) => format!("{base}-karras"),
            _ => base.to_string(),
        }
    }

    /// The choice a model config makes by itself: its `_class_name` (DDIM when it names
    /// none), with its own options; an error naming an unknown class.
    pub fn of_config(config: &SchedulerConfig) -> Result<Self, SamplingError> {
        Ok(Self::new(match &config.class_name {
            Some(name) => SchedulerKind::from_class_name(name)?,
            None => SchedulerKind::Ddim,
        }))
    }
}

impl FromStr for SchedulerChoice {
    type Err = SamplingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
    }
}

impl fmt::Display for SchedulerChoice {
    /// The canonical name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A model config made into the config of one class, as diffusers'
/// `Class.from_config(pipe.scheduler.config)`: the typed fields the file gave, the class's
/// defaults for those it left out, and the file's options with the choice's on top.
#[derive(Debug, Clone)]
pub(crate) struct ClassConfig {
    pub kind: SchedulerKind,
    /// The typed fields for this class. Keys the class does not take are neutral
    /// (`clip_sample` false, `rescale_betas_zero_snr` false), so shared code can read them.
    pub config: SchedulerConfig,
    options: BTreeMap<String, ConfigValue>,
}

impl ClassConfig {
    /// `choice`'s class (or the config's own class when `None`) configured from `config`.
    pub fn resolve(
        config: &SchedulerConfig,
        choice: Option<&SchedulerChoice>,
    ) -> Result<Self, SamplingError> {
        let choice = match choice {
            Some(c) => *c,
            None => SchedulerChoice::of_config(config)?,
        };
        Ok(Self::for_kind(config, choice))
    }

    /// `choice`'s class configured from `config` (whatever class the config names).
    pub fn for_kind(config: &SchedulerConfig, choice: SchedulerChoice) -> Self {
        let kind = choice.kind;
        let mut c = config.clone();
        let given = |key: &str| !config.defaulted.contains(key);
        // diffusers' from_config passes on only the keys the file gave (a value the source
        // class defaulted is in its `_use_default_values` and left out): the target class's
        // own defaults apply to the rest. Only these typed keys have defaults that differ
        // between classes.
        if !given("beta_start") {
            c.beta_start = if kind == SchedulerKind::Heun {
                0.00085
            } else {
                0.0001
            };
        }
        if !given("beta_end") {
            c.beta_end = if kind == SchedulerKind::Heun {
                0.012
            } else {
                0.02
            };
        }
        if !given("timestep_spacing") {
            c.timestep_spacing = kind.default_spacing();
        }
        if !given("set_alpha_to_one") {
            c.set_alpha_to_one = kind == SchedulerKind::Ddim;
        }
        if !given("clip_sample") {
            c.clip_sample = kind == SchedulerKind::Ddim;
        }
        if !kind.registers("clip_sample") {
            c.clip_sample = false;
        }
        if !kind.registers("rescale_betas_zero_snr") {
            c.rescale_betas_zero_snr = false;
        }
        let mut options = config.options.clone();
        if let Some(k) = choice.karras {
            options.insert("use_karras_sigmas".into(), ConfigValue::Bool(k));
        }
        if let Some(s) = choice.skip_prk_steps {
            options.insert("skip_prk_steps".into(), ConfigValue::Bool(s));
        }
        c.class_name = Some(kind.class_name().to_string());
        c.options = options.clone();
        Self {
            kind,
            config: c,
            options,
        }
    }

    /// The option reader of this class.
    pub fn options(&self) -> Options<'_> {
        Options {
            map: &self.options,
            class: self.kind.class_name(),
        }
    }
}

/// Typed access to a class's options, with diffusers' defaults for absent (or `null`) keys
/// and an error naming the class and key for a value of the wrong type.
pub(crate) struct Options<'a> {
    map: &'a BTreeMap<String, ConfigValue>,
    class: &'static str,
}

impl Options<'_> {
    fn get(&self, key: &str) -> Option<&ConfigValue> {
        match self.map.get(key) {
            None | Some(ConfigValue::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn wrong(&self, key: &str, want: &str) -> SamplingError {
        SamplingError::InvalidConfig(format!(
            "{}: '{key}' must be {want}, got {}",
            self.class,
            self.map
                .get(key)
                .map_or("nothing".into(), |v| v.to_string())
        ))
    }

    /// A boolean option.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, SamplingError> {
        match self.get(key) {
            None => Ok(default),
            Some(ConfigValue::Bool(b)) => Ok(*b),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    /// A string option.
    pub fn string(&self, key: &str, default: &str) -> Result<String, SamplingError> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(ConfigValue::String(s)) => Ok(s.clone()),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// A number option, `None` when absent.
    pub fn number(&self, key: &str) -> Result<Option<f64>, SamplingError> {
        match self.get(key) {
            None => Ok(None),
            Some(ConfigValue::Number(x)) => Ok(Some(*x)),
            Some(_) => Err(self.wrong(key, "a number")),
        }
    }

    /// A non-negative integer option.
    pub fn count(&self, key: &str, default: usize) -> Result<usize, SamplingError> {
        match self.number(key)? {
            None => Ok(default),
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x < 1e9 => Ok(x as usize),
            Some(_) => Err(self.wrong(key, "a non-negative integer")),
        }
    }

    /// A list of non-negative integers (`disable_corrector`).
    pub fn counts(&self, key: &str) -> Result<Vec<usize>, SamplingError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(ConfigValue::List(items)) => items
                .iter()
                .map(|v| match v {
                    ConfigValue::Number(x) if *x >= 0.0 && x.fract() == 0.0 && *x < 1e9 => {
                        Ok(*x as usize)
                    }
                    _ => Err(self.wrong(key, "a list of non-negative integers")),
                })
                .collect(),
            Some(_) => Err(self.wrong(key, "a list of non-negative integers")),
        }
    }

    /// Refuse an option nao does not implement when it is set to anything but its default
    /// (`false`, `null`, …): `is_default` says which values are harmless.
    pub fn refuse(
        &self,
        key: &str,
        is_default: impl Fn(&ConfigValue) -> bool,
    ) -> Result<(), SamplingError> {
        match self.get(key) {
            Some(v) if !is_default(v) => Err(SamplingError::Unsupported {
                scheduler: self.class,
                what: format!("{key} = {v}"),
            }),
            _ => Ok(()),
        }
    }

    /// Refuse a boolean option set to `true`.
    pub fn refuse_true(&self, key: &str) -> Result<(), SamplingError> {
        self.refuse(key, |v| matches!(v, ConfigValue::Bool(false)))
    }

    /// A string option that must be one of `allowed`.
    pub fn one_of(
        &self,
        key: &str,
        default: &str,
        allowed: &[&str],
    ) -> Result<String, SamplingError> {
        let v = self.string(key, default)?;
        if allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(SamplingError::Unsupported {
                scheduler: self.class,
                what: format!("{key} = {v:?} (nao supports {})", allowed.join(", ")),
            })
        }
    }

    /// The options of σ schedules nao does not implement (exponential, β, flow σ, dynamic
    /// shifting), refused when on.
    pub fn refuse_other_sigmas(&self) -> Result<(), SamplingError> {
        for key in [
            "use_exponential_sigmas",
            "use_beta_sigmas",
            "use_lu_lambdas",
            "use_flow_sigmas",
            "use_dynamic_shifting",
        ] {
            self.refuse_true(key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in SchedulerKind::ALL {
            let c = SchedulerChoice::new(kind);
            assert_eq!(SchedulerChoice::from_name(&c.name()).unwrap(), c);
            assert_eq!(SchedulerChoice::from_name(kind.class_name()).unwrap(), c);
            if kind.has_karras() {
                let k = SchedulerChoice {
                    karras: Some(true),
                    ..c
                };
                assert_eq!(SchedulerChoice::from_name(&k.name()).unwrap(), k);
            }
        }
        let plms = SchedulerChoice::from_name("PLMS").unwrap();
        assert_eq!(plms.skip_prk_steps, Some(true));
        assert_eq!(plms.name(), "plms");
        assert!(SchedulerChoice::from_name("ddim-karras")
            .unwrap_err()
            .to_string()
            .contains("DDIMScheduler"));
    }

    #[test]
    fn another_class_takes_its_own_defaults_for_what_the_file_left_out() {
        let pndm = SchedulerConfig::from_json(
            r#"{"_class_name": "PNDMScheduler", "beta_schedule": "scaled_linear",
                "beta_start": 0.00085, "beta_end": 0.012, "skip_prk_steps": true,
                "clip_sample": false, "steps_offset": 1}"#,
        )
        .unwrap();
        let own = ClassConfig::resolve(&pndm, None).unwrap();
        assert_eq!(own.kind, SchedulerKind::Pndm);
        assert_eq!(own.config.timestep_spacing, TimestepSpacing::Leading);
        assert!(!own.config.set_alpha_to_one);
        assert!(own.options().bool("skip_prk_steps", false).unwrap());
        let euler = ClassConfig::for_kind(&pndm, SchedulerChoice::new(SchedulerKind::Euler));
        assert_eq!(euler.config.timestep_spacing, TimestepSpacing::Linspace);
        assert_eq!(euler.config.steps_offset, 1);
        let ddim = ClassConfig::for_kind(&pndm, SchedulerChoice::new(SchedulerKind::Ddim));
        assert!(ddim.config.set_alpha_to_one && !ddim.config.clip_sample);
        let heun = ClassConfig::for_kind(
            &SchedulerConfig::from_json("{}").unwrap(),
            SchedulerChoice::new(SchedulerKind::Heun),
        );
        assert_eq!(
            (heun.config.beta_start, heun.config.beta_end),
            (0.00085, 0.012)
        );
        // a config built in code gives every typed field
        let code = SchedulerConfig {
            steps_offset: 1,
            ..SchedulerConfig::default()
        };
        let e = ClassConfig::for_kind(&code, SchedulerChoice::new(SchedulerKind::Euler));
        assert_eq!(e.config.timestep_spacing, TimestepSpacing::Leading);
        let bad = SchedulerConfig::from_json(r#"{"_class_name": "FooScheduler"}"#).unwrap();
        assert!(ClassConfig::resolve(&bad, None)
            .unwrap_err()
            .to_string()
            .contains("FooScheduler"));
    }
}
