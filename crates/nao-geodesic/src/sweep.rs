//! What a piece of a planar geodesic sweeps — angle, Euclidean length, NAO cost — and the
//! quadrature panels that locate a point along it by any of the three.

use std::ops::{Add, AddAssign};

use crate::quad::Panel;

/// Angle, Euclidean length and NAO cost accumulated along (part of) a path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sweep {
    /// Polar angle swept (unused, 0, for straight lines).
    pub angle: f64,
    /// Euclidean arc length.
    pub length: f64,
    /// NAO cost `∫ f(r) ds`.
    pub cost: f64,
}

/// Which component of a [`Sweep`] to measure along a path by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// Euclidean arc length.
    Length,
    /// NAO cost.
    Cost,
}

impl Measure {
    /// NAO cost when `by_cost`, Euclidean arc length otherwise.
    pub(crate) fn by_cost(by_cost: bool) -> Self {
        if by_cost {
            Measure::Cost
        } else {
            Measure::Length
        }
    }
}

impl Sweep {
    /// From the components of a vector integrand, in the order `[angle, length, cost]` that
    /// the leg and line integrands return (the quadrature integrates plain arrays).
    #[inline]
    pub fn from_parts([angle, length, cost]: [f64; 3]) -> Self {
        Self {
            angle,
            length,
            cost,
        }
    }

    /// The component `m`.
    #[inline]
    pub fn get(&self, m: Measure) -> f64 {
        match m {
            Measure::Length => self.length,
            Measure::Cost => self.cost,
        }
    }
}

impl Add for Sweep {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Self {
            angle: self.angle + o.angle,
            length: self.length + o.length,
            cost: self.cost + o.cost,
        }
    }
}

impl AddAssign for Sweep {
    #[inline]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}

/// One accepted quadrature panel `[a, b]` of a sweep integrand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SweepPanel {
    pub a: f64,
    pub b: f64,
    pub value: Sweep,
}

/// Adaptive panels of a sweep integral with their running sums, for locating where a partial
/// integral reaches a target.
#[derive(Debug, Clone, Default)]
pub(crate) struct PanelTable {
    pub panels: Vec<SweepPanel>,
    /// Sum of the panels before each one.
    pub cum: Vec<Sweep>,
    pub total: Sweep,
}

impl PanelTable {
    pub fn new(panels: Vec<Panel<3>>) -> Self {
        let mut cum = Vec::with_capacity(panels.len());
        let mut acc = Sweep::default();
        let panels: Vec<SweepPanel> = panels
            .into_iter()
            .map(|p| SweepPanel {
                a: p.a,
                b: p.b,
                value: Sweep::from_parts(p.value),
            })
            .collect();
        for p in &panels {
            cum.push(acc);
            acc += p.value;
        }
        Self {
            panels,
            cum,
            total: acc,
        }
    }

    /// Index of the panel where the running sum of `m` reaches `target`.
    pub fn find(&self, m: Measure, target: f64) -> usize {
        match self.cum.binary_search_by(|c| {
            c.get(m)
                .partial_cmp(&target)
                .unwrap_or(std::cmp::Ordering::Less)
        }) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }
}
