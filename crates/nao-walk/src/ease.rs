//! Easing curves: how the frames of one segment speed up and slow down.

/// An easing curve `e: [0, 1] → [0, 1]`, increasing, with `e(0) = 0` and `e(1) = 1`, applied to
/// each segment's share of the walk: a frame at fraction `s` of its segment's frames lands at
/// fraction `e(s)` of the segment's length (in the chosen spacing).
///
/// ```
/// use nao_walk::Ease;
/// assert_eq!(Ease::Linear.at(0.25), 0.25);
/// assert!(Ease::InOut.at(0.1) < 0.01); // lingers near the keyframe
/// assert_eq!("in-out".parse::<Ease>(), Ok(Ease::InOut));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Ease {
    /// Constant speed.
    #[default]
    Linear,
    /// Start slowly (cubic).
    In,
    /// End slowly (cubic).
    Out,
    /// Start and end slowly (cubic): the walk lingers near each keyframe.
    InOut,
    /// Start and end slowly, gentler than `in-out` (half a cosine).
    Sine,
}

impl Ease {
    /// Every curve.
    pub const ALL: [Ease; 5] = [Ease::Linear, Ease::In, Ease::Out, Ease::InOut, Ease::Sine];

    /// The curve at `s ∈ [0, 1]`.
    pub fn at(self, s: f64) -> f64 {
        let s = s.clamp(0.0, 1.0);
        match self {
            Ease::Linear => s,
            Ease::In => s * s * s,
            Ease::Out => 1.0 - (1.0 - s).powi(3),
            Ease::InOut if s < 0.5 => 4.0 * s * s * s,
            Ease::InOut => 1.0 - 4.0 * (1.0 - s).powi(3),
            Ease::Sine => 0.5 - 0.5 * (std::f64::consts::PI * s).cos(),
        }
    }

    /// The name on the command line (`linear`, `in`, `out`, `in-out`, `sine`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ease::Linear => "linear",
            Ease::In => "in",
            Ease::Out => "out",
            Ease::InOut => "in-out",
            Ease::Sine => "sine",
        }
    }
}

impl std::str::FromStr for Ease {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown ease '{s}' (known: linear, in, out, in-out, sine)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_increasing_maps_of_the_unit_interval() {
        for e in Ease::ALL {
            assert_eq!(e.at(0.0), 0.0, "{e:?}");
            assert!((e.at(1.0) - 1.0).abs() < 1e-15, "{e:?}");
            let mut last = 0.0;
            for i in 1..=1000 {
                let v = e.at(i as f64 / 1000.0);
                assert!(v > last, "{e:?} at {i}");
                last = v;
            }
            assert_eq!(e.as_str().parse::<Ease>(), Ok(e));
        }
        // symmetric curves pass through the middle
        for e in [Ease::Linear, Ease::InOut, Ease::Sine] {
            assert!((e.at(0.5) - 0.5).abs() < 1e-15, "{e:?}");
        }
        // in-out is flat at both ends, in only at the start
        assert!(Ease::InOut.at(0.01) < 1e-5 && 1.0 - Ease::InOut.at(0.99) < 1e-5);
        assert!(Ease::In.at(0.01) < 1e-5 && Ease::Out.at(0.01) > 0.02);
    }
}
