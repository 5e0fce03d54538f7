//! The page: a Leptos app that reads a dropped song, analyses it with the bundled model and
//! draws the result. WebAssembly only.
//!
//! - [`engine`]: the device, the model bundle and inference;
//! - [`audio`]: decoding with Web Audio and the shared front-end;
//! - [`circumplex`], [`timeline`], [`filters`]: the views.

pub mod audio;
pub mod circumplex;
pub mod engine;
pub mod filters;
pub mod timeline;

use crate::format::{duration_ms, percent, probabilities_attr};
use engine::{Backend, BackendKind, Engine};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model_format::Quadrant;
use model_format::analysis::{PointSource, SongPrediction};
use model_format::bundle::MAGIC;
use std::rc::Rc;
use timeline::{Timeline, Track};
use wasm_bindgen::JsCast;
use web_sys::File;

/// The model that ships with the site, next to `index.html`.
pub const DEFAULT_MODEL: &str = "default.mermodel";

/// What the page is doing.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Loading(String),
    Ready,
    Working { what: String, done: f64 },
}

/// A song's analysis, as shown.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    /// 1 for the page's first song, then counting up.
    run: u32,
    name: String,
    prediction: SongPrediction,
    track: Track,
    decode_ms: f64,
    inference_ms: f64,
    backend: BackendKind,
}

/// The loaded model, as described on the page.
#[derive(Clone, Debug, PartialEq)]
struct ModelInfo {
    name: String,
    origin: String,
    bands: Vec<(f32, f32)>,
    nyquist: f32,
    /// The model that ships with the site.
    bundled: bool,
}

/// Everything the page holds, handed as one value to the tasks that change it.
#[derive(Clone, Copy)]
struct PageState {
    phase: RwSignal<Phase>,
    /// The device found, and why it is not WebGPU when it is not.
    backend: RwSignal<Option<(BackendKind, Option<String>)>>,
    model: RwSignal<Option<ModelInfo>>,
    outcome: RwSignal<Option<Outcome>>,
    error: RwSignal<Option<String>>,
    engine: StoredValue<Option<Rc<Engine>>, LocalStorage>,
    device: StoredValue<Option<Backend>, LocalStorage>,
    /// The number of the newest dropped file: an older file's task stops at its next step.
    task: StoredValue<u64>,
    /// Analyses stopped by a newer drop.
    superseded: RwSignal<u64>,
    /// The loaded model has rehearsed on a stand-in song ([`Engine::rehearse`]), so the next
    /// song runs at full speed. It stays false for a model whose rehearsal a drop stopped.
    rehearsed: RwSignal<bool>,
}

impl PageState {
    fn new() -> PageState {
        PageState {
            phase: RwSignal::new(Phase::Loading("starting".into())),
            backend: RwSignal::new(None),
            model: RwSignal::new(None),
            outcome: RwSignal::new(None),
            error: RwSignal::new(None),
            engine: StoredValue::new_local(None),
            device: StoredValue::new_local(None),
            task: StoredValue::new(0),
            superseded: RwSignal::new(0),
            rehearsed: RwSignal::new(false),
        }
    }

    /// Whether task `id` is still the newest; counts it as superseded when it is not.
    fn current(self, id: u64) -> bool {
        let current = self.task.get_value() == id;
        if !current {
            self.superseded.update(|n| *n += 1);
        }
        current
    }

