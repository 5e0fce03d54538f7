//! Music-like songs whose quadrant is carried by musical cues, not by a global statistic.
//!
//! - Arousal: tempo, note density, attack sharpness, drums and distortion (high) against slow,
//!   sparse, soft-attack, long-release playing (low).
//! - Valence: mode (major/Lydian/Mixolydian against minor/harmonic minor/Phrygian), chord
//!   quality and added dissonance, and timbre brightness.
//! - Nuisance, drawn independently of the quadrant: key, timbre family, stereo placement,
//!   noise floor and overall level. The cue distributions overlap between classes, so the
//!   task is learnable but not trivial.

use model_format::Quadrant;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::f64::consts::{PI, TAU};

/// Output sample rate of synthetic songs, as the real clips have.
pub const SAMPLE_RATE: u32 = 44_100;

/// The musical choices of one song.
#[derive(Clone, Debug)]
pub struct Style {
    /// Tempo, beats per minute.
    pub tempo_bpm: f64,
    /// Melody notes per beat.
    pub density: f64,
    /// Note attack time, seconds.
    pub attack: f64,
    /// Note release time, seconds.
    pub release: f64,
    /// Drum level, 0 for none.
    pub drums: f64,
    /// Kick on every beat (else on beats 1 and 3).
    pub four_on_the_floor: bool,
    /// Hi-hats per beat.
    pub hats_per_beat: usize,
    /// Soft-clipping drive, 0 for none.
    pub drive: f64,
    /// Scale as semitone offsets from the tonic.
    pub scale: &'static [i32],
    /// Chord progression as scale degrees (0-based).
    pub progression: Vec<usize>,
    /// Probability that a chord gets a clashing extra note.
    pub dissonance: f64,
    /// Harmonic amplitude roll-off exponent (amplitude of harmonic k is k^-rolloff).
    pub rolloff: f64,
    /// Odd harmonics only (a hollow, clarinet-like timbre).
    pub odd_only: bool,
    /// MIDI note of the tonic, around the middle of the piano.
    pub tonic: i32,
    /// Noise floor relative to full scale, dB.
    pub noise_db: f64,
    /// Peak level of the finished song, dBFS.
    pub level_db: f64,
}

const MAJOR: &[i32] = &[0, 2, 4, 5, 7, 9, 11];
const LYDIAN: &[i32] = &[0, 2, 4, 6, 7, 9, 11];
const MIXOLYDIAN: &[i32] = &[0, 2, 4, 5, 7, 9, 10];
const MINOR: &[i32] = &[0, 2, 3, 5, 7, 8, 10];
const HARMONIC_MINOR: &[i32] = &[0, 2, 3, 5, 7, 8, 11];
const PHRYGIAN: &[i32] = &[0, 1, 3, 5, 7, 8, 10];

/// Progressions (scale degrees) that sit well in a major or a minor mode.
const MAJOR_PROGRESSIONS: &[&[usize]] =
    &[&[0, 3, 4, 0], &[0, 5, 3, 4], &[0, 4, 5, 3], &[0, 3, 0, 4]];
const MINOR_PROGRESSIONS: &[&[usize]] =
    &[&[0, 3, 4, 0], &[0, 5, 2, 6], &[0, 3, 6, 4], &[0, 1, 4, 0]];

