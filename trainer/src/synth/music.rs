//! Music-like songs whose quadrant is carried by musical cues, not by a global statistic.
//!
//! - Arousal: tempo, note density, attack sharpness, percussion and distortion (high) against
//!   slow, sparse, soft-attack, long-release playing (low).
//! - Valence: mode (major-like against minor-like), chord quality and added dissonance, and
//!   timbre brightness.
//! - Nuisance, drawn independently of the quadrant: key, timbre family, stereo placement,
//!   noise floor and overall level. The cue distributions overlap between classes, so the
//!   task is learnable but not trivial.
//!
//! Each stand-in corpus comes from its own [`Culture`], with its own scales and tuning,
//! texture, percussion, tempi and production, so that a model trained on one meets unfamiliar
//! music on the others, as a model trained on one real corpus does on the other two.

use model_format::Quadrant;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::f64::consts::{PI, TAU};

/// Output sample rate of synthetic songs, as the real clips have.
pub const SAMPLE_RATE: u32 = 44_100;

/// The musical tradition a synthetic song is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Culture {
    /// Western pop (the 4Q-EMOTION stand-in): diatonic major and minor modes, chords over a
    /// bass, a drum kit, 4/4.
    Western,
    /// Chinese popular and traditional (the CH-818 stand-in): anhemitonic pentatonic modes,
    /// heterophony (the melody doubled an octave below) instead of chords, woodblock
    /// percussion, slower tempi, a high, bright register.
    Chinese,
    /// Turkish makam music (the TR-MUSIC stand-in): makam scales with microtonal (quarter-tone)
    /// steps, a drone on the tonic, frame-drum (darbuka) strokes in the aksak 9/8 usul, and
    /// band-limited, noisier production.
    Turkish,
}

/// What accompanies the melody.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Texture {
    /// Triads on the scale, one per bar, over a bass line.
    Chords,
    /// The melody doubled an octave below, slightly late and softer.
    Heterophony,
    /// A sustained tonic and fifth.
    Drone,
}

/// Percussion sounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kit {
    /// Kick, snare and hi-hat.
    Rock,
    /// Woodblock.
    Woodblock,
    /// Darbuka: low `düm` and high `tek` strokes.
    Darbuka,
}

/// The musical choices of one song.
#[derive(Clone, Debug)]
pub struct Style {
    /// The tradition the song comes from.
    pub culture: Culture,
    /// Tempo, beats per minute.
    pub tempo_bpm: f64,
    /// Melody notes per beat.
    pub density: f64,
    /// Note attack time, seconds.
    pub attack: f64,
    /// Note release time, seconds.
    pub release: f64,
    /// Percussion level, 0 for none.
    pub drums: f64,
    /// Which percussion.
    pub kit: Kit,
    /// Beats per bar (9 for the aksak usul).
    pub meter: usize,
    /// Kick on every beat (else on beats 1 and 3).
    pub four_on_the_floor: bool,
    /// Hi-hats per beat.
    pub hats_per_beat: usize,
    /// Soft-clipping drive, 0 for none.
    pub drive: f64,
    /// Scale as (possibly fractional) semitone offsets from the tonic.
    pub scale: &'static [f64],
    /// What accompanies the melody.
    pub texture: Texture,
    /// Chord progression as scale degrees (0-based); the chords' roots, or the drone's
    /// changes of degree.
    pub progression: Vec<usize>,
    /// Probability that a chord gets a clashing extra note.
    pub dissonance: f64,
    /// Harmonic amplitude roll-off exponent (amplitude of harmonic k is k^-rolloff).
    pub rolloff: f64,
    /// Odd harmonics only (a hollow, clarinet-like timbre).
    pub odd_only: bool,
    /// MIDI note of the tonic.
    pub tonic: i32,
    /// Noise floor relative to full scale, dB.
    pub noise_db: f64,
    /// Corner of a one-pole low-pass on the mix, Hz; `None` for full bandwidth.
    pub lowpass_hz: Option<f64>,
    /// Peak level of the finished song, dBFS.
    pub level_db: f64,
}

