//! H.264 in MP4: OpenH264 encodes, the `mp4` crate muxes.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use mp4::{AvcConfig, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer, TrackConfig, TrackType};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, QpRange,
    RateControlMode, UsageType,
};
use openh264::formats::{RgbSliceU8, YUVBuffer};
use openh264::{OpenH264API, Timestamp};

use crate::{VideoError, VideoFormat, VideoSpec};

/// Bits per pixel and frame of the encoder's nominal bitrate (about 1.3 Mbit/s for 512×512 at
/// 25 fps). The buffer-based rate control treats it as a guide, not a cap: it lets quality
/// lead within the QP range below, and unlike the quality and bitrate modes it does not need
/// frame skipping (which would drop frames) to work.
const BITS_PER_PIXEL: f64 = 0.2;

/// The coarsest quantiser allowed (0 best … 51 worst): 30 keeps fine texture visible.
const MAX_QP: u8 = 30;

/// The largest frame OpenH264 encodes (level 5.2).
pub(crate) const MAX_LONG_SIDE: u32 = 3840;
pub(crate) const MAX_SHORT_SIDE: u32 = 2160;

/// NAL unit types of H.264 (ITU-T H.264 table 7-1).
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

fn fail(e: impl std::fmt::Display) -> VideoError {
    VideoError::encode(VideoFormat::Mp4, e)
}

/// An MP4 being written: encoded samples go to an unnamed temporary file (the muxer seeks back
/// to patch sizes), which is copied to the output at the end.
pub(crate) struct Mp4Sink<'w> {
    out: &'w mut dyn Write,
    encoder: Encoder,
    /// Created with the first frame, whose parameter sets the track's configuration needs.
    muxer: Option<Mp4Writer<BufWriter<File>>>,
    width: usize,
    height: usize,
    fps: u32,
    grey: bool,
    /// Elapsed frame periods.
    ticks: u64,
    rgb: Vec<u8>,
}