    /// Shows `e` and makes the page ready for the next file.
    fn fail(self, e: String) {
        self.error.set(Some(e));
        self.phase.set(Phase::Ready);
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = PageState::new();
    let PageState {
        phase,
        backend,
        model,
        outcome,
        error,
        ..
    } = state;

    // Set up the device, fetch the default model and warm it up while the page shows.
    spawn_local(async move {
        phase.set(Phase::Loading("looking for WebGPU".into()));
        let b = Backend::detect().await;
        backend.set(Some((b.kind, b.fallback_reason.clone())));
        state.device.set_value(Some(b.clone()));
        phase.set(Phase::Loading("loading the model".into()));
        match fetch_bytes(DEFAULT_MODEL).await {
            Ok(bytes) => install(&bytes, DEFAULT_MODEL, b, state).await,
            Err(e) => state.fail(format!("the default model could not be loaded: {e}")),
        }
    });

    // A file dropped while a song is analysed replaces it; only a model being loaded makes
    // the page wait.
    let handle = move |file: File| {
        if matches!(phase.get_untracked(), Phase::Loading(_)) {
            error.set(Some("busy: wait for the model to load".into()));
            return;
        }
        error.set(None);
        phase.set(Phase::Working {
            what: format!("reading {}", file.name()),
            done: 0.0,
        });
        let id = state.task.get_value() + 1;
        state.task.set_value(id);
        spawn_local(analyse(file, id, state));
    };

    let _ = window_event_listener(leptos::ev::dragover, |e| e.prevent_default());
    let _ = window_event_listener(leptos::ev::drop, move |e| {
        e.prevent_default();
        if let Some(f) = e
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|l| l.get(0))
        {
            handle(f);
        }
    });
    let on_pick = move |e: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&e);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            handle(f);
        }
        input.set_value("");
    };

    let status = move || match phase.get() {
        Phase::Loading(what) => ("loading", format!("Getting ready: {what}…"), None),
        Phase::Ready => (
            "ready",
            "Ready: drop a song anywhere on the page.".into(),
            None,
        ),
        Phase::Working { what, done } => ("working", format!("{what}…"), Some(done)),
    };
    let prediction =
        Signal::derive(move || outcome.with(|o| o.as_ref().map(|o| o.prediction.clone())));

    view! {
        <main class="page">
            <header>
                <h1>"Music emotion recognition"</h1>
                <p class="lede">
                    "Which quadrant of Russell's valence–arousal plane does a song sit in? "
                    "Everything runs in this page: the song never leaves your machine."
                </p>
            </header>
            <section class="drop" aria-label="Song input">
                <p>"Drop a song (MP3, OGG, FLAC, WAV, M4A) anywhere on the page, or "</p>
                <label class="picker">
                    "choose a file: "
                    <input id="file" type="file" accept="audio/*,.mermodel" on:change=on_pick />
                </label>
                <p class="hint">"A model bundle from " <code>"trainer export"</code>
                    " (.mermodel) dropped the same way replaces the model."</p>
            </section>
            <p id="status" class="status" role="status" data-state=move || status().0
                data-superseded=move || state.superseded.get()
                data-rehearsed=move || state.rehearsed.get().to_string()>
                {move || status().1}
                {move || status().2.map(|d| view! { <progress max="1" value=d></progress> })}
            </p>
            <p id="error" class="error" role="alert" hidden=move || error.with(Option::is_none)>
                {move || error.get()}
            </p>
            <p id="backend" class="backend" data-backend=move || backend.with(|b| b.as_ref().map(|b| b.0.id()))>
                {move || backend.get().map(|(kind, reason)| match reason {
                    None => format!("Inference runs on {}.", kind.label()),
                    Some(r) => format!("Inference runs on the {}: {r}.", kind.label()),
                })}
            </p>
            <circumplex::Circumplex prediction=prediction />
            {move || outcome.get().map(|o| view! { <SongResult outcome=o /> })}
            {move || model.get().map(|m| view! {
                <section class="model" aria-label="Model">
                    <h2>"Model"</h2>
                    <p id="model-name">{m.name.clone()}</p>
                    <p class="provenance">{m.origin.clone()}</p>
                    {m.bundled.then(|| view! {
                        <p class="provenance">"The bundled model learnt from freely licensed \
                            game soundtracks that nobody listened to: each excerpt's quadrant \
                            comes from how its game plays it, its title's words, or two teacher \
                            models (VibeNet and musicnn) agreeing. It has learnt those sources, \
                            not people's ratings; the paper's corpora cannot be shipped. Drop a \
                            bundle trained on a rated corpus to use that instead."</p>
                    })}
                    {(!m.bands.is_empty()).then(|| view! {
                        <details>
                            <summary>{format!("Its {} learned sinc filters", m.bands.len())}</summary>
                            <filters::Filters bands=m.bands.clone() nyquist=m.nyquist />
                        </details>
                    })}
                </section>
            })}
        </main>
    }
}