impl Style {
    /// Draws a style for `q`.
    pub fn draw(q: Quadrant, rng: &mut ChaCha8Rng) -> Style {
        let high = q.high_arousal();
        let positive = q.positive_valence();
        let u = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| rng.random_range(lo..hi);
        // A value from the first range when `on`, else from the second.
        let either = |rng: &mut ChaCha8Rng, on: bool, a: (f64, f64), b: (f64, f64)| {
            let (lo, hi) = if on { a } else { b };
            rng.random_range(lo..hi)
        };
        let (scales, progressions) = if positive {
            ([MAJOR, MAJOR, LYDIAN, MIXOLYDIAN], MAJOR_PROGRESSIONS)
        } else {
            ([MINOR, MINOR, HARMONIC_MINOR, PHRYGIAN], MINOR_PROGRESSIONS)
        };
        let progression = progressions[rng.random_range(0..progressions.len())].to_vec();
        let scale = scales[rng.random_range(0..scales.len())];
        let densities: &[f64] = if high {
            &[1.0, 2.0, 3.0, 4.0]
        } else {
            &[0.5, 1.0, 1.0, 2.0]
        };
        Style {
            tempo_bpm: either(rng, high, (100.0, 176.0), (54.0, 112.0)),
            density: densities[rng.random_range(0..densities.len())],
            attack: either(rng, high, (0.002, 0.03), (0.02, 0.25)),
            release: either(rng, high, (0.04, 0.3), (0.2, 1.2)),
            drums: match (high, rng.random_bool(if high { 0.85 } else { 0.3 })) {
                (_, false) => 0.0,
                (true, true) => u(rng, 0.4, 1.0),
                (false, true) => u(rng, 0.1, 0.45),
            },
            four_on_the_floor: high && rng.random_bool(0.7),
            hats_per_beat: if high { 4 } else { 2 },
            drive: if !positive && high && rng.random_bool(0.6) {
                u(rng, 1.5, 6.0)
            } else {
                0.0
            },
            scale,
            progression,
            dissonance: either(rng, positive, (0.0, 0.1), (0.15, 0.6)),
            rolloff: either(rng, positive, (0.6, 1.7), (1.1, 2.4)),
            odd_only: rng.random_bool(0.3),
            tonic: rng.random_range(50..62),
            noise_db: u(rng, -55.0, -25.0),
            level_db: u(rng, -24.0, -1.0),
        }
    }
}

/// A stereo buffer being mixed.
struct Mix {
    left: Vec<f32>,
    right: Vec<f32>,
}

/// Amplitude envelope of a note.
#[derive(Clone, Copy)]
struct Envelope {
    attack: f64,
    /// Time constant of the decay after the attack; `f64::INFINITY` holds the note.
    decay: f64,
    release: f64,
}

impl Envelope {
    fn at(&self, t: f64, dur: f64) -> f64 {
        let body = if t < self.attack {
            t / self.attack
        } else {
            (-(t - self.attack) / self.decay).exp()
        };
        let tail = if t > dur {
            (1.0 - (t - dur) / self.release).max(0.0)
        } else {
            1.0
        };
        body * tail
    }
}

/// Harmonic timbre of an instrument.
#[derive(Clone, Copy)]
struct Timbre {
    rolloff: f64,
    odd_only: bool,
    harmonics: usize,
}