impl<'w> Mp4Sink<'w> {
    /// Start the encoder: one thread (the same input always gives the same bytes), no frame
    /// ever skipped by the rate control, an IDR frame every two seconds for seeking.
    pub(crate) fn new(spec: &VideoSpec, out: &'w mut dyn Write) -> Result<Self, VideoError> {
        let (long, short) = (spec.width.max(spec.height), spec.width.min(spec.height));
        if long > MAX_LONG_SIDE || short > MAX_SHORT_SIDE {
            return Err(VideoError::Spec {
                format: VideoFormat::Mp4,
                reason: format!(
                    "frames of {}×{} exceed OpenH264's largest, {MAX_LONG_SIDE}×{MAX_SHORT_SIDE}",
                    spec.width, spec.height
                ),
            });
        }
        let pixels = f64::from(spec.width) * f64::from(spec.height) * f64::from(spec.fps);
        let bitrate = (pixels * BITS_PER_PIXEL).clamp(200_000.0, 50_000_000.0) as u32;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bitrate))
            .max_frame_rate(FrameRate::from_hz(spec.fps as f32))
            .skip_frames(false)
            .num_threads(1)
            .usage_type(UsageType::CameraVideoRealTime)
            .rate_control_mode(RateControlMode::Bufferbased)
            .complexity(Complexity::High)
            .qp(QpRange::new(0, MAX_QP))
            .intra_frame_period(IntraFramePeriod::from_num_frames(2 * spec.fps));
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config).map_err(fail)?;
        Ok(Self {
            out,
            encoder,
            muxer: None,
            width: spec.width as usize,
            height: spec.height as usize,
            fps: spec.fps,
            grey: spec.grey,
            ticks: 0,
            rgb: Vec::new(),
        })
    }

    /// Encode a frame (grey levels or RGB triples) lasting `ticks` frame periods: one sample.
    pub(crate) fn push(&mut self, pixels: &[u8], ticks: u32) -> Result<(), VideoError> {
        let rgb: &[u8] = if self.grey {
            self.rgb.clear();
            self.rgb.extend(pixels.iter().flat_map(|&v| [v, v, v]));
            &self.rgb
        } else {
            pixels
        };
        let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(rgb, (self.width, self.height)));
        let millis = self.ticks * 1000 / u64::from(self.fps);
        let stream = self
            .encoder
            .encode_at(&yuv, Timestamp::from_millis(millis))
            .map_err(fail)?;
        let mut sample = Vec::new();
        let (mut sps, mut pps, mut sync) = (None, None, false);
        for l in 0..stream.num_layers() {
            let Some(layer) = stream.layer(l) else {
                continue;
            };
            for n in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(n).map(strip_start_code) else {
                    continue;
                };
                match nal.first().map(|b| b & 0x1f) {
                    Some(NAL_SPS) => sps = Some(nal.to_vec()),
                    Some(NAL_PPS) => pps = Some(nal.to_vec()),
                    Some(kind) => {
                        sync |= kind == NAL_IDR;
                        // MP4 stores NAL units with a 4-byte length instead of a start code.
                        let len = u32::try_from(nal.len()).map_err(fail)?;
                        sample.extend_from_slice(&len.to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                    None => {}
                }
            }
        }
        if sample.is_empty() {
            return Err(fail(format!(
                "the encoder returned no picture for frame at {millis} ms"
            )));
        }
        if self.muxer.is_none() {
            let (Some(sps), Some(pps)) = (sps, pps) else {
                return Err(fail("the first frame came without its parameter sets"));
            };
            self.muxer = Some(self.start_muxer(sps, pps)?);
        }
        let muxer = self.muxer.as_mut().ok_or_else(|| fail("no muxer"))?;
        muxer
            .write_sample(
                1,
                &Mp4Sample {
                    start_time: self.ticks,
                    duration: ticks,
                    rendering_offset: 0,
                    is_sync: sync,
                    bytes: sample.into(),
                },
            )
            .map_err(fail)?;
        self.ticks += u64::from(ticks);
        Ok(())
    }

    /// The muxer on a temporary file, with one video track whose timescale is the frame rate.
    fn start_muxer(
        &self,
        sps: Vec<u8>,
        pps: Vec<u8>,
    ) -> Result<Mp4Writer<BufWriter<File>>, VideoError> {
        let brand = |s: &str| s.parse().map_err(fail);
        let config = Mp4Config {
            major_brand: brand("isom")?,
            minor_version: 512,
            compatible_brands: vec![
                brand("isom")?,
                brand("iso2")?,
                brand("avc1")?,
                brand("mp41")?,
            ],
            timescale: self.fps,
        };
        let file = tempfile::tempfile().map_err(fail)?;
        let mut muxer = Mp4Writer::write_start(BufWriter::new(file), &config).map_err(fail)?;
        muxer
            .add_track(&TrackConfig {
                track_type: TrackType::Video,
                timescale: self.fps,
                language: "und".into(),
                media_conf: MediaConfig::AvcConfig(AvcConfig {
                    // `VideoSpec::check` has bounded both sides by u16::MAX.
                    width: self.width as u16,
                    height: self.height as u16,
                    seq_param_set: sps,
                    pic_param_set: pps,
                }),
            })
            .map_err(fail)?;
        Ok(muxer)
    }

    /// Write the index, then copy the file to the output.
    pub(crate) fn finish(self) -> Result<(), VideoError> {
        let mut muxer = self.muxer.ok_or_else(|| fail("no frame was encoded"))?;
        muxer.write_end().map_err(fail)?;
        let mut file = muxer.into_writer().into_inner().map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        std::io::copy(&mut file, self.out).map_err(fail)?;
        self.out.flush().map_err(fail)
    }
}

/// A NAL unit without its Annex B start code (`00 00 01` or `00 00 00 01`).
fn strip_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    if zeros >= 2 && nal.get(zeros) == Some(&1) {
        &nal[zeros + 1..]
    } else {
        nal
    }
}
