//! A stack of seeds along a path, and how frames are spaced along one.

use std::str::FromStr;

use crate::error::GeodesicError;

/// `len()` frames of `dim` elements each, stored row-major (frame after frame).
///
/// ```
/// use nao_geodesic::Frames;
/// let f = Frames::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// assert_eq!(f.len(), 2);
/// assert_eq!(f.frame(1), &[3.0, 4.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Frames {
    /// Elements per frame.
    pub dim: usize,
    /// `len() × dim` values, row-major.
    pub data: Vec<f64>,
}

impl Frames {
    /// An empty stack of frames of `dim` elements.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            data: Vec::new(),
        }
    }

    /// Build from rows of equal length (`None` when the rows differ in length or there are none).
    pub fn from_rows(rows: &[Vec<f64>]) -> Option<Self> {
        let dim = rows.first()?.len();
        if rows.iter().any(|r| r.len() != dim) {
            return None;
        }
        Some(Self {
            dim,
            data: rows.concat(),
        })
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frame `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn frame(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Iterate over the frames.
    pub fn iter(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks_exact(self.dim.max(1))
    }

    /// Append a frame.
    ///
    /// # Panics
    /// If the frame's length is not `dim`.
    pub fn push(&mut self, frame: &[f64]) {
        assert_eq!(frame.len(), self.dim, "frame length");
        self.data.extend_from_slice(frame);
    }

    /// The frames in reverse order.
    pub fn reversed(&self) -> Self {
        let mut out = Self::new(self.dim);
        for i in (0..self.len()).rev() {
            out.push(self.frame(i));
        }
        out
    }
}

/// How frames are spaced along a NAO path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Spacing {
    /// Uniform in Euclidean arc length (the default: frames cover the whole path evenly).
    #[default]
    Euclidean,
    /// Uniform in NAO distance. For seeds far off the χ mode almost all of the cost sits on the
    /// short radial legs, so these frames crowd there and leave the long arc almost unsampled.
    #[cfg_attr(feature = "clap", value(name = "nao"))]
    NaoDistance,
}

impl FromStr for Spacing {
    type Err = GeodesicError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "euclidean" => Ok(Self::Euclidean),
            "nao" | "nao-distance" => Ok(Self::NaoDistance),
            _ => Err(GeodesicError::InvalidConfig(format!(
                "unknown spacing '{s}' (known: euclidean, nao)"
            ))),
        }
    }
}