const MAJOR: &[f64] = &[0.0, 2.0, 4.0, 5.0, 7.0, 9.0, 11.0];
const LYDIAN: &[f64] = &[0.0, 2.0, 4.0, 6.0, 7.0, 9.0, 11.0];
const MIXOLYDIAN: &[f64] = &[0.0, 2.0, 4.0, 5.0, 7.0, 9.0, 10.0];
const MINOR: &[f64] = &[0.0, 2.0, 3.0, 5.0, 7.0, 8.0, 10.0];
const HARMONIC_MINOR: &[f64] = &[0.0, 2.0, 3.0, 5.0, 7.0, 8.0, 11.0];
const PHRYGIAN: &[f64] = &[0.0, 1.0, 3.0, 5.0, 7.0, 8.0, 10.0];

// Pentatonic modes: gong and zhi (bright), yu and jue (dark); shang sits between.
const GONG: &[f64] = &[0.0, 2.0, 4.0, 7.0, 9.0];
const ZHI: &[f64] = &[0.0, 2.0, 5.0, 7.0, 9.0];
const SHANG: &[f64] = &[0.0, 2.0, 5.0, 7.0, 10.0];
const YU: &[f64] = &[0.0, 3.0, 5.0, 7.0, 10.0];
const JUE: &[f64] = &[0.0, 3.0, 5.0, 8.0, 10.0];

// Makams, in semitones rounded to the nearest quarter tone of their 53-comma steps: Rast and
// Mahur are heard as bright, Hicaz, Uşşak, Hüzzam and Nihavend as sorrowful. Hicaz's major
// third above an augmented second misleads a Western ear.
const RAST: &[f64] = &[0.0, 2.0, 3.5, 5.0, 7.0, 9.0, 10.5];
const MAHUR: &[f64] = &[0.0, 2.0, 4.0, 5.0, 7.0, 9.0, 11.0];
const HICAZ: &[f64] = &[0.0, 1.5, 4.0, 5.0, 7.0, 8.5, 10.0];
const USSAK: &[f64] = &[0.0, 1.5, 3.0, 5.0, 7.0, 8.0, 10.0];
const HUZZAM: &[f64] = &[0.0, 1.5, 3.0, 4.0, 7.0, 8.5, 10.5];
const NIHAVEND: &[f64] = &[0.0, 2.0, 3.0, 5.0, 7.0, 8.0, 11.0];

/// Progressions (scale degrees) that sit well in a major or a minor mode.
const MAJOR_PROGRESSIONS: &[&[usize]] =
    &[&[0, 3, 4, 0], &[0, 5, 3, 4], &[0, 4, 5, 3], &[0, 3, 0, 4]];
const MINOR_PROGRESSIONS: &[&[usize]] =
    &[&[0, 3, 4, 0], &[0, 5, 2, 6], &[0, 3, 6, 4], &[0, 1, 4, 0]];

impl Culture {
    /// The stand-in culture of a corpus layout (Western for any other).
    pub fn of(layout: crate::dataset::Layout) -> Culture {
        match layout {
            crate::dataset::Layout::Ch818 => Culture::Chinese,
            crate::dataset::Layout::TrMusic => Culture::Turkish,
            _ => Culture::Western,
        }
    }
}

impl Style {
    /// Draws a style of `culture` for `q`.
    pub fn draw(q: Quadrant, culture: Culture, rng: &mut ChaCha8Rng) -> Style {
        match culture {
            Culture::Western => Style::western(q, rng),
            Culture::Chinese => Style::chinese(q, rng),
            Culture::Turkish => Style::turkish(q, rng),
        }
    }

