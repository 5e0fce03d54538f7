//! SincNet against the upstream PyTorch implementation: the parity fixture
//! (`tests/fixtures/sincnet-parity/`, made by `scripts/sincnet-parity-fixture.py`) holds
//! weights in upstream naming and the output of every stage for two inputs.

use burn::prelude::*;
use model_format::sincnet::{SincNetConfig, load_pytorch};
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sincnet-parity")
}

/// The fixture's network: the paper's CNN with fully connected widths of 32.
fn fixture_config() -> SincNetConfig {
    SincNetConfig {
        fc: vec![32, 32, 32],
        ..SincNetConfig::paper(200)
    }
}

struct Activations(Vec<u8>);

impl Activations {
    fn get(&self, name: &str) -> (Vec<f32>, Vec<usize>) {
        let st = safetensors::SafeTensors::deserialize(&self.0).unwrap();
        let t = st
            .tensor(name)
            .unwrap_or_else(|_| panic!("no {name} in the fixture"));
        let v = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (v, t.shape().to_vec())
    }
}

/// Each element within 1e-4 of the reference, relative to the stage's largest magnitude
/// (at least 1). Both sides compute in f32 with different summation orders and `sin`
/// implementations, so exact equality is not expected.
fn assert_close<const D: usize>(name: &str, got: Tensor<D>, want: (Vec<f32>, Vec<usize>)) {
    assert_eq!(got.dims().to_vec(), want.1, "{name}: shape");
    let got: Vec<f32> = got.into_data().try_into_vec_as::<f32>().unwrap();
    let scale = want.0.iter().fold(1f32, |m, v| m.max(v.abs()));
    let (mut worst, mut at) = (0f32, 0);
    for (i, (g, w)) in got.iter().zip(&want.0).enumerate() {
        let err = (g - w).abs();
        if err > worst {
            (worst, at) = (err, i);
        }
    }
    assert!(
        worst <= 1e-4 * scale,
        "{name}: error {worst:e} (scale {scale}) at {at}: got {}, want {}",
        got[at],
        want.0[at]
    );
}

#[test]
fn every_stage_matches_pytorch_on_the_cpu() {
    every_stage_matches_pytorch(&Device::flex());
}

/// On wgpu: a GPU, or Mesa's lavapipe where there is none (as in CI).
#[test]
fn every_stage_matches_pytorch_on_wgpu() {
    let device = Device::wgpu_options()
        .init()
        .expect("a wgpu adapter (without a GPU, install Mesa's lavapipe: mesa-vulkan-drivers)");
    every_stage_matches_pytorch(&device);
}

fn every_stage_matches_pytorch(device: &Device) {
    let dir = fixture_dir();
    let weights = std::fs::read(dir.join("weights.safetensors"))
        .unwrap_or_else(|e| panic!("the parity fixture in {}: {e}", dir.display()));
    let acts = Activations(std::fs::read(dir.join("activations.safetensors")).unwrap());
    let config = fixture_config();
    let mut model = config.init(device).unwrap();
    load_pytorch(&mut model, &config, weights).unwrap();
    let model = model.valid();

    let (input, shape) = acts.get("input");
    let x = Tensor::<2>::from_data(TensorData::new(input, [shape[0], shape[1]]), device);
    let s = model.forward_stages(x);
    assert_close(
        "sinc_filters",
        model.cnn.sinc.filters(),
        acts.get("sinc_filters"),
    );
    assert_close("cnn_ln0", s.cnn_ln0, acts.get("cnn_ln0"));
    assert_close("sinc_conv", s.sinc_conv, acts.get("sinc_conv"));
    for (i, b) in s.cnn_blocks.into_iter().enumerate() {
        assert_close(
            &format!("cnn_block{i}"),
            b,
            acts.get(&format!("cnn_block{i}")),
        );
    }
    assert_close("cnn_out", s.cnn_out, acts.get("cnn_out"));
    assert_close("dnn_ln0", s.dnn_ln0, acts.get("dnn_ln0"));
    for (i, l) in s.dnn_layers.into_iter().enumerate() {
        assert_close(
            &format!("dnn_layer{i}"),
            l,
            acts.get(&format!("dnn_layer{i}")),
        );
    }
    let log_probs = s.log_probs;
    let classes: Vec<i64> = log_probs
        .clone()
        .argmax(1)
        .into_data()
        .try_into_vec_as()
        .unwrap();
    assert_ne!(
        classes[0], classes[1],
        "the fixture's two inputs are different classes"
    );
    assert_close("log_probs", log_probs, acts.get("log_probs"));
}

#[test]
fn fresh_filters_are_mel_spaced_band_passes() {
    let device = Device::flex();
    let model = SincNetConfig::paper(200).init(&device).unwrap();
    let (low, high) = model.cnn.sinc.band_edges();
    let low: Vec<f32> = low.into_data().try_into_vec_as().unwrap();
    let high: Vec<f32> = high.into_data().try_into_vec_as().unwrap();
    assert_eq!(low.len(), 80);
    assert!(
        (low[0] - 80.0).abs() < 1e-3,
        "30 Hz + the 50 Hz minimum: {}",
        low[0]
    );
    assert!(low.windows(2).all(|w| w[1] > w[0]));
    // The top filter's high cut-off is clamped to Nyquist.
    assert!(high.iter().all(|&h| h <= 8000.0) && high[79] == 8000.0);
    // Bandwidths grow with frequency, as mel spacing does.
    assert!(high[78] - low[78] > 3.5 * (high[0] - low[0]));
    let f: Vec<f32> = model
        .cnn
        .sinc
        .filters()
        .into_data()
        .try_into_vec_as()
        .unwrap();
    assert!(
        f.chunks(251).all(|k| (k[125] - 1.0).abs() < 1e-5),
        "centre taps are 1"
    );
}
