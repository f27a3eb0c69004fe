//! Frame durations in the units a format stores.

/// GIF delays in hundredths of a second for frames lasting `ticks` frame periods each at
/// `fps`: each delay is the rounded end time minus the rounded start time, so the elapsed time
/// after any frame is exact to the nearest hundredth (30 fps: 3, 4, 3, 3, 4, 3, …).
///
/// ```
/// assert_eq!(nao_video::centisecond_delays(&[1, 1, 1, 1, 1, 1], 30), vec![3, 4, 3, 3, 4, 3]);
/// assert_eq!(nao_video::centisecond_delays(&[1, 4, 1], 25), vec![4, 16, 4]);
/// ```
pub fn centisecond_delays(ticks: &[u32], fps: u32) -> Vec<u64> {
    let mut clock = CentisecondClock::new(fps);
    ticks.iter().map(|&t| clock.advance(t)).collect()
}

/// Elapsed frame periods, and their rounded time in hundredths of a second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CentisecondClock {
    fps: u64,
    ticks: u64,
}

impl CentisecondClock {
    pub(crate) fn new(fps: u32) -> Self {
        Self {
            fps: u64::from(fps.max(1)),
            ticks: 0,
        }
    }

    /// `round(100·ticks/fps)`, halves up, in integers.
    fn centiseconds(&self, ticks: u64) -> u64 {
        (200 * ticks + self.fps) / (2 * self.fps)
    }

    /// Advance by `ticks` frame periods; the delay of that frame in hundredths of a second.
    pub(crate) fn advance(&mut self, ticks: u32) -> u64 {
        let start = self.centiseconds(self.ticks);
        self.ticks += u64::from(ticks);
        self.centiseconds(self.ticks) - start
    }
}