    fn western(q: Quadrant, rng: &mut ChaCha8Rng) -> Style {
        let high = q.high_arousal();
        let positive = q.positive_valence();
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
            culture: Culture::Western,
            tempo_bpm: either(rng, high, (100.0, 176.0), (54.0, 112.0)),
            density: pick(rng, densities),
            attack: either(rng, high, (0.002, 0.03), (0.02, 0.25)),
            release: either(rng, high, (0.04, 0.3), (0.2, 1.2)),
            drums: match (high, rng.random_bool(if high { 0.85 } else { 0.3 })) {
                (_, false) => 0.0,
                (true, true) => rng.random_range(0.4..1.0),
                (false, true) => rng.random_range(0.1..0.45),
            },
            kit: Kit::Rock,
            meter: 4,
            four_on_the_floor: high && rng.random_bool(0.7),
            hats_per_beat: if high { 4 } else { 2 },
            drive: if !positive && high && rng.random_bool(0.6) {
                rng.random_range(1.5..6.0)
            } else {
                0.0
            },
            scale,
            texture: Texture::Chords,
            progression,
            dissonance: either(rng, positive, (0.0, 0.1), (0.15, 0.6)),
            rolloff: either(rng, positive, (0.6, 1.7), (1.1, 2.4)),
            odd_only: rng.random_bool(0.3),
            tonic: rng.random_range(50..62),
            noise_db: rng.random_range(-55.0..-25.0),
            lowpass_hz: None,
            level_db: rng.random_range(-24.0..-1.0),
        }
    }

    /// Valence rides on the mode and the register more than on timbre; arousal on density
    /// and attack more than on tempo, which stays moderate; no distortion.
    fn chinese(q: Quadrant, rng: &mut ChaCha8Rng) -> Style {
        let high = q.high_arousal();
        let positive = q.positive_valence();
        let scales: &[&'static [f64]] = if positive {
            &[GONG, GONG, ZHI, SHANG]
        } else {
            &[YU, YU, JUE, SHANG]
        };
        let densities: &[f64] = if high {
            &[2.0, 3.0, 4.0]
        } else {
            &[0.5, 1.0, 2.0]
        };
        Style {
            culture: Culture::Chinese,
            tempo_bpm: either(rng, high, (84.0, 132.0), (48.0, 96.0)),
            density: pick(rng, densities),
            attack: either(rng, high, (0.001, 0.01), (0.01, 0.12)),
            release: either(rng, high, (0.1, 0.5), (0.4, 1.6)),
            drums: if rng.random_bool(if high { 0.6 } else { 0.15 }) {
                rng.random_range(0.15..0.6)
            } else {
                0.0
            },
            kit: Kit::Woodblock,
            meter: 4,
            four_on_the_floor: false,
            hats_per_beat: 1,
            drive: 0.0,
            scale: pick(rng, scales),
            texture: Texture::Heterophony,
            progression: vec![0, 0, 3, 4],
            dissonance: 0.0,
            rolloff: either(rng, positive, (0.5, 1.2), (0.9, 1.8)),
            odd_only: rng.random_bool(0.15),
            tonic: if positive {
                rng.random_range(62..72)
            } else {
                rng.random_range(55..66)
            },
            noise_db: rng.random_range(-60.0..-40.0),
            lowpass_hz: None,
            level_db: rng.random_range(-12.0..-1.0),
        }
    }

    /// Valence rides on the makam, arousal on tempo, strokes and the usul; a drone instead
    /// of harmony; old, band-limited recordings.
    fn turkish(q: Quadrant, rng: &mut ChaCha8Rng) -> Style {
        let high = q.high_arousal();
        let positive = q.positive_valence();
        let scales: &[&'static [f64]] = if positive {
            &[RAST, RAST, MAHUR]
        } else {
            &[HICAZ, USSAK, HUZZAM, NIHAVEND]
        };
        let densities: &[f64] = if high {
            &[1.0, 2.0, 2.0, 3.0]
        } else {
            &[0.5, 1.0, 1.0]
        };
        Style {
            culture: Culture::Turkish,
            tempo_bpm: either(rng, high, (120.0, 200.0), (50.0, 100.0)),
            density: pick(rng, densities),
            attack: either(rng, high, (0.003, 0.02), (0.03, 0.3)),
            release: either(rng, high, (0.05, 0.4), (0.3, 1.5)),
            drums: if rng.random_bool(if high { 0.9 } else { 0.35 }) {
                rng.random_range(0.3..0.9)
            } else {
                0.0
            },
            kit: Kit::Darbuka,
            meter: if high && rng.random_bool(0.6) { 9 } else { 4 },
            four_on_the_floor: false,
            hats_per_beat: 2,
            drive: 0.0,
            scale: pick(rng, scales),
            texture: Texture::Drone,
            progression: vec![0, 0, 0, 4],
            dissonance: 0.0,
            rolloff: rng.random_range(0.7..2.0),
            odd_only: rng.random_bool(0.5),
            tonic: rng.random_range(45..58),
            noise_db: rng.random_range(-40.0..-22.0),
            lowpass_hz: Some(rng.random_range(3_000.0..7_000.0)),
            level_db: rng.random_range(-20.0..-3.0),
        }
    }
}