/// Probabilities, timings and the timeline of one song.
#[component]
fn SongResult(outcome: Outcome) -> impl IntoView {
    let p = outcome.prediction.clone();
    let rows = Quadrant::ALL
        .iter()
        .map(|&q| {
            let v = p.probabilities[q.index()];
            view! {
                <tr class:predicted=q == p.quadrant>
                    <th scope="row">{format!("{q} ({})", q.emotions())}</th>
                    <td class="bar"><span style=format!("width: {:.1}%", v * 100.0)></span></td>
                    <td class="value">{percent(v)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section id="result" class="result" aria-label="Result"
            data-run=outcome.run
            data-quadrant=p.quadrant.name()
            data-probabilities=probabilities_attr(&p.probabilities)
            data-valence=format!("{:.4}", p.valence)
            data-arousal=format!("{:.4}", p.arousal)
            data-backend=outcome.backend.id()>
            <h2>{format!("{}: {} — {}", outcome.name, p.quadrant, p.quadrant.emotions())}</h2>
            <p class="point">{format!("valence {:+.2}, arousal {:+.2} ({})", p.valence, p.arousal,
                match p.point {
                    PointSource::Regression => "the model's valence–arousal output",
                    PointSource::Probabilities => "the quadrant probabilities",
                })}</p>
            <table class="probabilities">{rows}</table>
            <p class="timing">
                {format!("Decoded in {}, analysed in {} on {}.",
                    duration_ms(outcome.decode_ms), duration_ms(outcome.inference_ms),
                    match outcome.backend {
                        BackendKind::WebGpu => "WebGPU",
                        BackendKind::Cpu => "the CPU",
                    })}
            </p>
            <Timeline track=outcome.track.clone() prediction=p.clone() />
        </section>
    }
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
            .await
            .map_err(|_| format!("{url} could not be fetched"))?
            .unchecked_into();
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buf = response
        .array_buffer()
        .map_err(|_| format!("{url} could not be read"))?;
    let buf = wasm_bindgen_futures::JsFuture::from(buf)
        .await
        .map_err(|_| format!("{url} could not be read"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Loads a bundle onto `backend`, warms it up and makes it the page's model. On failure the
/// previous model stays.
async fn install(bytes: &[u8], name: &str, backend: Backend, state: PageState) {
    state
        .phase
        .set(Phase::Loading("warming up the model".into()));
    engine::yield_to_browser().await;
    let loaded = match Engine::load(bytes, backend) {
        Ok(e) => e,
        Err(e) => return state.fail(format!("{name}: {e}")),
    };
    if let Err(e) = loaded.warm_up().await {
        return state.fail(format!("{name}: {e}"));
    }
    let prov = &loaded.bundle.provenance;
    let origin = if prov.datasets.iter().any(|d| !d.is_empty()) {
        format!(
            "Trained on {} ({}), {} epochs, seed {}; written by trainer {}.",
            prov.datasets.join(", "),
            prov.setup,
            prov.epochs,
            prov.seed,
            prov.code_version
        )
    } else {
        format!("{}; written by trainer {}.", prov.setup, prov.code_version)
    };
    state.model.set(Some(ModelInfo {
        name: format!("{} ({name})", loaded.describe()),
        origin,
        bands: loaded.pass_bands(),
        nyquist: loaded.front_end().sample_rate as f32 / 2.0,
        bundled: name == DEFAULT_MODEL,
    }));
    let loaded = Rc::new(loaded);
    state.engine.set_value(Some(loaded.clone()));
    state.rehearsed.set(false);
    state.phase.set(Phase::Ready);
    // While the page waits for a song, a stand-in one makes the first real one as fast as
    // the rest; a drop stops it. The page shows that it is ready first.
    let id = state.task.get_value();
    engine::yield_to_browser().await;
    match loaded.rehearse(move || state.task.get_value() == id).await {
        Ok(true) => state.rehearsed.set(true),
        Ok(false) => {}
        Err(e) => web_sys::console::warn_1(&format!("the rehearsal failed: {e}").into()),
    }
}

/// A dropped or picked file, task `id`: a model bundle replaces the model, anything else is a
/// song. The task stops quietly after any step once a newer file has been dropped.
async fn analyse(file: File, id: u64, state: PageState) {
    let name = file.name();
    let t0 = now_ms();
    let bytes = audio::read_bytes(&file).await;
    if !state.current(id) {
        return;
    }
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return state.fail(e),
    };
    if bytes.starts_with(MAGIC) {
        let Some(backend) = state.device.get_value() else {
            return state.fail("the page is still starting; try again in a moment".into());
        };
        return install(&bytes, &name, backend, state).await;
    }
    let Some(current) = state.engine.get_value() else {
        return state.fail("no model is loaded; drop a model bundle (.mermodel) first".into());
    };
    state.phase.set(Phase::Working {
        what: format!("decoding {name}"),
        done: 0.0,
    });
    let song = audio::decode(&name, &bytes, current.front_end(), current.features()).await;
    if !state.current(id) {
        return;
    }
    let song = match song {
        Ok(s) => s,
        Err(e) => return state.fail(e),
    };
    let t1 = now_ms();
    let prediction = current
        .predict(&song, |done| {
            let current = state.current(id);
            if current {
                state.phase.set(Phase::Working {
                    what: format!("analysing {name}"),
                    done,
                });
            }
            current
        })
        .await;
    let t2 = now_ms();
    let prediction = match prediction {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(_) if !state.current(id) => return,
        Err(e) => return state.fail(format!("{name}: {e}")),
    };
    let url = web_sys::Url::create_object_url_with_blob(&file).unwrap_or_default();
    let outcome = state.outcome;
    if let Some(old) = outcome.get_untracked() {
        let _ = web_sys::Url::revoke_object_url(&old.track.url);
    }
    let run = outcome.with_untracked(|o| o.as_ref().map_or(1, |o| o.run + 1));
    outcome.set(Some(Outcome {
        run,
        name,
        track: Track::new(url, song.seconds, &song.mono),
        prediction,
        decode_ms: t1 - t0,
        inference_ms: t2 - t1,
        backend: current.backend_kind(),
    }));
    state.phase.set(Phase::Ready);
}