fn midi_hz(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// Equal-power pan gains for `pan` in [-1, 1].
fn pan_gains(pan: f64) -> (f32, f32) {
    let a = (pan + 1.0) * PI / 4.0;
    (a.cos() as f32, a.sin() as f32)
}

impl Mix {
    fn new(frames: usize) -> Mix {
        Mix {
            left: vec![0.0; frames],
            right: vec![0.0; frames],
        }
    }

    /// Adds a harmonic note; each harmonic is a rotating phasor, so no `sin` per sample.
    #[allow(clippy::too_many_arguments)]
    fn note(
        &mut self,
        start: f64,
        dur: f64,
        midi: f64,
        amp: f64,
        timbre: Timbre,
        env: Envelope,
        pan: f64,
    ) {
        let sr = SAMPLE_RATE as f64;
        let f0 = midi_hz(midi);
        let first = (start * sr) as usize;
        let len = ((dur + env.release) * sr) as usize;
        let end = (first + len).min(self.left.len());
        if first >= end {
            return;
        }
        let mut partials: Vec<(f64, f64, f64, f64, f64)> = Vec::new(); // (amp, c, s, cw, sw)
        let mut norm = 0.0;
        for k in 1..=timbre.harmonics {
            let f = f0 * k as f64;
            if f > 0.45 * sr || (timbre.odd_only && k % 2 == 0) {
                continue;
            }
            let a = (k as f64).powf(-timbre.rolloff);
            norm += a;
            let w = TAU * f / sr;
            partials.push((a, 1.0, 0.0, w.cos(), w.sin()));
        }
        let (gl, gr) = pan_gains(pan);
        let scale = amp / norm.max(1e-9);
        for i in first..end {
            let t = (i - first) as f64 / sr;
            let mut v = 0.0;
            for p in partials.iter_mut() {
                v += p.0 * p.2;
                let c = p.1 * p.3 - p.2 * p.4;
                p.2 = p.1 * p.4 + p.2 * p.3;
                p.1 = c;
            }
            let v = (v * scale * env.at(t, dur)) as f32;
            self.left[i] += v * gl;
            self.right[i] += v * gr;
        }
    }

    /// Adds a drum hit: a pitch-swept sine (kick), noise with a tone (snare) or
    /// high-passed noise (hi-hat).
    fn drum(&mut self, start: f64, kind: Drum, amp: f64, rng: &mut ChaCha8Rng) {
        let sr = SAMPLE_RATE as f64;
        let first = (start * sr) as usize;
        let (len_s, pan) = match kind {
            Drum::Kick => (0.35, 0.0),
            Drum::Snare => (0.25, 0.1),
            Drum::HiHat => (0.08, -0.3),
        };
        let end = (first + (len_s * sr) as usize).min(self.left.len());
        let (gl, gr) = pan_gains(pan);
        let mut phase = 0.0;
        let mut prev_noise = 0.0;
        for i in first..end {
            let t = (i - first) as f64 / sr;
            let noise: f64 = rng.random_range(-1.0..1.0);
            let v = match kind {
                Drum::Kick => {
                    phase += TAU * (45.0 + 110.0 * (-t / 0.04).exp()) / sr;
                    phase.sin() * (-t / 0.12).exp()
                }
                Drum::Snare => (0.7 * noise + 0.3 * (TAU * 185.0 * t).sin()) * (-t / 0.07).exp(),
                Drum::HiHat => {
                    let hp = noise - prev_noise;
                    prev_noise = noise;
                    0.5 * hp * (-t / 0.02).exp()
                }
            };
            let v = (v * amp) as f32;
            self.left[i] += v * gl;
            self.right[i] += v * gr;
        }
    }
}

#[derive(Clone, Copy)]
enum Drum {
    Kick,
    Snare,
    HiHat,
}

/// The MIDI note of scale degree `degree` (any integer) above `tonic`.
fn degree_note(style: &Style, degree: i32) -> i32 {
    let n = style.scale.len() as i32;
    let octave = degree.div_euclid(n);
    style.tonic + 12 * octave + style.scale[degree.rem_euclid(n) as usize]
}

/// Renders a song of `seconds` for quadrant `q` as interleaved stereo at [`SAMPLE_RATE`].
pub fn render(q: Quadrant, seconds: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let style = Style::draw(q, rng);
    render_style(&style, seconds, rng)
}

/// Renders a song in a given style (see [`render`]).
pub fn render_style(style: &Style, seconds: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let frames = (seconds * SAMPLE_RATE as f64) as usize;
    let mut mix = Mix::new(frames);
    let beat = 60.0 / style.tempo_bpm;
    let bar = 4.0 * beat;

    let pad = Timbre {
        rolloff: style.rolloff + 0.4,
        odd_only: style.odd_only,
        harmonics: 8,
    };
    let lead = Timbre {
        rolloff: style.rolloff,
        odd_only: !style.odd_only && rng.random_bool(0.3),
        harmonics: 12,
    };
    let bass = Timbre {
        rolloff: 1.5,
        odd_only: false,
        harmonics: 6,
    };
    let sustained = Envelope {
        attack: style.attack.max(0.01),
        decay: f64::INFINITY,
        release: style.release,
    };
    let plucked = Envelope {
        attack: style.attack,
        decay: 0.15 + 2.0 * style.release,
        release: style.release.min(0.3),
    };
    let pad_pan = rng.random_range(-0.5..0.5);
    let lead_pan = rng.random_range(-0.6..0.6);

    // Harmony: one chord per bar, triads on the scale, sometimes with a clashing note.
    let bars = (seconds / bar).ceil() as usize;
    for b in 0..bars {
        let root = style.progression[b % style.progression.len()] as i32;
        let start = b as f64 * bar;
        for third in [0, 2, 4] {
            let note = degree_note(style, root + third) as f64;
            mix.note(start, bar, note, 0.18, pad, sustained, pad_pan);
        }
        if rng.random_bool(style.dissonance) {
            let clash =
                degree_note(style, root) as f64 + if rng.random_bool(0.5) { 1.0 } else { 6.0 };
            mix.note(start, bar, clash, 0.12, pad, sustained, pad_pan);
        }
        // Bass on every beat when the song drives, once a bar when it rests.
        let bass_note = (degree_note(style, root) - 24) as f64;
        let hits = if style.density >= 2.0 { 4 } else { 1 };
        for h in 0..hits {
            let len = bar / hits as f64;
            mix.note(
                start + h as f64 * len,
                len * 0.9,
                bass_note,
                0.3,
                bass,
                plucked,
                0.0,
            );
        }
    }

    // Melody: a random walk over the scale, one note per step, with rests.
    let step = beat / style.density;
    let mut degree: i32 = 7 + rng.random_range(0..5);
    let mut t = 0.0;
    while t < seconds {
        if rng.random_bool(0.85) {
            let velocity = rng.random_range(0.6..1.0);
            let legato = rng.random_range(0.5..1.0);
            mix.note(
                t,
                step * legato,
                degree_note(style, degree) as f64,
                0.3 * velocity,
                lead,
                plucked,
                lead_pan,
            );
        }
        degree = (degree + rng.random_range(-2..=2)).clamp(3, 14);
        t += step;
    }

    // Drums.
    if style.drums > 0.0 {
        let beats = (seconds / beat) as usize;
        for k in 0..beats {
            let at = k as f64 * beat;
            if k % 2 == 0 || style.four_on_the_floor {
                mix.drum(at, Drum::Kick, style.drums, rng);
            }
            if k % 4 == 1 || k % 4 == 3 {
                mix.drum(at, Drum::Snare, 0.6 * style.drums, rng);
            }
            let hats = style.hats_per_beat;
            for h in 0..hats {
                mix.drum(
                    at + h as f64 * beat / hats as f64,
                    Drum::HiHat,
                    0.4 * style.drums,
                    rng,
                );
            }
        }
    }

    finish(mix, style, rng)
}

/// Distortion, noise floor, and the song's overall level; interleaves the channels.
fn finish(mut mix: Mix, style: &Style, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let peak = mix
        .left
        .iter()
        .chain(&mix.right)
        .fold(1e-9f32, |m, v| m.max(v.abs()));
    let drive = style.drive as f32;
    let noise = 10f32.powf(style.noise_db as f32 / 20.0);
    for ch in [&mut mix.left, &mut mix.right] {
        for v in ch.iter_mut() {
            let x = *v / peak;
            let x = if drive > 0.0 {
                (drive * x).tanh() / drive.tanh()
            } else {
                x
            };
            *v = x + noise * rng.random_range(-1.0f32..1.0);
        }
    }
    let peak = mix
        .left
        .iter()
        .chain(&mix.right)
        .fold(1e-9f32, |m, v| m.max(v.abs()));
    let gain = 10f32.powf(style.level_db as f32 / 20.0) / peak;
    mix.left
        .iter()
        .zip(&mix.right)
        .flat_map(|(l, r)| [l * gain, r * gain])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn same_seed_same_song() {
        let a = render(Quadrant::Q2, 2.0, &mut ChaCha8Rng::seed_from_u64(5));
        let b = render(Quadrant::Q2, 2.0, &mut ChaCha8Rng::seed_from_u64(5));
        let c = render(Quadrant::Q2, 2.0, &mut ChaCha8Rng::seed_from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 2 * 2 * SAMPLE_RATE as usize);
    }

    #[test]
    fn level_is_the_drawn_level() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let style = Style::draw(Quadrant::Q4, &mut rng);
        let song = render_style(&style, 1.5, &mut rng);
        let peak = song.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((20.0 * peak.log10() as f64 - style.level_db).abs() < 0.01);
    }

    #[test]
    fn styles_follow_the_quadrant() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            for q in Quadrant::ALL {
                let s = Style::draw(q, &mut rng);
                assert_eq!(s.scale[2] == 4, q.positive_valence(), "third of the scale");
                if q.high_arousal() {
                    assert!(s.attack < 0.03);
                } else {
                    assert!(s.attack >= 0.02 && s.tempo_bpm < 112.0);
                }
            }
        }
    }
}