/// A value from the first range when `on`, else from the second.
fn either(rng: &mut ChaCha8Rng, on: bool, a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lo, hi) = if on { a } else { b };
    rng.random_range(lo..hi)
}

/// One of `items`, uniformly.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
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

    /// Adds a percussion stroke: a pitch-swept sine (kick, düm), noise with a tone (snare),
    /// high-passed noise (hi-hat), a ringing wooden tone (woodblock) or a bright slap (tek).
    fn drum(&mut self, start: f64, kind: Drum, amp: f64, rng: &mut ChaCha8Rng) {
        let sr = SAMPLE_RATE as f64;
        let first = (start * sr) as usize;
        let (len_s, pan) = match kind {
            Drum::Kick => (0.35, 0.0),
            Drum::Snare => (0.25, 0.1),
            Drum::HiHat => (0.08, -0.3),
            Drum::Woodblock => (0.06, 0.25),
            Drum::Dum => (0.3, -0.1),
            Drum::Tek => (0.07, 0.2),
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
                Drum::Woodblock => ((TAU * 1_050.0 * t).sin() + 0.2 * noise) * (-t / 0.012).exp(),
                Drum::Dum => {
                    phase += TAU * (70.0 + 40.0 * (-t / 0.02).exp()) / sr;
                    (phase.sin() + 0.1 * noise) * (-t / 0.09).exp()
                }
                Drum::Tek => {
                    let hp = noise - prev_noise;
                    prev_noise = noise;
                    (0.6 * hp + 0.4 * (TAU * 2_300.0 * t).sin()) * (-t / 0.015).exp()
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
    Woodblock,
    Dum,
    Tek,
}

/// The (possibly fractional) MIDI note of scale degree `degree` (any integer) above the tonic.
fn degree_note(style: &Style, degree: i32) -> f64 {
    let n = style.scale.len() as i32;
    let octave = degree.div_euclid(n);
    (style.tonic + 12 * octave) as f64 + style.scale[degree.rem_euclid(n) as usize]
}

/// Renders a song of `seconds` of `culture` for quadrant `q` as interleaved stereo at
/// [`SAMPLE_RATE`].
pub fn render(q: Quadrant, culture: Culture, seconds: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let style = Style::draw(q, culture, rng);
    render_style(&style, seconds, rng)
}

/// Renders a song in a given style (see [`render`]).
pub fn render_style(style: &Style, seconds: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let frames = (seconds * SAMPLE_RATE as f64) as usize;
    let mut mix = Mix::new(frames);
    let beat = 60.0 / style.tempo_bpm;
    let bar = style.meter as f64 * beat;

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

    // Accompaniment, bar by bar.
    let bars = (seconds / bar).ceil() as usize;
    for b in 0..bars {
        let root = style.progression[b % style.progression.len()] as i32;
        let start = b as f64 * bar;
        match style.texture {
            // Triads on the scale, sometimes with a clashing note, over a bass: on every
            // beat when the song drives, once a bar when it rests.
            Texture::Chords => {
                for third in [0, 2, 4] {
                    let note = degree_note(style, root + third);
                    mix.note(start, bar, note, 0.18, pad, sustained, pad_pan);
                }
                if rng.random_bool(style.dissonance) {
                    let clash =
                        degree_note(style, root) + if rng.random_bool(0.5) { 1.0 } else { 6.0 };
                    mix.note(start, bar, clash, 0.12, pad, sustained, pad_pan);
                }
                let bass_note = degree_note(style, root) - 24.0;
                let hits = if style.density >= 2.0 { 4 } else { 1 };
                for h in 0..hits {
                    let len = bar / hits as f64;
                    let at = start + h as f64 * len;
                    mix.note(at, len * 0.9, bass_note, 0.3, bass, plucked, 0.0);
                }
            }
            // The tonic and its fifth, held (the fifth moves with the progression).
            Texture::Drone => {
                let tonic = degree_note(style, 0) - 12.0;
                mix.note(start, bar, tonic, 0.2, pad, sustained, 0.0);
                let upper = if root == 0 { tonic + 7.0 } else { tonic + 12.0 };
                mix.note(start, bar, upper, 0.1, pad, sustained, pad_pan);
            }
            // Accompanied by the melody itself, below.
            Texture::Heterophony => {}
        }
    }

    // Melody: a random walk over the scale, one note per step, with rests; heterophony
    // doubles it an octave below, a little late.
    let step = beat / style.density;
    let n = style.scale.len() as i32;
    let mut degree: i32 = n + rng.random_range(0..5);
    let mut t = 0.0;
    while t < seconds {
        if rng.random_bool(0.85) {
            let velocity = rng.random_range(0.6..1.0);
            let legato = rng.random_range(0.5..1.0);
            let note = degree_note(style, degree);
            mix.note(
                t,
                step * legato,
                note,
                0.3 * velocity,
                lead,
                plucked,
                lead_pan,
            );
            if style.texture == Texture::Heterophony {
                let late = rng.random_range(0.005..0.03);
                let len = step * legato;
                mix.note(
                    t + late,
                    len,
                    note - 12.0,
                    0.2 * velocity,
                    pad,
                    plucked,
                    pad_pan,
                );
            }
        }
        degree = (degree + rng.random_range(-2..=2)).clamp(n / 2, 2 * n);
        t += step;
    }

    if style.drums > 0.0 {
        percussion(&mut mix, style, seconds, rng);
    }
    finish(mix, style, rng)
}

/// The style's percussion over the whole song.
fn percussion(mix: &mut Mix, style: &Style, seconds: f64, rng: &mut ChaCha8Rng) {
    let beat = 60.0 / style.tempo_bpm;
    let beats = (seconds / beat) as usize;
    let level = style.drums;
    for k in 0..beats {
        let at = k as f64 * beat;
        let in_bar = k % style.meter;
        match style.kit {
            Kit::Rock => {
                if k % 2 == 0 || style.four_on_the_floor {
                    mix.drum(at, Drum::Kick, level, rng);
                }
                if in_bar == 1 || in_bar == 3 {
                    mix.drum(at, Drum::Snare, 0.6 * level, rng);
                }
                let hats = style.hats_per_beat;
                for h in 0..hats {
                    let t = at + h as f64 * beat / hats as f64;
                    mix.drum(t, Drum::HiHat, 0.4 * level, rng);
                }
            }
            Kit::Woodblock => {
                let accent = if in_bar == 0 { 1.0 } else { 0.6 };
                mix.drum(at, Drum::Woodblock, accent * level, rng);
            }
            // Aksak 9/8 as 2+2+2+3 (düm on each group's start), or a 4/4 düm-tek pattern.
            Kit::Darbuka => {
                let dum = if style.meter == 9 {
                    matches!(in_bar, 0 | 2 | 4 | 6)
                } else {
                    matches!(in_bar, 0 | 2)
                };
                let stroke = if dum { Drum::Dum } else { Drum::Tek };
                mix.drum(at, stroke, level, rng);
                for h in 1..style.hats_per_beat {
                    let t = at + h as f64 * beat / style.hats_per_beat as f64;
                    mix.drum(t, Drum::Tek, 0.4 * level, rng);
                }
            }
        }
    }
}

/// Distortion, noise floor, band limit, and the song's overall level; interleaves the
/// channels.
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
        if let Some(hz) = style.lowpass_hz {
            let a = (1.0 - (-TAU * hz / SAMPLE_RATE as f64).exp()) as f32;
            let mut y = 0.0;
            for v in ch.iter_mut() {
                y += a * (*v - y);
                *v = y;
            }
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

    const CULTURES: [Culture; 3] = [Culture::Western, Culture::Chinese, Culture::Turkish];

    #[test]
    fn same_seed_same_song() {
        for c in CULTURES {
            let a = render(Quadrant::Q2, c, 2.0, &mut ChaCha8Rng::seed_from_u64(5));
            let b = render(Quadrant::Q2, c, 2.0, &mut ChaCha8Rng::seed_from_u64(5));
            let d = render(Quadrant::Q2, c, 2.0, &mut ChaCha8Rng::seed_from_u64(6));
            assert_eq!(a, b);
            assert_ne!(a, d);
            assert_eq!(a.len(), 2 * 2 * SAMPLE_RATE as usize);
        }
    }

    #[test]
    fn level_is_the_drawn_level() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for c in CULTURES {
            let style = Style::draw(Quadrant::Q4, c, &mut rng);
            let song = render_style(&style, 1.5, &mut rng);
            let peak = song.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!((20.0 * peak.log10() as f64 - style.level_db).abs() < 0.01);
        }
    }

    #[test]
    fn styles_follow_the_quadrant() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            for q in Quadrant::ALL {
                let s = Style::draw(q, Culture::Western, &mut rng);
                assert_eq!(
                    s.scale[2] == 4.0,
                    q.positive_valence(),
                    "third of the scale"
                );
                if q.high_arousal() {
                    assert!(s.attack < 0.03);
                } else {
                    assert!(s.attack >= 0.02 && s.tempo_bpm < 112.0);
                }
                let c = Style::draw(q, Culture::Chinese, &mut rng);
                assert_eq!(c.scale.len(), 5, "pentatonic");
                let t = Style::draw(q, Culture::Turkish, &mut rng);
                if q.high_arousal() {
                    assert!(t.tempo_bpm >= 120.0);
                } else {
                    assert!(t.tempo_bpm < 100.0);
                }
            }
        }
    }

    #[test]
    fn the_cultures_differ_in_tuning_texture_and_production() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let styles: Vec<Style> = (0..200)
            .map(|i| Style::draw(Quadrant::ALL[i % 4], CULTURES[i % 3], &mut rng))
            .collect();
        let of = |c: Culture| styles.iter().filter(move |s| s.culture == c);
        let microtonal = |s: &Style| s.scale.iter().any(|v| v.fract() != 0.0);
        assert!(of(Culture::Western).all(|s| !microtonal(s) && s.lowpass_hz.is_none()));
        assert!(of(Culture::Turkish).any(microtonal));
        assert!(
            of(Culture::Turkish).all(|s| s.texture == Texture::Drone && s.lowpass_hz.is_some())
        );
        assert!(of(Culture::Chinese).all(|s| s.texture == Texture::Heterophony && !microtonal(s)));
        assert!(of(Culture::Turkish).any(|s| s.meter == 9));
    }
}
