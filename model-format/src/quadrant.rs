//! The four quadrants of Russell's circumplex, the task's classes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A quadrant of the valence–arousal plane. The discriminant is the class index (0..4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Quadrant {
    /// +valence, +arousal: happy, excited.
    Q1 = 0,
    /// −valence, +arousal: angry, tense.
    Q2 = 1,
    /// −valence, −arousal: sad, depressed.
    Q3 = 2,
    /// +valence, −arousal: calm, relaxed.
    Q4 = 3,
}

impl Quadrant {
    /// All quadrants in class-index order.
    pub const ALL: [Quadrant; 4] = [Quadrant::Q1, Quadrant::Q2, Quadrant::Q3, Quadrant::Q4];

    /// Class index, 0..4.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The quadrant of class index `i`, if `i < 4`.
    pub fn from_index(i: usize) -> Option<Quadrant> {
        Self::ALL.get(i).copied()
    }

    /// Short name, `"Q1"`..`"Q4"`.
    pub fn name(self) -> &'static str {
        ["Q1", "Q2", "Q3", "Q4"][self.index()]
    }

    /// The usual emotion words for the quadrant.
    pub fn emotions(self) -> &'static str {
        [
            "happy, excited",
            "angry, tense",
            "sad, depressed",
            "calm, relaxed",
        ][self.index()]
    }

    /// Whether valence is positive (Q1, Q4).
    pub fn positive_valence(self) -> bool {
        matches!(self, Quadrant::Q1 | Quadrant::Q4)
    }

    /// Whether arousal is high (Q1, Q2).
    pub fn high_arousal(self) -> bool {
        matches!(self, Quadrant::Q1 | Quadrant::Q2)
    }

    /// The quadrant of a valence–arousal point, by the signs of its coordinates.
    ///
    /// A point on an axis has no quadrant, so zero on either coordinate (or NaN) gives `None`.
    pub fn from_valence_arousal(valence: f64, arousal: f64) -> Option<Quadrant> {
        if valence == 0.0 || arousal == 0.0 || valence.is_nan() || arousal.is_nan() {
            return None;
        }
        Some(match (valence > 0.0, arousal > 0.0) {
            (true, true) => Quadrant::Q1,
            (false, true) => Quadrant::Q2,
            (false, false) => Quadrant::Q3,
            (true, false) => Quadrant::Q4,
        })
    }
}

impl fmt::Display for Quadrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text could not be read as a quadrant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a quadrant (expected Q1..Q4 or 1..4)")]
pub struct ParseQuadrantError(pub String);

impl FromStr for Quadrant {
    type Err = ParseQuadrantError;

    /// Accepts `Q1`..`Q4` (any case, surrounding space ignored) and `1`..`4` (also `1.0`, as
    /// spreadsheets store numbers).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix(['Q', 'q']).unwrap_or(t);
        let digits = digits.strip_suffix(".0").unwrap_or(digits);
        match digits {
            "1" => Ok(Quadrant::Q1),
            "2" => Ok(Quadrant::Q2),
            "3" => Ok(Quadrant::Q3),
            "4" => Ok(Quadrant::Q4),
            _ => Err(ParseQuadrantError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_give_quadrants() {
        assert_eq!(Quadrant::from_valence_arousal(0.5, 0.5), Some(Quadrant::Q1));
        assert_eq!(
            Quadrant::from_valence_arousal(-3.0, 7.0),
            Some(Quadrant::Q2)
        );
        assert_eq!(
            Quadrant::from_valence_arousal(-0.1, -0.1),
            Some(Quadrant::Q3)
        );
        assert_eq!(
            Quadrant::from_valence_arousal(2.0, -9.0),
            Some(Quadrant::Q4)
        );
        assert_eq!(Quadrant::from_valence_arousal(0.0, 1.0), None);
        assert_eq!(Quadrant::from_valence_arousal(1.0, f64::NAN), None);
    }

    #[test]
    fn quadrant_axes_agree_with_signs() {
        for q in Quadrant::ALL {
            let v = if q.positive_valence() { 1.0 } else { -1.0 };
            let a = if q.high_arousal() { 1.0 } else { -1.0 };
            assert_eq!(Quadrant::from_valence_arousal(v, a), Some(q));
            assert_eq!(Quadrant::from_index(q.index()), Some(q));
        }
    }

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!("Q3".parse(), Ok(Quadrant::Q3));
        assert_eq!(" q2 ".parse(), Ok(Quadrant::Q2));
        assert_eq!("4".parse(), Ok(Quadrant::Q4));
        assert_eq!("1.0".parse(), Ok(Quadrant::Q1));
        assert!("Q5".parse::<Quadrant>().is_err());
        assert!("happy".parse::<Quadrant>().is_err());
    }
}
