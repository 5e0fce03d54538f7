//! The feature sets of the MLP baselines, computed per song segment: IS13 on the 16 kHz
//! segment the SincNet front-end makes, Essentia on the same segment at 44.1 kHz.

use super::{essentia, is13};
use crate::dsp::ESSENTIA_RATE;
use crate::frontend::Pcm;
use crate::{FrontEnd, FrontEndError, Segment};
use serde::{Deserialize, Serialize};

/// Which handcrafted features a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FeatureSet {
    /// The 260 IS13 ComParE features.
    Is13,
    /// The 84 Essentia music-extractor features.
    Essentia,
    /// Both: 344.
    Combined,
}

impl FeatureSet {
    /// Every feature set, in variant order.
    pub const ALL: [FeatureSet; 3] = [FeatureSet::Is13, FeatureSet::Essentia, FeatureSet::Combined];

    /// The set's short name (`is13`, `essentia` or `combined`), as `from_str` reads it.
    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::Is13 => "is13",
            FeatureSet::Essentia => "essentia",
            FeatureSet::Combined => "combined",
        }
    }

    /// Values per segment.
    pub fn values(self) -> usize {
        match self {
            FeatureSet::Is13 => is13::FEATURES,
            FeatureSet::Essentia => essentia::VALUES,
            FeatureSet::Combined => is13::FEATURES + essentia::VALUES,
        }
    }

    fn uses_is13(self) -> bool {
        self != FeatureSet::Essentia
    }

    fn uses_essentia(self) -> bool {
        self != FeatureSet::Is13
    }

    /// The front-ends whose segments [`FeatureSet::extract`] needs: 16 kHz for IS13, 44.1 kHz
    /// for Essentia (both cut and normalised as the paper's segments).
    pub fn front_ends(self) -> (Option<FrontEnd>, Option<FrontEnd>) {
        let base = FrontEnd::default();
        (
            self.uses_is13().then_some(base),
            self.uses_essentia().then_some(FrontEnd {
                sample_rate: ESSENTIA_RATE as u32,
                min_segment_samples: base.min_segment_samples * ESSENTIA_RATE as usize
                    / base.sample_rate as usize,
                ..base
            }),
        )
    }

    /// `pcm` cut into segments by each front-end of [`FeatureSet::front_ends`]: the song as
    /// [`FeatureSet::extract_segment`] reads it.
    ///
    /// `at_16k` may hand over the default front-end's segments of the same audio when the
    /// caller has them already (the page cuts them for the waveform), so they are not cut again.
    pub fn segment(
        self,
        pcm: Pcm<'_>,
        at_16k: Option<Vec<Segment>>,
    ) -> Result<FeatureSegments, FrontEndError> {
        let (fe16, fe44) = self.front_ends();
        let at_16k = match (fe16, at_16k) {
            (Some(_), Some(given)) => Some(given),
            (fe, _) => fe.map(|fe| fe.prepare(pcm)).transpose()?,
        };
        Ok(FeatureSegments {
            at_16k,
            at_44k: fe44.map(|fe| fe.prepare(pcm)).transpose()?,
        })
    }

    /// The named values of segment `i` of `song`.
    pub fn extract_segment(
        self,
        song: &FeatureSegments,
        i: usize,
    ) -> Result<Vec<(String, f32)>, String> {
        fn at(s: &Option<Vec<Segment>>, i: usize) -> Result<Option<&[f32]>, String> {
            s.as_ref()
                .map(|s| {
                    s.get(i)
                        .map(|seg| seg.samples.as_slice())
                        .ok_or_else(|| format!("segment {} of {}", i + 1, s.len()))
                })
                .transpose()
        }
        self.extract(at(&song.at_16k, i)?, at(&song.at_44k, i)?)
    }

    /// The named values of one segment, given at the rates [`FeatureSet::front_ends`] names.
    pub fn extract(
        self,
        at_16k: Option<&[f32]>,
        at_44k: Option<&[f32]>,
    ) -> Result<Vec<(String, f32)>, String> {
        let mut out = Vec::with_capacity(self.values());
        if self.uses_is13() {
            let x = at_16k.ok_or("IS13 needs the 16 kHz segment")?;
            let values = is13::features(x, FrontEnd::default().sample_rate as f64)
                .ok_or("segment shorter than one 60 ms frame")?;
            out.extend(is13::feature_names().into_iter().zip(values));
        }
        if self.uses_essentia() {
            let x = at_44k.ok_or("Essentia needs the 44.1 kHz segment")?;
            out.extend(essentia::features(x)?);
        }
        if let Some((name, _)) = out.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("{name} is not a finite number"));
        }
        Ok(out)
    }
}

/// A song cut into segments by each front-end a feature set reads. Both front-ends make the
/// same number of segments over the same stretches of the song (their minimum lengths are the
/// same duration).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureSegments {
    /// The default front-end's segments, at 16 kHz (IS13 reads them).
    pub at_16k: Option<Vec<Segment>>,
    /// The same stretches at 44.1 kHz (Essentia reads them).
    pub at_44k: Option<Vec<Segment>>,
}

impl FeatureSegments {
    /// Segments in the song.
    pub fn len(&self) -> usize {
        self.spans().len()
    }

    /// Whether the song has no segments.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each segment's `(start, end)` in seconds.
    pub fn spans(&self) -> Vec<(f64, f64)> {
        let spans = |s: &Vec<Segment>, rate: f64| s.iter().map(|s| s.span(rate as u32)).collect();
        match (&self.at_16k, &self.at_44k) {
            (Some(s), _) => spans(s, FrontEnd::default().sample_rate as f64),
            (None, Some(s)) => spans(s, ESSENTIA_RATE),
            (None, None) => Vec::new(),
        }
    }
}

impl std::str::FromStr for FeatureSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FeatureSet::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown feature set {s:?} (is13, essentia or combined)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(rate: f64, seconds: f64) -> Vec<f32> {
        (0..(rate * seconds) as usize)
            .map(|i| {
                let t = i as f64 / rate;
                ((2.0 * std::f64::consts::PI * 220.0 * t).sin() * 0.4
                    + (2.0 * std::f64::consts::PI * 1375.0 * t).sin() * 0.1 * (3.0 * t).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn every_set_gives_its_named_values() {
        let (a, b) = (song(16_000.0, 2.0), song(44_100.0, 2.0));
        for set in FeatureSet::ALL {
            let f = set.extract(Some(&a), Some(&b)).unwrap();
            assert_eq!(f.len(), set.values(), "{set:?}");
            assert_eq!(set.name().parse::<FeatureSet>(), Ok(set));
        }
        let combined = FeatureSet::Combined.extract(Some(&a), Some(&b)).unwrap();
        assert_eq!(combined[0].0, "F0final_sma_stddev");
        assert!(combined[260].0.starts_with("lowlevel."));
        assert!(FeatureSet::Is13.extract(None, Some(&b)).is_err());
        assert!("mfcc".parse::<FeatureSet>().is_err());
    }
}
